//! This instance's copies of what lists of people read on every request — the [`Card`]s of
//! the people shown, whom each viewer blocked or was blocked by, and whom they talked with —
//! and of what a person's
//! own pages read ([`PeopleCache::derived`]: `/api/me`'s row, labels and album).
//!
//! A page of the hot list or of nearby shows twenty people; reading their rows was most of
//! what such a request cost, and they are the same few thousand rows for everyone. So each
//! instance keeps them, and forgets them on the changes that make them wrong:
//!
//! - every change goes through `people::changed`, which forgets this instance's copy before it
//!   returns (so the instance that made a change never shows the old one), and publishes a
//!   route on the hub that every other instance's cache hears ([`Listener`]) and forgets by;
//! - a read that was under way when something was forgotten does not keep what it read (an
//!   epoch, moved by every forget under the same lock that keeps): it may have read the row
//!   before the change committed;
//! - when the hub says routes may have been lost (the subscription to Redis was restored, or
//!   fell behind), everything is forgotten;
//! - nothing is kept longer than [`KEPT_FOR`], for the one loss nothing reports: a publish to
//!   Redis that failed while this instance's subscription did not.
//!
//! So another instance shows a change as soon as the hub delivers it there (the time of one
//! Redis pub/sub message), and within [`KEPT_FOR`] if Redis lost it.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use tokio::sync::watch;

use super::card::{self, Card, KeptCard};
use super::graph::{self, People};
use crate::codes::AppError;
use crate::realtime::hub::{Listener, Route};
use keeping::{Epoch, Held, keep, lock, read_through, to_drop};

/// The longest a copy is kept without being read again.
pub const KEPT_FOR: Duration = Duration::from_secs(60);
/// The most cards (and, apart, block lists, contact lists and known pairs) one instance keeps: past it an eighth of them
/// goes, whichever the map yields first. A card is about 200 bytes.
pub const CAPACITY: usize = 100_000;
/// The most people whose derived values (`/api/me`'s row, labels and album: a few KB at
/// most) one instance keeps, made room for the same way.
pub const DERIVED_CAPACITY: usize = 20_000;

/// How long this instance answers the top of the hot list's ranking, and the count of public
/// people, from what it last read of them: a busy list asks the store once a second, not once
/// a request. A change made on this instance is seen at once (its writer forgets the glance),
/// one made on another within this.
pub const GLANCE_FOR: Duration = Duration::from_secs(1);

/// See the [module documentation](self).
pub struct PeopleCache {
    kept: Mutex<Kept>,
    glances: Mutex<Glances>,
    /// Moves on every forget, for tests that wait for one to arrive.
    forgets: watch::Sender<u64>,
}

struct Kept {
    /// Moves on every forget: a read keeps what it read only if the epoch did not move
    /// meanwhile.
    epoch: u64,
    cards: Map<i64, Held<Arc<KeptCard>>>,
    hidden: Map<i64, Held<Arc<People>>>,
    /// Whom each viewer exchanged a message with.
    contacts: Map<i64, Held<Arc<People>>>,
    /// Pairs (lower id first) known to have exchanged a message: a contact, once made, stays
    /// (an erasure takes the person away), so their next messages need tell no one.
    talked: HashSet<(i64, i64), Fast>,
    /// What features built from one person's own rows, by person, then by type.
    derived: Map<i64, Held<Derived>>,
}

/// What was last read of the ranking and of the public count, and when.
#[derive(Default)]
struct Glances {
    /// Moves on every forget, like [`Kept::epoch`].
    epoch: u64,
    /// By (start, count) of the read.
    ranking: Map<(usize, usize), Glance>,
    public_count: Option<(Option<u64>, Instant)>,
}

/// A window of the ranking as read, and when.
type Glance = (Arc<Vec<i64>>, Instant);

/// The most ranking reads one instance remembers (deep pages read other windows).
const RANKING_WINDOWS: usize = 64;

/// The hasher of what is kept: foldhash, several times faster than the standard SipHash on the
/// integer keys every list page looks up dozens of (SipHash was about 5% of a nearby request's
/// CPU). Its seed is random per process, and the keys are ids the database assigned.
type Fast = foldhash::fast::RandomState;
type Map<K, V> = HashMap<K, V, Fast>;

/// Cards by user id, as a read of the ones not kept answers them.
type Cards = HashMap<i64, Arc<KeptCard>, Fast>;

/// One person's derived values, one per type (a handful at most).
type Derived = Vec<(TypeId, Arc<dyn Any + Send + Sync>)>;

impl Epoch for Kept {
    fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl Epoch for Glances {
    fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl Default for PeopleCache {
    fn default() -> Self {
        PeopleCache {
            kept: Mutex::new(Kept {
                epoch: 0,
                cards: Map::default(),
                hidden: Map::default(),
                contacts: Map::default(),
                talked: HashSet::default(),
                derived: Map::default(),
            }),
            glances: Mutex::default(),
            forgets: watch::Sender::new(0),
        }
    }
}

impl PeopleCache {
    fn kept(&self) -> MutexGuard<'_, Kept> {
        lock(&self.kept)
    }

    /// The cards of the people with these ids, in their order: `None` where no account has
    /// the id (erased, banned and hidden people have cards too: whoever shows them asks
    /// `people::visibility`); those not kept are read in one query.
    ///
    /// In order, not by id: a list walks its ids in order and keeps a few of them, and a map
    /// built and emptied again was 4–5% of a nearby or hot list page (callgrind).
    pub async fn cards(
        &self,
        db: &impl ConnectionTrait,
        ids: &[i64],
    ) -> Result<Vec<Option<Arc<KeptCard>>>, AppError> {
        let (mut found, missing, epoch) = self.look(ids);
        if missing.is_empty() {
            return Ok(found);
        }
        // Boxed: see `keeping::read_through`.
        let read = Box::pin(card::by_id::<Card>(db, missing)).await?;
        let read = self.keep_cards(epoch, read);
        for (slot, id) in found.iter_mut().zip(ids) {
            if slot.is_none() {
                *slot = read.get(id).cloned();
            }
        }
        Ok(found)
    }

    /// The kept cards of `ids` in their order, the ids not kept, and the epoch the read of
    /// those starts at.
    fn look(&self, ids: &[i64]) -> (Vec<Option<Arc<KeptCard>>>, Vec<i64>, u64) {
        let now = Instant::now();
        let mut missing = Vec::new();
        let kept = self.kept();
        let found = ids
            .iter()
            .map(|id| {
                let card = kept.cards.get(id).and_then(|c| c.fresh(now));
                if card.is_none() {
                    missing.push(*id);
                }
                card
            })
            .collect();
        (found, missing, kept.epoch)
    }

    /// Keeps the cards `read` since `epoch` unless something was forgotten meanwhile (the
    /// read may have seen a row from before the change that made it forget).
    fn keep_cards(&self, epoch: u64, read: HashMap<i64, Card>) -> Cards {
        let now = Instant::now();
        let mut kept = self.kept();
        let keeps = kept.epoch == epoch;
        read.into_iter()
            .map(|(id, card)| {
                let card = Arc::new(KeptCard::new(card));
                if keeps {
                    keep(&mut kept.cards, id, Arc::clone(&card), now, CAPACITY);
                }
                (id, card)
            })
            .collect()
    }

    /// Everyone `me` blocked or who blocked `me` (`graph::hidden_from`, kept).
    pub async fn hidden_from(
        &self,
        db: &impl ConnectionTrait,
        me: i64,
    ) -> Result<Arc<People>, AppError> {
        self.people_of(|k| &mut k.hidden, me, || graph::hidden_from(db, me))
            .await
    }

    /// Everyone who exchanged a message with `me` (`graph::contacts_of`, kept).
    pub async fn contacts_of(
        &self,
        db: &impl ConnectionTrait,
        me: i64,
    ) -> Result<Arc<People>, AppError> {
        self.people_of(|k| &mut k.contacts, me, || graph::contacts_of(db, me))
            .await
    }

    /// Whether this instance knows `a` and `b` as contacts: it heard of a message between
    /// them (`Route::Contacted`), or keeps `a`'s contacts with `b` among them.
    pub fn have_talked(&self, a: i64, b: i64) -> bool {
        let now = Instant::now();
        let kept = self.kept();
        if kept.talked.contains(&(a.min(b), a.max(b))) {
            return true;
        }
        let held = kept.contacts.get(&a).and_then(|c| c.fresh(now));
        held.is_some_and(|contacts| contacts.contains(&b))
    }

    /// `me`'s set in the map `which` picks, kept; `read` reads it when it is not.
    async fn people_of<Fut>(
        &self,
        which: fn(&mut Kept) -> &mut Map<i64, Held<Arc<People>>>,
        me: i64,
        read: impl FnOnce() -> Fut,
    ) -> Result<Arc<People>, AppError>
    where
        Fut: Future<Output = Result<People, AppError>>,
    {
        let now = Instant::now();
        read_through(
            &self.kept,
            |kept| which(kept).get(&me).and_then(|h| h.fresh(now)),
            || async { Ok(Arc::new(read().await?)) },
            |kept, found| keep(which(kept), me, found, now, CAPACITY),
        )
        .await
    }

    /// What a feature builds from one person's own rows — `/api/me`'s row and VIP deadline,
    /// their labels and album — kept until that person changes (anything [`forget_card`]
    /// forgets with their card): `read` runs when no `T` of `user_id` is kept, and what it
    /// read is kept unless something was forgotten meanwhile.
    ///
    /// [`forget_card`]: PeopleCache::forget_card
    pub async fn derived<T, Fut>(
        &self,
        user_id: i64,
        read: impl FnOnce() -> Fut,
    ) -> Result<Arc<T>, AppError>
    where
        T: Any + Send + Sync,
        Fut: Future<Output = Result<T, AppError>>,
    {
        let now = Instant::now();
        read_through(
            &self.kept,
            |kept| {
                let mine = kept.derived.get(&user_id).filter(|d| d.is_fresh(now))?;
                let (_, value) = mine.value.iter().find(|(t, _)| *t == TypeId::of::<T>())?;
                Arc::clone(value).downcast::<T>().ok()
            },
            || async { Ok(Arc::new(read().await?)) },
            |kept, value| {
                let stored: Arc<dyn Any + Send + Sync> = value;
                match kept.derived.get_mut(&user_id).filter(|d| d.is_fresh(now)) {
                    Some(held) => {
                        held.value.retain(|(t, _)| *t != TypeId::of::<T>());
                        held.value.push((TypeId::of::<T>(), stored));
                    }
                    None => keep(
                        &mut kept.derived,
                        user_id,
                        vec![(TypeId::of::<T>(), stored)],
                        now,
                        DERIVED_CAPACITY,
                    ),
                }
            },
        )
        .await
    }

    fn glances(&self) -> MutexGuard<'_, Glances> {
        lock(&self.glances)
    }

    /// `count` members of the hot list's ranking from `start`, as read by `read` at most
    /// [`GLANCE_FOR`] ago.
    pub async fn ranking<Fut>(
        &self,
        start: usize,
        count: usize,
        read: impl FnOnce() -> Fut,
    ) -> Result<Arc<Vec<i64>>, AppError>
    where
        Fut: Future<Output = Result<Vec<i64>, AppError>>,
    {
        let now = Instant::now();
        read_through(
            &self.glances,
            |glances| {
                let (ids, at) = glances.ranking.get(&(start, count))?;
                (now.duration_since(*at) < GLANCE_FOR).then(|| Arc::clone(ids))
            },
            || async { Ok(Arc::new(read().await?)) },
            |glances, ids| {
                if glances.ranking.len() >= RANKING_WINDOWS {
                    glances.ranking.clear();
                }
                glances.ranking.insert((start, count), (ids, now));
            },
        )
        .await
    }

    /// The count of public people as `read` gave it at most [`GLANCE_FOR`] ago.
    pub async fn public_count<Fut>(
        &self,
        read: impl FnOnce() -> Fut,
    ) -> Result<Option<u64>, AppError>
    where
        Fut: Future<Output = Result<Option<u64>, AppError>>,
    {
        let now = Instant::now();
        read_through(
            &self.glances,
            |glances| {
                let (count, at) = glances.public_count?;
                (now.duration_since(at) < GLANCE_FOR).then_some(count)
            },
            read,
            |glances, count| glances.public_count = Some((count, now)),
        )
        .await
    }

    /// Forgets the glances at the ranking and the public count (this instance moved them).
    pub fn forget_glances(&self) {
        let mut glances = self.glances();
        glances.epoch += 1;
        glances.ranking.clear();
        glances.public_count = None;
    }

    /// Forgets `user_id`'s card and what was derived from their rows (their profile,
    /// standing, authority, labels, album or membership changed).
    pub fn forget_card(&self, user_id: i64) {
        self.forget(|kept| {
            kept.cards.remove(&user_id);
            kept.derived.remove(&user_id);
        });
    }

    /// Forgets whom `a` and `b` are hidden from (a block between them began or ended).
    pub fn forget_blocks(&self, a: i64, b: i64) {
        self.forget(|kept| {
            kept.hidden.remove(&a);
            kept.hidden.remove(&b);
        });
    }

    /// Forgets whom `a` and `b` talked with, and remembers that they did (a message between
    /// them was committed).
    pub fn forget_contacts(&self, a: i64, b: i64) {
        self.forget(|kept| {
            kept.contacts.remove(&a);
            kept.contacts.remove(&b);
            let pair = (a.min(b), a.max(b));
            if kept.talked.len() >= CAPACITY && !kept.talked.contains(&pair) {
                for gone in to_drop(kept.talked.iter(), CAPACITY) {
                    kept.talked.remove(&gone);
                }
            }
            kept.talked.insert(pair);
        });
    }

    /// Forgets everything.
    pub fn forget_all(&self) {
        self.forget_glances();
        self.forget(|kept| {
            kept.cards.clear();
            kept.hidden.clear();
            kept.contacts.clear();
            kept.derived.clear();
        });
    }

    fn forget(&self, what: impl FnOnce(&mut Kept)) {
        {
            let mut kept = self.kept();
            kept.epoch += 1;
            what(&mut kept);
        }
        self.forgets.send_modify(|n| *n += 1);
    }

    /// Counts the forgets so far: a test awaits a change of it to know a route from another
    /// instance arrived.
    pub fn forgets(&self) -> watch::Receiver<u64> {
        self.forgets.subscribe()
    }

    /// How many cards are kept (for tests and metrics).
    pub fn cards_kept(&self) -> usize {
        self.kept().cards.len()
    }
}

impl Listener for PeopleCache {
    fn delivered(&self, route: &Route) {
        match route {
            // A ban or an erasure closes the user's connections; a logout changes no card
            // but is told the same way, and forgetting one card costs one read.
            Route::Close(user, _) | Route::Changed(user) => self.forget_card(*user),
            Route::Blocked(a, b, _) => self.forget_blocks(*a, *b),
            Route::Contacted(a, b) => self.forget_contacts(*a, *b),
            Route::User(_)
            | Route::Live(_)
            | Route::Opened(..)
            | Route::Closed(..)
            | Route::Moved(..) => {}
        }
    }

    fn missed(&self) {
        self.forget_all();
    }
}

mod keeping;
mod shown;
#[cfg(test)]
mod tests;
