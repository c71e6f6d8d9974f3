//! The in-process store: the embedded default, with Redis's semantics for one process.
//!
//! Keys live in 64 shards, each behind its own mutex, so a request waits only for the requests
//! that touch the same shard, and a shard's growth (a rehash) stalls one 64th of the keys.
//! Replay marks live apart, as fingerprints (`marks`): every signed request leaves two.
//! A sweeper takes one shard of each at a time and drops what expired: without it memory
//! would grow for ever.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::ranking::Board;
use super::{Quota, Ranking, Store, StoreError, Write};
use marks::Marks;

mod marks;

pub(super) const SHARDS: usize = 64;

/// Keys with optional expiry, and rankings. Time is tokio's, so tests can move it with
/// `tokio::time::advance`.
pub struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    marks: Marks,
    /// The shard the sweeper visits next.
    next_sweep: AtomicUsize,
    rankings: Mutex<HashMap<&'static str, Board>>,
}

/// foldhash, not the standard SipHash: every signed request hashes two keys of 50-odd bytes,
/// twice (the shard, then the key in it). Each map and the shard choice have their own random
/// seed, so the keys of one shard do not crowd its map's buckets.
pub(super) type RandomState = foldhash::fast::RandomState;
type Shard = HashMap<String, (String, Option<Instant>), RandomState>;

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::default(),
            marks: Marks::default(),
            next_sweep: AtomicUsize::new(0),
            rankings: Mutex::default(),
        }
    }
}

/// A panic while holding a lock cannot leave a half-written entry: recover the map.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Keeps the entries of `map` that `keep`; a map that shrank a lot gives its memory back.
/// Returns how many went.
pub(super) fn sweep<K: Eq + std::hash::Hash, V, H: BuildHasher>(
    map: &mut HashMap<K, V, H>,
    keep: impl Fn(&V) -> bool,
) -> usize {
    let before = map.len();
    map.retain(|_, value| keep(value));
    if map.capacity() > 64 && map.len() < map.capacity() / 4 {
        map.shrink_to_fit();
    }
    before - map.len()
}

/// The live entry of `key` in `shard`, dropping it if it expired.
fn live<'s>(shard: &'s mut Shard, key: &str) -> Option<&'s mut (String, Option<Instant>)> {
    let expired = matches!(shard.get(key), Some((_, Some(at))) if *at <= Instant::now());
    if expired {
        shard.remove(key);
    }
    shard.get_mut(key)
}

impl MemoryStore {
    /// An empty store. Call [`MemoryStore::sweep_every`] to drop expired keys in the
    /// background (the server does).
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        lock(&self.shards[self.shard_index(key)])
    }

    fn shard_index(&self, key: &str) -> usize {
        self.hasher.hash_one(key) as usize % SHARDS
    }

    /// How many live keys starting with `start` the store holds (rankings aside).
    pub fn key_count(&self, start: &str) -> usize {
        let now = Instant::now();
        self.shards
            .iter()
            .map(|shard| {
                lock(shard)
                    .iter()
                    .filter(|(key, (_, at))| key.starts_with(start) && at.is_none_or(|at| at > now))
                    .count()
            })
            .sum()
    }

    /// Drops the expired keys and marks of the next shard; returns how many. A full pass takes
    /// 64 calls.
    pub fn sweep_one_shard(&self) -> usize {
        let index = self.next_sweep.fetch_add(1, Ordering::Relaxed) % SHARDS;
        let now = Instant::now();
        let keys = sweep(&mut lock(&self.shards[index]), |(_, at)| {
            at.is_none_or(|at| at > now)
        });
        keys + self.marks.sweep_shard(index, now)
    }

    /// How many replay marks are held, expired or not (for tests).
    pub fn marks_len(&self) -> usize {
        self.marks.len()
    }

    /// Runs `change` on the ranking `rank` (an empty one if it has none yet), under its lock.
    fn board<R>(&self, rank: &Ranking, change: impl FnOnce(&mut Board) -> R) -> R {
        change(lock(&self.rankings).entry(rank.name).or_default())
    }

    /// How many keys are held, expired or not (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sweeps one shard every `every / 64`, so every key is looked at once per `every`, while
    /// the store lives (the task holds it weakly and ends with it).
    pub fn sweep_every(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let store: Weak<MemoryStore> = Arc::downgrade(self);
        let tick = every / SHARDS as u32;
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick.max(Duration::from_millis(1)));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(store) = store.upgrade() else { return };
                store.sweep_one_shard();
            }
        })
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut shard = self.shard(key);
        if live(&mut shard, key).is_some() {
            return Ok(false);
        }
        shard.insert(
            key.to_owned(),
            (value.to_owned(), Some(Instant::now() + ttl)),
        );
        Ok(true)
    }

    async fn mark_each_and_get(
        &self,
        keys: &[&str],
        ttl: Duration,
        read: Option<&str>,
    ) -> Result<(Vec<bool>, Option<String>), StoreError> {
        let now = Instant::now();
        let set = keys
            .iter()
            .map(|key| self.marks.mark(key, ttl, now))
            .collect();
        let read = match read {
            Some(key) => self.get(key).await?,
            None => None,
        };
        Ok((set, read))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        self.shard(key).insert(
            key.to_owned(),
            (value.to_owned(), Some(Instant::now() + ttl)),
        );
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(live(&mut self.shard(key), key).map(|(v, _)| v.clone()))
    }

    async fn del(&self, key: &str) -> Result<bool, StoreError> {
        let mut shard = self.shard(key);
        let existed = live(&mut shard, key).is_some();
        shard.remove(key);
        Ok(existed)
    }

    async fn del_if(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        let mut shard = self.shard(key);
        let held = live(&mut shard, key).is_some_and(|(v, _)| v == value);
        if held {
            shard.remove(key);
        }
        Ok(held)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, StoreError> {
        let mut shard = self.shard(key);
        let next = match live(&mut shard, key) {
            Some((value, _)) => {
                let n = value
                    .parse::<i64>()
                    .map_err(|_| StoreError(format!("{key} is not a counter")))?
                    + 1;
                *value = n.to_string();
                n
            }
            None => {
                shard.insert(key.to_owned(), ("1".to_owned(), Some(Instant::now() + ttl)));
                1
            }
        };
        Ok(next)
    }

    async fn add_existing(&self, moves: &[(&str, i64)]) -> Result<Vec<Option<i64>>, StoreError> {
        let mut counts = Vec::with_capacity(moves.len());
        for &(key, delta) in moves {
            let mut shard = self.shard(key);
            let Some((value, _)) = live(&mut shard, key) else {
                counts.push(None);
                continue;
            };
            let n = value
                .parse::<i64>()
                .map_err(|_| StoreError(format!("{key} is not a counter")))?
                + delta;
            *value = n.to_string();
            counts.push(Some(n));
        }
        Ok(counts)
    }

    async fn take(
        &self,
        quotas: &[Quota<'_>],
        then: Option<Write<'_>>,
    ) -> Result<Option<Duration>, StoreError> {
        // Every shard the quotas (and the write) touch, locked in index order (no two takes
        // can deadlock), so the check, the increments and the write are one step.
        let mut indexes: Vec<usize> = quotas
            .iter()
            .map(|q| q.key)
            .chain(then.map(|w| w.key))
            .map(|key| self.shard_index(key))
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        let mut guards: Vec<(usize, MutexGuard<'_, Shard>)> = indexes
            .into_iter()
            .map(|i| (i, lock(&self.shards[i])))
            .collect();
        let shard_of = |key: &str| -> usize {
            let index = self.shard_index(key);
            guards
                .iter()
                .position(|(i, _)| *i == index)
                .expect("locked above")
        };
        let now = Instant::now();
        let positions: Vec<usize> = quotas.iter().map(|q| shard_of(q.key)).collect();
        let write_at = then.map(|w| shard_of(w.key));
        for (quota, &at) in quotas.iter().zip(&positions) {
            if let Some((value, expires)) = live(&mut guards[at].1, quota.key) {
                let n = value.parse::<i64>().unwrap_or(i64::MAX);
                if n >= quota.limit {
                    let left = expires.map_or(quota.window, |e| e.saturating_duration_since(now));
                    return Ok(Some(left));
                }
            }
        }
        for (quota, &at) in quotas.iter().zip(&positions) {
            let shard = &mut guards[at].1;
            match live(shard, quota.key) {
                Some((value, _)) => {
                    let n = value.parse::<i64>().unwrap_or(0) + 1;
                    *value = n.to_string();
                }
                None => {
                    shard.insert(
                        quota.key.to_owned(),
                        ("1".to_owned(), Some(now + quota.window)),
                    );
                }
            }
        }
        if let (Some(write), Some(at)) = (then, write_at) {
            let shard = &mut guards[at].1;
            shard.insert(
                write.key.to_owned(),
                (write.value.to_owned(), Some(now + write.ttl)),
            );
        }
        Ok(None)
    }

    async fn spent(&self, quota: Quota<'_>) -> Result<Option<Duration>, StoreError> {
        let mut shard = self.shard(quota.key);
        let now = Instant::now();
        Ok(match live(&mut shard, quota.key) {
            Some((value, expires)) if value.parse::<i64>().unwrap_or(i64::MAX) >= quota.limit => {
                Some(expires.map_or(quota.window, |e| e.saturating_duration_since(now)))
            }
            _ => None,
        })
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        Ok(live(&mut self.shard(key), key)
            .and_then(|(_, at)| *at)
            .map(|at| at.saturating_duration_since(Instant::now())))
    }

    async fn rank_hit(
        &self,
        rank: &Ranking,
        day: i64,
        member: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.board(rank, |b| b.hit(rank, day, member, 1, now));
        Ok(())
    }

    async fn rank_load(
        &self,
        rank: &Ranking,
        hits: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        self.board(rank, |b| {
            for &(day, member, count) in hits {
                b.hit(rank, day, member, count, now);
            }
        });
        Ok(())
    }

    async fn rank_take(
        &self,
        rank: &Ranking,
        hits: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        self.board(rank, |b| {
            for &(day, member, count) in hits {
                b.take(rank, day, member, count, now);
            }
        });
        Ok(())
    }

    async fn rank_boost(
        &self,
        rank: &Ranking,
        member: i64,
        until: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.board(rank, |b| b.boost(rank, member, until, now));
        Ok(())
    }

    async fn rank_expire(
        &self,
        rank: &Ranking,
        first_day: i64,
        now: i64,
        budget: usize,
    ) -> Result<usize, StoreError> {
        Ok(self.board(rank, |b| b.expire(rank, first_day, now, budget)))
    }

    async fn rank_range(
        &self,
        rank: &Ranking,
        start: usize,
        count: usize,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(self.board(rank, |b| b.range(start, count)))
    }

    async fn rank_clear(&self, rank: &Ranking) -> Result<(), StoreError> {
        lock(&self.rankings).remove(rank.name);
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests;
