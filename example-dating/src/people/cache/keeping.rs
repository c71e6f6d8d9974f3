//! How the cache keeps a copy: when it is fresh ([`Held`]), how a full map makes room
//! ([`keep`], [`to_drop`]), and the one rule every read goes through ([`read_through`]): what
//! a forget overtook is answered, never kept.

use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::{KEPT_FOR, Map};
use crate::codes::AppError;

/// A copy and until when it is fresh.
pub(super) struct Held<T> {
    pub(super) value: T,
    /// When it was read, plus [`KEPT_FOR`]: checking a copy is one comparison — a page checks
    /// dozens, and subtracting instants for each was 2% of a nearby page (callgrind).
    until: Instant,
}

impl<T> Held<T> {
    pub(super) fn is_fresh(&self, now: Instant) -> bool {
        now < self.until
    }
}

impl<T: Clone> Held<T> {
    pub(super) fn fresh(&self, now: Instant) -> Option<T> {
        self.is_fresh(now).then(|| self.value.clone())
    }
}

/// Keeps `value` under `key`, making room first (at most `capacity` keys).
pub(super) fn keep<T>(
    map: &mut Map<i64, Held<T>>,
    key: i64,
    value: T,
    at: Instant,
    capacity: usize,
) {
    if map.len() >= capacity && !map.contains_key(&key) {
        for key in to_drop(map.keys(), capacity) {
            map.remove(&key);
        }
    }
    let until = at + KEPT_FOR;
    map.insert(key, Held { value, until });
}

/// What a full collection gives up to make room: an eighth of it, whichever entries its
/// iteration yields first — so a full cache loses a little at a time, never everything at once.
pub(super) fn to_drop<'a, K: Copy + 'a>(
    keys: impl Iterator<Item = &'a K>,
    capacity: usize,
) -> Vec<K> {
    keys.take(capacity / 8).copied().collect()
}

/// What is kept under a lock whose epoch every forget moves.
pub(super) trait Epoch {
    fn epoch(&self) -> u64;
}

pub(super) fn lock<G>(mutex: &Mutex<G>) -> MutexGuard<'_, G> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The one rule every copy here is read through: `look` under the lock; when it finds nothing,
/// note the epoch, `read` without the lock (a database or store read), and `keep` what was
/// read only if no forget moved the epoch meanwhile — the read may have seen a row from before
/// the change that made it forget. (The cards, read for many people at once, follow it in
/// [`look`](super::PeopleCache::look) and [`keep_cards`](super::PeopleCache::keep_cards).)
pub(super) async fn read_through<G: Epoch, T: Clone, Fut>(
    mutex: &Mutex<G>,
    look: impl FnOnce(&mut G) -> Option<T>,
    read: impl FnOnce() -> Fut,
    keep: impl FnOnce(&mut G, T),
) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let epoch = {
        let mut kept = lock(mutex);
        if let Some(found) = look(&mut kept) {
            return Ok(found);
        }
        kept.epoch()
    };
    // Made on a miss only, and boxed: a read's future (a query's) is kilobytes, and held in
    // this one it would make every caller's future as large — moved on every request, found
    // or not (a nearby page's future was 9 KB, most of it an unread query for blocks).
    let value = Box::pin(read()).await?;
    let mut kept = lock(mutex);
    if kept.epoch() == epoch {
        keep(&mut kept, value.clone());
    }
    Ok(value)
}
