//! The store: short-lived shared state — nonces, SMS codes, counters, token cache, the hot
//! list's ranking.
//!
//! One trait, two implementations with the same semantics: Redis (fred) for production and
//! several instances, and an in-process map for the embedded default. `tests` holds the suite
//! both must pass.

mod hold;
mod memory;
mod ranking;
mod redis;
#[cfg(test)]
pub(crate) mod tests;
pub mod watched;

use std::time::Duration;

use async_trait::async_trait;

pub use hold::Hold;
pub use memory::MemoryStore;
pub use ranking::Ranking;
pub use redis::RedisStore;
pub use watched::Watched;

/// The store could not be reached or answered nonsense: the request fails closed with 50301.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store unavailable: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Text a client chose (a nonce, a name), made safe to put in a key. In Redis Cluster the part
/// of a key between its first `{` and the next `}` picks the node that holds it: a nonce of
/// `{x}` would let a client put every key it makes on one node of its choosing. Braces are
/// written `%7B` and `%7D`, and `%` as `%25` so that two texts stay two keys.
///
/// ```
/// use example_dating::store::key_part;
/// assert_eq!(key_part("34C2AF"), "34C2AF");
/// assert_eq!(key_part("{node}"), "%7Bnode%7D");
/// assert_ne!(key_part("%7B"), key_part("{"));
/// ```
pub fn key_part(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['{', '}', '%']) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out.into()
}

/// A rate limit's counter: at most `limit` takes per `window`, a fixed window that starts at
/// the first take and ends with the counter.
#[derive(Clone, Copy, Debug)]
pub struct Quota<'a> {
    /// The counter's key.
    pub key: &'a str,
    /// Takes allowed in one window.
    pub limit: i64,
    /// The window's length.
    pub window: Duration,
}

/// A key [`Store::take`] sets in the same step once every quota was taken (an SMS send's
/// code): nothing is written when a quota is spent.
#[derive(Clone, Copy, Debug)]
pub struct Write<'a> {
    /// The key, on the quotas' Redis Cluster slot.
    pub key: &'a str,
    /// Its value, replacing any.
    pub value: &'a str,
    /// When it expires.
    pub ttl: Duration,
}

/// Shared short-lived state. Keys are relative: each implementation prefixes them.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Sets `key` only if it does not exist; `true` when it was set. Expires after `ttl`.
    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError>;
    /// Marks each of `keys` for `ttl` unless it is marked, and reads the key `read` — in one
    /// round trip: which marks are new, in order, and `read`'s value. A mark is a replay check
    /// (a signed request's nonce and signature, `auth::signature`): it holds nothing but its
    /// existence, and nothing but this method sees it — the in-process store keeps marks
    /// apart from its keys, as fingerprints. Each mark is atomic, the whole is not, so they
    /// may live on different Redis Cluster slots: a signed request's two marks and its
    /// token's cached session cost one round trip, not three.
    async fn mark_each_and_get(
        &self,
        keys: &[&str],
        ttl: Duration,
        read: Option<&str>,
    ) -> Result<(Vec<bool>, Option<String>), StoreError>;
    /// Sets `key`, replacing any value; expires after `ttl`.
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError>;
    /// The value of `key`, if it exists and has not expired.
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Deletes `key`; `true` when it existed.
    async fn del(&self, key: &str) -> Result<bool, StoreError>;
    /// Deletes `key` only while it holds `value`, in one atomic step; `true` when it did. A
    /// lock's owner releases it so: once its expiry passed and someone else took the key, the
    /// late owner's release leaves the new holder's alone.
    async fn del_if(&self, key: &str, value: &str) -> Result<bool, StoreError>;
    /// Increments the counter `key` and returns the new value; a counter created by this call
    /// expires after `ttl`. Atomic: a counter never outlives its window, even if the process
    /// dies mid-call.
    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, StoreError>;
    /// Adds each delta to its counter where the counter exists, keeping its expiry, in one
    /// round trip: the new values, `None` (and nothing written) where a key does not exist — a
    /// kept count is moved where it is known, never started from a move where it is not. On
    /// Redis Cluster the keys must share one slot (one hash tag).
    async fn add_existing(&self, moves: &[(&str, i64)]) -> Result<Vec<Option<i64>>, StoreError>;
    /// The time `key` has left, if it exists and expires.
    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError>;
    /// Takes one from each quota, all or none, in one atomic step: when one is spent nothing
    /// is written and the answer is how long until that quota's window ends; else `None`, and
    /// `then` (if any) is set in the same step. On Redis Cluster every key must live on one
    /// slot: give them one hash tag (`{…}`).
    async fn take(
        &self,
        quotas: &[Quota<'_>],
        then: Option<Write<'_>>,
    ) -> Result<Option<Duration>, StoreError>;
    /// How long until `quota` has room again (`None`: it has room now). Writes nothing.
    async fn spent(&self, quota: Quota<'_>) -> Result<Option<Duration>, StoreError>;
    /// Counts a hit for `member` on `day` in `rank` (see [`Ranking`] for the semantics).
    async fn rank_hit(
        &self,
        rank: &Ranking,
        day: i64,
        member: i64,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Counts many hits at once, `(day, member, hits)`: what a rebuild loads.
    async fn rank_load(
        &self,
        rank: &Ranking,
        hits: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError>;
    /// Takes back hits counted before, `(day, member, hits)` (an erased account's footprints);
    /// a day that expired already, or a count that holds fewer, takes back what is there.
    async fn rank_take(
        &self,
        rank: &Ranking,
        hits: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError>;
    /// Boosts `member` of `rank` until `until` (Unix seconds), replacing an earlier end.
    async fn rank_boost(
        &self,
        rank: &Ranking,
        member: i64,
        until: i64,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Drops a bounded batch (at most about `budget` entries) of ended boosts and of hits on
    /// days before `first_day`; returns how many it dropped, 0 once nothing is left.
    async fn rank_expire(
        &self,
        rank: &Ranking,
        first_day: i64,
        now: i64,
        budget: usize,
    ) -> Result<usize, StoreError>;
    /// Members of `rank` from position `start` (0 is the top), at most `count`.
    async fn rank_range(
        &self,
        rank: &Ranking,
        start: usize,
        count: usize,
    ) -> Result<Vec<i64>, StoreError>;
    /// Forgets everything `rank` holds (before a rebuild).
    async fn rank_clear(&self, rank: &Ranking) -> Result<(), StoreError>;
    /// Answers when the store is reachable.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Which backend this is, for logs and `/readyz`.
    fn name(&self) -> &'static str;
}
