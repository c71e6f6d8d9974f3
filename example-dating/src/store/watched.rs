//! A store that does what another does, with a hook before every round trip: the one
//! wrapper that counts them — per request in production (`round_trips`), per route in the
//! budget test — and that the fault tests use to refuse chosen commands.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Quota, Ranking, Store, StoreError, Write};

/// What a hook sees: the command's name and its (first) key.
pub type Hook = Box<dyn Fn(&'static str, &str) -> Result<(), StoreError> + Send + Sync>;

/// `inner`, with `hook` called before each round trip; a hook's error is the command's.
pub struct Watched {
    /// The store doing the work.
    pub inner: Arc<dyn Store>,
    hook: Hook,
}

impl Watched {
    /// `inner`, watched by `hook`.
    pub fn new(inner: Arc<dyn Store>, hook: Hook) -> Self {
        Watched { inner, hook }
    }
}

#[async_trait]
impl Store for Watched {
    async fn set_nx(&self, k: &str, v: &str, ttl: Duration) -> Result<bool, StoreError> {
        (self.hook)("set_nx", k)?;
        self.inner.set_nx(k, v, ttl).await
    }
    async fn mark_each_and_get(
        &self,
        keys: &[&str],
        ttl: Duration,
        read: Option<&str>,
    ) -> Result<(Vec<bool>, Option<String>), StoreError> {
        // One round trip: one hook, named by its first key.
        (self.hook)("mark_each_and_get", keys.first().copied().unwrap_or(""))?;
        self.inner.mark_each_and_get(keys, ttl, read).await
    }
    async fn set(&self, k: &str, v: &str, ttl: Duration) -> Result<(), StoreError> {
        (self.hook)("set", k)?;
        self.inner.set(k, v, ttl).await
    }
    async fn get(&self, k: &str) -> Result<Option<String>, StoreError> {
        (self.hook)("get", k)?;
        self.inner.get(k).await
    }
    async fn del(&self, k: &str) -> Result<bool, StoreError> {
        (self.hook)("del", k)?;
        self.inner.del(k).await
    }
    async fn del_if(&self, k: &str, v: &str) -> Result<bool, StoreError> {
        (self.hook)("del_if", k)?;
        self.inner.del_if(k, v).await
    }
    async fn incr(&self, k: &str, ttl: Duration) -> Result<i64, StoreError> {
        (self.hook)("incr", k)?;
        self.inner.incr(k, ttl).await
    }
    async fn add_existing(&self, m: &[(&str, i64)]) -> Result<Vec<Option<i64>>, StoreError> {
        (self.hook)("add_existing", m.first().map_or("", |(k, _)| k))?;
        self.inner.add_existing(m).await
    }
    async fn take(
        &self,
        q: &[Quota<'_>],
        then: Option<Write<'_>>,
    ) -> Result<Option<Duration>, StoreError> {
        (self.hook)("take", q.first().map_or("", |q| q.key))?;
        self.inner.take(q, then).await
    }
    async fn spent(&self, q: Quota<'_>) -> Result<Option<Duration>, StoreError> {
        (self.hook)("spent", q.key)?;
        self.inner.spent(q).await
    }
    async fn ttl(&self, k: &str) -> Result<Option<Duration>, StoreError> {
        (self.hook)("ttl", k)?;
        self.inner.ttl(k).await
    }
    async fn rank_hit(&self, r: &Ranking, d: i64, m: i64, now: i64) -> Result<(), StoreError> {
        (self.hook)("rank_hit", "")?;
        self.inner.rank_hit(r, d, m, now).await
    }
    async fn rank_load(
        &self,
        r: &Ranking,
        h: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        (self.hook)("rank_load", "")?;
        self.inner.rank_load(r, h, now).await
    }
    async fn rank_take(
        &self,
        r: &Ranking,
        h: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        (self.hook)("rank_take", "")?;
        self.inner.rank_take(r, h, now).await
    }
    async fn rank_boost(&self, r: &Ranking, m: i64, u: i64, now: i64) -> Result<(), StoreError> {
        (self.hook)("rank_boost", "")?;
        self.inner.rank_boost(r, m, u, now).await
    }
    async fn rank_expire(
        &self,
        r: &Ranking,
        f: i64,
        now: i64,
        b: usize,
    ) -> Result<usize, StoreError> {
        (self.hook)("rank_expire", "")?;
        self.inner.rank_expire(r, f, now, b).await
    }
    async fn rank_range(&self, r: &Ranking, s: usize, n: usize) -> Result<Vec<i64>, StoreError> {
        (self.hook)("rank_range", "")?;
        self.inner.rank_range(r, s, n).await
    }
    async fn rank_clear(&self, r: &Ranking) -> Result<(), StoreError> {
        (self.hook)("rank_clear", "")?;
        self.inner.rank_clear(r).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        (self.hook)("ping", "")?;
        self.inner.ping().await
    }
    fn name(&self) -> &'static str {
        self.inner.name()
    }
}
