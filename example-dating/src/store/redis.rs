//! The Redis store (fred 10, a connection pool): what several instances share.

use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::*;
use fred::types::config::{Config as RedisConfig, ReconnectPolicy};
use fred::types::geo::{GeoPosition, GeoUnit, GeoValue};
use fred::types::{Builder, Expiration, SetOptions, SortOrder};

use super::{Near, Store, StoreError};

/// How long one command may take before the request fails with 50301. Short: a store that
/// does not answer must not hold requests (and their connections) hostage.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// `INCR`, and `PEXPIRE` on the first increment, in one atomic script: a counter can never be
/// left without its expiry by a process dying between two commands.
const INCR_WITH_TTL: &str = "local v = redis.call('INCR', KEYS[1]) \
     if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v";

/// Deletes every key under a prefix (tests clean up after themselves with it).
const DELETE_PREFIX: &str = "local keys = redis.call('KEYS', ARGV[1]) \
     for i = 1, #keys do redis.call('DEL', keys[i]) end return #keys";

/// A pool of connections to one Redis, every key under `prefix`.
pub struct RedisStore {
    pool: Pool,
    prefix: String,
}

fn fail(e: Error) -> StoreError {
    StoreError(e.to_string())
}

impl RedisStore {
    /// Connects to `url`. A Redis that is down at start is not fatal: the pool keeps
    /// reconnecting, requests fail with 50301 meanwhile, and `/readyz` says so.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let mut config = RedisConfig::from_url(url).map_err(fail)?;
        // Apply the reconnection policy to the first connection too: a Redis that starts after
        // the server is picked up when it comes (fred gives up on it by default).
        config.fail_fast = false;
        let pool = Builder::from_config(config)
            .with_performance_config(|perf| perf.default_command_timeout = COMMAND_TIMEOUT)
            .with_connection_config(|conn| {
                conn.connection_timeout = COMMAND_TIMEOUT;
                conn.internal_command_timeout = COMMAND_TIMEOUT;
                // Fail a command rather than queue it across reconnections.
                conn.max_command_attempts = 1;
            })
            .set_policy(ReconnectPolicy::new_constant(0, 200))
            .build_pool(4)
            .map_err(fail)?;
        pool.connect();
        if tokio::time::timeout(COMMAND_TIMEOUT, pool.wait_for_connect())
            .await
            .is_err()
        {
            tracing::warn!(
                url,
                "Redis is not reachable yet; requests will fail with 50301 until it is"
            );
        }
        Ok(RedisStore {
            pool,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Deletes every key under this store's prefix.
    pub async fn clear(&self) -> Result<u64, StoreError> {
        let pattern = format!("{}*", self.prefix);
        self.pool
            .eval(DELETE_PREFIX, Vec::<String>::new(), vec![pattern])
            .await
            .map_err(fail)
    }

    /// Closes the connections.
    pub async fn quit(&self) {
        let _ = self.pool.quit().await;
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
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

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
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
        self.pool.get(self.key(key)).await.map_err(fail)
    }

    async fn del(&self, key: &str) -> Result<bool, StoreError> {
        let n: i64 = self.pool.del(self.key(key)).await.map_err(fail)?;
        Ok(n > 0)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, StoreError> {
        self.pool
            .eval(
                INCR_WITH_TTL,
                vec![self.key(key)],
                vec![ttl.as_millis() as i64],
            )
            .await
            .map_err(fail)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        let ms: i64 = self.pool.pttl(self.key(key)).await.map_err(fail)?;
        // -2: no such key; -1: no expiry.
        Ok((ms >= 0).then(|| Duration::from_millis(ms as u64)))
    }

    async fn geo_add(&self, set: &str, member: &str, lng: f64, lat: f64) -> Result<(), StoreError> {
        let value = GeoValue::try_from((lng, lat, member)).map_err(fail)?;
        let _: Value = self
            .pool
            .geoadd(self.key(set), None, false, value)
            .await
            .map_err(fail)?;
        Ok(())
    }

    async fn geo_search(
        &self,
        set: &str,
        lng: f64,
        lat: f64,
        radius_km: f64,
        count: usize,
    ) -> Result<Vec<Near>, StoreError> {
        // ASC, never ANY: with COUNT, ANY returns the first matches found, not the nearest.
        let found: Value = self
            .pool
            .geosearch(
                self.key(set),
                None,
                Some(GeoPosition {
                    longitude: lng,
                    latitude: lat,
                }),
                Some((radius_km, GeoUnit::Kilometers)),
                None,
                Some(SortOrder::Asc),
                Some((count as u64, false)),
                false,
                true,
                false,
            )
            .await
            .map_err(fail)?;
        let mut near = Vec::new();
        for info in found
            .into_geo_radius_result(false, true, false)
            .map_err(fail)?
        {
            let member = info
                .member
                .as_string()
                .ok_or_else(|| StoreError("a geo member is not text".into()))?;
            near.push(Near {
                member,
                km: info.distance.unwrap_or(0.0),
            });
        }
        Ok(near)
    }

    async fn geo_remove(&self, set: &str, member: &str) -> Result<(), StoreError> {
        let _: i64 = self.pool.zrem(self.key(set), member).await.map_err(fail)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let _: String = self.pool.ping(None).await.map_err(fail)?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
