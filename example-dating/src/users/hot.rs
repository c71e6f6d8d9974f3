//! The hot list, `GET /api/user/hot/list`: people ranked by the visits they received in the
//! last seven days, a VIP's visits counting twice, then everyone else, newest first.
//!
//! The footprints (`visitor` rows) are the truth; the ranking in the store is derived from
//! them and kept as things happen (`people::footprints`: a new footprint counts at once, a
//! membership that starts boosts at once, an erasure takes its footprints back). The indexes
//! task (`indexes.rs`) runs [`upkeep`]: it takes back the days that left the window and the
//! memberships that ended, in bounded batches, and rebuilds the ranking from the database
//! when the store does not hold it (an in-process store at start, a flushed Redis). So a page costs the page: the ranking is read from the top, and
//! the people on it are loaded and filtered (`people::visibility`: public, not the caller, not
//! blocked) until the page is full. The people and the caller's blocks come from this
//! instance's copies (`people::cache`), so a page of people already seen reads no rows.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::try_join_all;
use kotori::{Json, Res, State};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::auth::Caller;
use crate::clock;
use crate::codes::AppError;
use crate::db::entity::commerce::vip_info;
use crate::db::entity::users::user_info;
use crate::envelope::{Answer, answer};
use crate::paging::{Listing, Page};
use crate::params::Params;
use crate::people::card::{KeptCard, Row};
use crate::people::footprints::{self, HOT, first_day};
use crate::people::{Card, Relation, may_see, visibility};
use crate::state::AppState;
use crate::store::{Hold, Store};

/// The store key set once the ranking was loaded from the database: its absence means the
/// store lost the ranking, and the next upkeep rebuilds it.
pub const BUILT: &str = "hot:built";
/// Held while one instance rebuilds, so two never load the same visits twice.
const BUILDING: &str = "hot:building";
/// Entries one expiry call takes back: small enough that Redis never stalls on it.
const EXPIRE_BATCH: usize = 1_000;
/// How many store commands loading the ranking keeps in flight.
const IN_FLIGHT: usize = 64;
/// Ranked people read ahead of a page of `need`, for the ones filtering leaves out (a quarter
/// more: reading too few costs another round, too many costs every request).
fn margin(need: usize) -> usize {
    need / 4 + 4
}
/// The most people one read asks the store or the database for.
const MAX_CHUNK: usize = 1_000;

/// Loads the ranking from the footprints and memberships, unless another instance is at it
/// (then `false`). Visits made while it loads may be missed until the next rebuild.
pub async fn rebuild(db: &DatabaseConnection, store: &dyn Store) -> Result<bool, AppError> {
    // A load slower than the hold lets another instance in, whose hold this one's end must
    // not lift: a `Hold` is given back only by its holder.
    let Some(hold) = Hold::take(store, BUILDING, Duration::from_secs(600)).await? else {
        return Ok(false);
    };
    let loaded = load(db, store).await;
    hold.give_back(store).await?;
    loaded?;
    Ok(true)
}

async fn load(db: &DatabaseConnection, store: &dyn Store) -> Result<(), AppError> {
    let now = clock::now();
    let hits = footprints::counted_all(db, now).await?;
    let vips = vip_info::Entity::find()
        .filter(vip_info::Column::Deadline.gt(now))
        .all(db)
        .await?;
    store.rank_clear(&HOT).await?;
    for batch in vips.chunks(IN_FLIGHT) {
        let boosts = batch
            .iter()
            .map(|vip| store.rank_boost(&HOT, vip.user_id, vip.deadline, now));
        try_join_all(boosts).await?;
    }
    // Batches of 2,000: on Redis a round trip each; the in-process store answers at once, so
    // the thread is given back after each (about 4 ms of work). In one go, two million day
    // counts held a thread that serves requests for 1.6 s, every request queued on it waiting.
    for batch in hits.chunks(2_000) {
        store.rank_load(&HOT, batch, now).await?;
        tokio::task::yield_now().await;
    }
    store
        .set(BUILT, "1", Duration::from_secs(365 * 86_400))
        .await?;
    tracing::info!(
        day_counts = hits.len(),
        vips = vips.len(),
        "hot list ranking loaded"
    );
    Ok(())
}

/// One round of upkeep: rebuild if the store lost the ranking, then take back everything that
/// left the window or ended. `true` when the ranking is there (it was, or this round loaded
/// it); `false` while another instance loads it.
pub async fn upkeep(db: &DatabaseConnection, store: &dyn Store) -> Result<bool, AppError> {
    if store.get(BUILT).await?.is_none() && !rebuild(db, store).await? {
        return Ok(false);
    }
    let now = clock::now();
    while store
        .rank_expire(&HOT, first_day(now), now, EXPIRE_BATCH)
        .await?
        > 0
    {}
    Ok(true)
}

/// Public profiles, most visited first, then the newest: the people `people::visibility` calls
/// public, less the caller and anyone blocked either way.
pub async fn hot(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Answer<Listing<Arc<KeptCard>>>>, AppError> {
    let page = Page::from_params(&params)?;
    let hidden = state
        .people()
        .hidden_from(&state.db, caller.user_id)
        .await?;
    // Public, and the caller may see them: not the caller, not blocked either way.
    let shown = |u: &Card| {
        u.user_id != caller.user_id
            && visibility::is_public(u)
            && may_see(
                caller.user_id,
                u,
                Relation {
                    blocked: hidden.contains(&u.user_id),
                    ..Relation::STRANGER
                },
            )
    };
    let mut walk = Walk::new(page);
    let need = walk.need;

    // The ranked, from the top, in chunks that grow while filtering leaves the page short.
    let mut ranked = Vec::new();
    let (mut start, mut chunk) = (0, (need + margin(need)).min(MAX_CHUNK));
    // The caller and the blocked come with the first chunk's query: the total leaves out
    // those of them the count of public people includes.
    let mut left_out = None;
    let exhausted = loop {
        let store = &state.store;
        let read = || async move { Ok(store.rank_range(&HOT, start, chunk).await?) };
        let ids = state.people().ranking(start, chunk, read).await?;
        start += ids.len();
        let excluded: Vec<i64> = match left_out {
            None => hidden.iter().copied().chain([caller.user_id]).collect(),
            Some(_) => Vec::new(),
        };
        let wanted: Vec<i64> = ids.iter().chain(&excluded).copied().collect();
        let mut users = state.people().cards(&state.db, &wanted).await?;
        let excluded_cards = users.split_off(ids.len());
        left_out.get_or_insert_with(|| {
            let counted = |card: &&Arc<KeptCard>| visibility::is_public(*card);
            excluded_cards.iter().flatten().filter(counted).count() as u64
        });
        for (id, user) in ids.iter().zip(users) {
            ranked.push(*id);
            if let Some(user) = user.filter(|u| shown(u)) {
                walk.pass(user);
            }
        }
        if walk.done() || ids.len() < chunk {
            break ids.len() < chunk;
        }
        chunk = (chunk * 2).min(MAX_CHUNK);
    };
    // Then everyone nobody visited, newest first.
    if !walk.done() && exhausted {
        let ranked: HashSet<i64> = ranked.into_iter().collect();
        let mut before = i64::MAX;
        loop {
            let users = Card::select()
                .filter(visibility::public())
                .filter(user_info::Column::UserId.lt(before))
                .order_by_desc(user_info::Column::UserId)
                .limit(chunk as u64)
                .into_model::<Card>()
                .all(&state.db)
                .await?;
            let read = users.len();
            for user in users {
                before = user.user_id;
                if !ranked.contains(&user.user_id) && shown(&user) {
                    walk.pass(Arc::new(KeptCard::new(user)));
                }
            }
            if walk.done() || read < chunk {
                break;
            }
        }
    }
    // Everyone was seen when the page is short: then the total is exact.
    let total = if !walk.done() {
        walk.passed as u64
    } else {
        // Before the first count is kept: what the walk saw (one past this page).
        let count = || visibility::public_count(state.lists());
        let counted = state
            .people()
            .public_count(count)
            .await?
            .map_or(0, |n| n.saturating_sub(left_out.unwrap_or(0)));
        Ord::max(counted, walk.passed as u64)
    };
    let mut list = walk.page;
    list.truncate(page.size as usize);
    Ok(answer(page.listing(total, list)))
}

/// The people shown so far, in order: only those on the requested page are kept (a deep page
/// costs the walk to it, not the memory of everyone before it).
struct Walk {
    skip: usize,
    /// Everyone up to the page's end, and one more to tell whether there is a next.
    need: usize,
    passed: usize,
    page: Vec<Arc<KeptCard>>,
}

impl Walk {
    fn new(page: Page) -> Self {
        let skip = page.offset() as usize;
        Walk {
            skip,
            need: skip + page.size as usize + 1,
            passed: 0,
            page: Vec::with_capacity(page.size as usize + 1),
        }
    }

    fn pass(&mut self, user: Arc<KeptCard>) {
        if self.passed >= self.skip && self.passed < self.need {
            self.page.push(user);
        }
        self.passed += 1;
    }

    fn done(&self) -> bool {
        self.passed >= self.need
    }
}

/// What hot reads and answers, for `/openapi.json`: public profiles.
pub fn hot_doc() -> kotori::openapi::Declares {
    crate::openapi::paged_of(crate::people::Card::schema())
}
