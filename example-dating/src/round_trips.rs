//! Round trips per request: how many database statements and store round trips each request
//! made, as two histograms `/metrics` serves (`dating_round_trips_per_request`).
//!
//! The database and the store do not see the request: they are counted by the task they run
//! in. A root loader ([`begin`]) opens a count for the request's task, the store's hook
//! ([`store_round_trip`], on `store::Watched`) and the database's metric callback
//! ([`statement`]) add to it, and the root's after hook ([`end`]) takes it out and records it.
//! The count is also closed when the request is dropped unanswered (its client went away):
//! [`begin`]'s [`Counting`] is a resource of the request, and closes it on drop — an abandoned
//! request leaves nothing behind.
//! hyper serves an HTTP/1 connection's requests one at a time in its task and gives each
//! HTTP/2 stream a task of its own, so a task holds one request at a time; work a request
//! spawns (a WebSocket's life, a background recount) runs in other tasks and is not counted
//! — nor is a task nobody opened a count for (the index loader).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, PoisonError};

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use tokio::task::Id;

/// Bucket upper bounds: round trips are few, and a count past 32 is worth seeing.
const BUCKETS: [f64; 9] = [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0, 32.0];

/// Open counts are sharded by task: requests on different threads rarely share a lock.
const SHARDS: usize = 16;

#[derive(Default, Clone, Copy)]
struct Count {
    statements: u32,
    store: u32,
}

struct Counts {
    open: [Mutex<HashMap<Id, Count>>; SHARDS],
    histograms: Family<[(&'static str, &'static str); 1], Histogram>,
    /// Requests measured (for tests: the histograms' own counts are behind their encoder).
    measured: AtomicU64,
}

static COUNTING: LazyLock<Counts> = LazyLock::new(|| Counts {
    open: std::array::from_fn(|_| Mutex::new(HashMap::new())),
    histograms: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
    measured: AtomicU64::new(0),
});

fn shard(id: Id) -> &'static Mutex<HashMap<Id, Count>> {
    use std::hash::BuildHasher;
    static HASHER: LazyLock<std::hash::RandomState> = LazyLock::new(Default::default);
    &COUNTING.open[HASHER.hash_one(id) as usize % SHARDS]
}

fn add(to: impl FnOnce(&mut Count)) {
    let Some(id) = tokio::task::try_id() else {
        return;
    };
    let mut open = shard(id).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(count) = open.get_mut(&id) {
        to(count);
    }
}

/// The open count of one request; dropping it closes the count (recorded or not).
#[derive(Debug)]
pub struct Counting(Option<Id>);

impl Drop for Counting {
    fn drop(&mut self) {
        if let Some(id) = self.0 {
            shard(id)
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
        }
    }
}

/// Opens the count of the request running in this task, until [`end`] or the returned
/// [`Counting`] is dropped.
pub fn begin() -> Counting {
    let id = tokio::task::try_id();
    if let Some(id) = id {
        let mut open = shard(id).lock().unwrap_or_else(PoisonError::into_inner);
        open.insert(id, Count::default());
    }
    Counting(id)
}

/// How many counts are open, in this process.
pub fn open() -> usize {
    COUNTING
        .open
        .iter()
        .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
        .sum()
}

/// A database statement, made by this task.
pub fn statement() {
    add(|c| c.statements += 1);
}

/// A store round trip, made by this task.
pub fn store_round_trip() {
    add(|c| c.store += 1);
}

/// Closes this task's count and records it; `(statements, store round trips)`, if one was
/// open.
pub fn end() -> Option<(u32, u32)> {
    let id = tokio::task::try_id()?;
    let count = shard(id)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&id)?;
    let c = &*COUNTING;
    c.histograms
        .get_or_create(&[("kind", "database")])
        .observe(f64::from(count.statements));
    c.histograms
        .get_or_create(&[("kind", "store")])
        .observe(f64::from(count.store));
    c.measured.fetch_add(1, Ordering::Relaxed);
    Some((count.statements, count.store))
}

/// Registers the histograms in `registry` (as `dating_round_trips_per_request`).
pub fn register(registry: &mut prometheus_client::registry::Registry) {
    // Both series from the start, at zero: a rate over them is never "no data".
    for kind in ["database", "store"] {
        drop(COUNTING.histograms.get_or_create(&[("kind", kind)]));
    }
    registry.register(
        "dating_round_trips_per_request",
        "Database statements (kind=database) and store round trips (kind=store) one request made.",
        COUNTING.histograms.clone(),
    );
}

/// How many requests were measured so far, in this process.
pub fn measured() -> u64 {
    COUNTING.measured.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_counts_its_own_round_trips_and_an_abandoned_one_leaves_nothing() {
        let answered = tokio::spawn(async {
            let counting = begin();
            statement();
            store_round_trip();
            store_round_trip();
            let counted = end();
            drop(counting);
            counted
        });
        assert_eq!(answered.await.unwrap(), Some((1, 2)));
        // Abandoned: the request's resources are dropped, `end` never runs.
        let before = open();
        let abandoned = tokio::spawn(async move {
            let counting = begin();
            statement();
            assert_eq!(open(), before + 1);
            drop(counting);
        });
        abandoned.await.unwrap();
        assert_eq!(open(), before);
        // Outside a count, nothing is recorded.
        assert_eq!(
            tokio::spawn(async {
                statement();
                end()
            })
            .await
            .unwrap(),
            None
        );
    }
}
