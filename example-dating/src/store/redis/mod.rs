//! The Redis store (fred 10, a connection pool): what several instances share — one server or a
//! Redis Cluster (`redis-cluster://`). Every command and script touches a single key, so the keys
//! shard freely — except those a caller gives one hash tag to move together (quotas, kept
//! counts: `scripts`) and a ranking's (see `rank`); see
//! docs/src/dating/deployment.md.

use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::*;
use fred::types::config::{Config as RedisConfig, ReconnectPolicy};
use fred::types::{Builder, Expiration, InfoKind, SetOptions};
use futures_util::TryStreamExt;

use super::{Quota, Ranking, Store, StoreError, Write};

mod rank;
mod scripts;

use scripts::{ADD_EXISTING, DEL_IF, DELETE_PREFIX, INCR_WITH_TTL, Lua, SPENT, TAKE};

/// How long one command may take before the request fails with 50301, unless configured
/// (`REDIS_TIMEOUT_MS`). Short: a store that does not answer must not hold requests (and their
/// connections) hostage.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// A pool of connections to one Redis, every key under `prefix`.
pub struct RedisStore {
    pool: Pool,
    prefix: String,
}

fn fail(e: Error) -> StoreError {
    StoreError(e.to_string())
}

impl RedisStore {
    /// Connects to `url` with the default command timeout and two connections; see
    /// [`RedisStore::connect_with`].
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        RedisStore::connect_with(url, prefix, COMMAND_TIMEOUT, 2).await
    }

    /// Connects to `url` with `connections` connections; a command taking longer than
    /// `timeout` fails. A Redis that is down at start is not fatal: the pool keeps
    /// reconnecting (every 200 ms), requests fail with 50301 meanwhile — at once, without
    /// waiting for a timeout, while the connection is known to be down — and `/readyz` says so.
    ///
    /// fred writes every command queued on a connection in one write, so fewer connections
    /// mean fewer writes for both sides: on a one-core server, one connection against four
    /// cut sendsms's CPU per request by 7–15% (docs/src/benchmarks.md).
    pub async fn connect_with(
        url: &str,
        prefix: &str,
        timeout: Duration,
        connections: usize,
    ) -> Result<Self, StoreError> {
        let mut config = RedisConfig::from_url(url).map_err(fail)?;
        // Apply the reconnection policy to the first connection too: a Redis that starts after
        // the server is picked up when it comes (fred gives up on it by default).
        config.fail_fast = false;
        let pool = Builder::from_config(config)
            .with_performance_config(|perf| perf.default_command_timeout = timeout)
            .with_connection_config(|conn| {
                conn.connection_timeout = timeout;
                conn.internal_command_timeout = timeout;
                // Fail a command rather than queue it across reconnections.
                conn.max_command_attempts = 1;
            })
            .set_policy(ReconnectPolicy::new_constant(0, 200))
            .build_pool(connections.max(1))
            .map_err(fail)?;
        pool.connect();
        if tokio::time::timeout(timeout, pool.wait_for_connect())
            .await
            .is_err()
        {
            tracing::warn!(
                url,
                "Redis is not reachable yet; requests will fail with 50301 until it is"
            );
        }
        if !pool.next().is_clustered() && pool.is_connected() {
            // A plain URL to a cluster node would answer MOVED to most keys: say what to do.
            let info: String = pool.info(Some(InfoKind::Cluster)).await.map_err(fail)?;
            if info.contains("cluster_enabled:1") {
                return Err(StoreError(format!(
                    "{url} is a Redis Cluster node: use redis-cluster://{}",
                    url.trim_start_matches("redis://")
                )));
            }
        }
        Ok(RedisStore {
            pool,
            prefix: prefix.to_owned(),
        })
    }

    /// Fails at once while the connection is known to be down (fred reconnects meanwhile):
    /// a request should not wait out a timeout to learn what is already known.
    fn ready(&self) -> Result<(), StoreError> {
        if self.pool.is_connected() {
            Ok(())
        } else {
            Err(StoreError("Redis is down (reconnecting)".into()))
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Deletes every key under this store's prefix (tests clean up with it) — on every primary
    /// of a cluster.
    pub async fn clear(&self) -> Result<u64, StoreError> {
        let pattern = format!("{}*", self.prefix);
        let client = self.pool.next();
        if !client.is_clustered() {
            return client
                .eval(DELETE_PREFIX.text(), Vec::<String>::new(), vec![pattern])
                .await
                .map_err(fail);
        }
        // A script sees one node only: scan every primary, then delete key by key.
        let keys: Vec<Key> = client
            .scan_cluster_buffered(pattern, Some(1000), None)
            .try_collect()
            .await
            .map_err(fail)?;
        let mut deleted = 0;
        for key in keys {
            let n: u64 = client.del(key).await.map_err(fail)?;
            deleted += n;
        }
        Ok(deleted)
    }

    /// How many keys starting with `start` live in this store, on every primary (what a
    /// flood left behind is measured with it).
    pub async fn key_count(&self, start: &str) -> Result<usize, StoreError> {
        let pattern = format!("{}{start}*", self.prefix);
        let client = self.pool.next();
        let keys: Vec<Key> = if client.is_clustered() {
            client
                .scan_cluster_buffered(pattern, Some(1000), None)
                .try_collect()
                .await
                .map_err(fail)?
        } else {
            client
                .scan_buffered(pattern, Some(1000), None)
                .try_collect()
                .await
                .map_err(fail)?
        };
        Ok(keys.len())
    }

    /// Runs `script` by its SHA-1 (`EVALSHA`); a Redis — or a Cluster node — that does not
    /// hold it yet is sent its text (`EVAL`, which keeps it there for the next time).
    async fn run<R, V>(&self, script: &Lua, keys: Vec<String>, args: V) -> Result<R, StoreError>
    where
        R: FromValue,
        V: TryInto<Value> + Send,
        V::Error: Into<Error> + Send,
    {
        let args: Value = args.try_into().map_err(|e| fail(e.into()))?;
        match self
            .pool
            .evalsha(script.sha(), keys.clone(), args.clone())
            .await
        {
            Err(e) if e.details().starts_with("NOSCRIPT") => self
                .pool
                .eval(script.text(), keys, args)
                .await
                .map_err(fail),
            done => done.map_err(fail),
        }
    }

    /// Closes the connections.
    pub async fn quit(&self) {
        let _ = self.pool.quit().await;
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.ready()?;
        let set: Option<String> = self
            .pool
            .set(
                self.key(key),
                value,
                Some(Expiration::PX(ttl.as_millis() as i64)),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(fail)?;
        Ok(set.is_some())
    }

    async fn mark_each_and_get(
        &self,
        keys: &[&str],
        ttl: Duration,
        read: Option<&str>,
    ) -> Result<(Vec<bool>, Option<String>), StoreError> {
        self.ready()?;
        if keys.is_empty() && read.is_none() {
            return Ok((Vec::new(), None));
        }
        // The commands are sent at once on one connection and awaited together. Not a fred
        // pipeline: fred 10 writes each command of a pipeline by itself (the router's queue
        // is empty behind each), so two `SET NX` and a `GET` were two or three writes each
        // way. Commands that reach a connection's router together are written in one
        // (`should_send`: nothing queued behind the last). On a cluster each goes to its
        // slot's node.
        let client = self.pool.next();
        let ttl = Some(Expiration::PX(ttl.as_millis().max(1) as i64));
        let sets = futures_util::future::try_join_all(keys.iter().map(|key| {
            client.set::<Option<String>, _, _>(
                self.key(key),
                "1",
                ttl.clone(),
                Some(SetOptions::NX),
                false,
            )
        }));
        let get = async {
            match read {
                Some(key) => client.get::<Option<String>, _>(self.key(key)).await,
                None => Ok(None),
            }
        };
        let (set, read) = futures_util::future::try_join(sets, get)
            .await
            .map_err(fail)?;
        Ok((set.iter().map(Option::is_some).collect(), read))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        self.ready()?;
        let _: Value = self
            .pool
            .set(
                self.key(key),
                value,
                Some(Expiration::PX(ttl.as_millis() as i64)),
                None,
                false,
            )
            .await
            .map_err(fail)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.ready()?;
        self.pool.get(self.key(key)).await.map_err(fail)
    }

    async fn del(&self, key: &str) -> Result<bool, StoreError> {
        self.ready()?;
        let n: i64 = self.pool.del(self.key(key)).await.map_err(fail)?;
        Ok(n > 0)
    }

    async fn del_if(&self, key: &str, value: &str) -> Result<bool, StoreError> {
        self.ready()?;
        let n: i64 = self
            .run(&DEL_IF, vec![self.key(key)], vec![value.to_owned()])
            .await?;
        Ok(n > 0)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, StoreError> {
        self.ready()?;
        self.run(
            &INCR_WITH_TTL,
            vec![self.key(key)],
            vec![ttl.as_millis() as i64],
        )
        .await
    }

    async fn add_existing(&self, moves: &[(&str, i64)]) -> Result<Vec<Option<i64>>, StoreError> {
        self.ready()?;
        let keys: Vec<String> = moves.iter().map(|(k, _)| self.key(k)).collect();
        let deltas: Vec<i64> = moves.iter().map(|&(_, d)| d).collect();
        // `{found, value}` per key: a count may be anything, so no value can mean "none".
        let pairs: Vec<Vec<i64>> = self.run(&ADD_EXISTING, keys, deltas).await?;
        Ok(pairs
            .into_iter()
            .map(|pair| match pair[..] {
                [1, n] => Some(n),
                _ => None,
            })
            .collect())
    }

    async fn take(
        &self,
        quotas: &[Quota<'_>],
        then: Option<Write<'_>>,
    ) -> Result<Option<Duration>, StoreError> {
        self.ready()?;
        let mut keys: Vec<String> = quotas.iter().map(|q| self.key(q.key)).collect();
        let mut args: Vec<String> = Vec::with_capacity(2 * quotas.len() + 3);
        args.push(quotas.len().to_string());
        for q in quotas {
            args.push(q.limit.to_string());
            args.push(q.window.as_millis().to_string());
        }
        if let Some(then) = then {
            keys.push(self.key(then.key));
            args.push(then.value.to_owned());
            args.push(then.ttl.as_millis().max(1).to_string());
        }
        let left: i64 = self.run(&TAKE, keys, args).await?;
        Ok((left >= 0).then(|| Duration::from_millis(left as u64)))
    }

    async fn spent(&self, quota: Quota<'_>) -> Result<Option<Duration>, StoreError> {
        self.ready()?;
        let args = vec![quota.limit, quota.window.as_millis() as i64];
        let left: i64 = self.run(&SPENT, vec![self.key(quota.key)], args).await?;
        Ok((left >= 0).then(|| Duration::from_millis(left as u64)))
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        self.ready()?;
        let ms: i64 = self.pool.pttl(self.key(key)).await.map_err(fail)?;
        // -2: no such key; -1: no expiry.
        Ok((ms >= 0).then(|| Duration::from_millis(ms as u64)))
    }

    async fn rank_hit(
        &self,
        rank: &Ranking,
        day: i64,
        member: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.hits(rank, &[(day, member, 1)], now).await
    }

    async fn rank_load(
        &self,
        rank: &Ranking,
        hits: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        self.hits(rank, hits, now).await
    }

    async fn rank_take(
        &self,
        rank: &Ranking,
        hits: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        self.take(rank, hits, now).await
    }

    async fn rank_boost(
        &self,
        rank: &Ranking,
        member: i64,
        until: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.boost(rank, member, until, now).await
    }

    async fn rank_expire(
        &self,
        rank: &Ranking,
        first_day: i64,
        now: i64,
        budget: usize,
    ) -> Result<usize, StoreError> {
        self.expire(rank, first_day, now, budget).await
    }

    async fn rank_range(
        &self,
        rank: &Ranking,
        start: usize,
        count: usize,
    ) -> Result<Vec<i64>, StoreError> {
        self.range(rank, start, count).await
    }

    async fn rank_clear(&self, rank: &Ranking) -> Result<(), StoreError> {
        self.clear_rank(rank).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let _: String = self.pool.ping(None).await.map_err(fail)?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
