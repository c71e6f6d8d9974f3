//! The derived indexes — the geo index of locations and the hot list's ranking — kept by one
//! background task per instance, so the server listens at once.
//!
//! Both are derived from rows of the database. The geo index lives in this instance
//! (`people::geo`): the task loads it at start, and again when the hub may have lost a move.
//! The ranking lives in the store: a cold start (an in-process store, a new Redis prefix) or a
//! store that lost it (a flushed Redis, a failover to an empty replica) finds it missing, and
//! one instance loads it (a lock in the store) while the others wait for its marker. Loading
//! must not delay the first accept. The task looks every few seconds; until both are there the
//! instance is not ready (`/readyz` answers 503, a load balancer sends its traffic elsewhere),
//! `/healthz` answers from the first second, nearby answers 50301 (the index is the only way
//! to search by distance) and the hot list lists the newest people first (the database alone
//! can do that). A Redis that is down at start is waited for the same way.

use std::time::Duration;

use crate::people::visibility;
use crate::state::AppState;
use crate::users::hot;

/// How often the task looks at the store.
const TICK: Duration = Duration::from_secs(5);
/// How soon it looks again while an index is missing (another instance may be loading it).
const RETRY: Duration = Duration::from_secs(1);

/// Starts the task that loads the indexes and keeps them, for as long as the state lives.
pub fn keep(state: &AppState) -> tokio::task::JoinHandle<()> {
    let weak = state.downgrade();
    tokio::spawn(async move {
        loop {
            let Some(state) = weak.upgrade() else { return };
            let ready = round(&state).await;
            drop(state);
            tokio::time::sleep(if ready { TICK } else { RETRY }).await;
        }
    })
}

/// One look: load what is missing, take back what left the hot list's window. `true` when
/// both indexes are there.
pub async fn round(state: &AppState) -> bool {
    // Nothing to load from before the schema is there (a database down at start).
    if !state.schema().is_ready() {
        return false;
    }
    let was = state.places().loaded() && state.hot_ranking().is_ready();
    // A failed reload leaves the index that was loaded answering (and stale: tried again).
    if let Err(e) = state.places().upkeep(&state.background_db).await {
        tracing::warn!(error = %e, "the geo index could not be loaded; retrying");
    }
    let geo = state.places().loaded();
    let hot = match hot::upkeep(&state.background_db, &*state.store).await {
        Ok(there) => there,
        Err(e) => {
            tracing::warn!(error = %e, "the hot list ranking is not loaded; retrying");
            false
        }
    };
    // The count of public people (the hot list's total) is counted in the background when it
    // is missing or stale: asking is what sets the count going.
    if let Err(e) = visibility::public_count(state.lists()).await {
        tracing::warn!(error = ?e, "could not look at the count of public people");
    }
    state.hot_ranking().set(hot);
    if geo && hot && !was {
        tracing::info!(store = state.store.name(), "indexes ready");
    }
    geo && hot
}
