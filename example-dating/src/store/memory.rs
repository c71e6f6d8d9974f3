//! The in-process store: the embedded default, with Redis's semantics for one process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{Near, Store, StoreError};

/// Keys with optional expiry and geo sets, behind one mutex (the critical sections are tiny and
/// never await). Time is tokio's, so tests can move it with `tokio::time::advance`.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, (String, Option<Instant>)>,
    geo: HashMap<String, HashMap<String, (f64, f64)>>,
}

impl Inner {
    /// The live entry of `key`, dropping it if it expired.
    fn live(&mut self, key: &str) -> Option<&mut (String, Option<Instant>)> {
        let expired = matches!(self.keys.get(key), Some((_, Some(at))) if *at <= Instant::now());
        if expired {
            self.keys.remove(key);
        }
        self.keys.get_mut(key)
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written entry: recover the map.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Great-circle distance in km, with the Earth radius Redis uses, so both stores agree.
pub(crate) fn haversine_km((lng1, lat1): (f64, f64), (lng2, lat2): (f64, f64)) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_372_797.560_856;
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let (dphi, dlambda) = ((lat2 - lat1).to_radians(), (lng2 - lng1).to_radians());
    let a = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin() / 1000.0
}

#[async_trait]
impl Store for MemoryStore {
    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.live(key).is_some() {
            return Ok(false);
        }
        inner.keys.insert(
            key.to_owned(),
            (value.to_owned(), Some(Instant::now() + ttl)),
        );
        Ok(true)
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        self.lock().keys.insert(
            key.to_owned(),
            (value.to_owned(), Some(Instant::now() + ttl)),
        );
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().live(key).map(|(v, _)| v.clone()))
    }

    async fn del(&self, key: &str) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let existed = inner.live(key).is_some();
        inner.keys.remove(key);
        Ok(existed)
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, StoreError> {
        let mut inner = self.lock();
        let next = match inner.live(key) {
            Some((value, _)) => {
                let n = value
                    .parse::<i64>()
                    .map_err(|_| StoreError(format!("{key} is not a counter")))?
                    + 1;
                *value = n.to_string();
                n
            }
            None => {
                inner
                    .keys
                    .insert(key.to_owned(), ("1".to_owned(), Some(Instant::now() + ttl)));
                1
            }
        };
        Ok(next)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, StoreError> {
        let mut inner = self.lock();
        Ok(inner
            .live(key)
            .and_then(|(_, at)| *at)
            .map(|at| at.saturating_duration_since(Instant::now())))
    }

    async fn geo_add(&self, set: &str, member: &str, lng: f64, lat: f64) -> Result<(), StoreError> {
        self.lock()
            .geo
            .entry(set.to_owned())
            .or_default()
            .insert(member.to_owned(), (lng, lat));
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
        let inner = self.lock();
        let Some(members) = inner.geo.get(set) else {
            return Ok(Vec::new());
        };
        let mut near: Vec<Near> = members
            .iter()
            .map(|(member, &pos)| Near {
                member: member.clone(),
                km: haversine_km((lng, lat), pos),
            })
            .filter(|n| n.km <= radius_km)
            .collect();
        // Nearest first; ties by member so the order is the same on every run.
        near.sort_by(|a, b| a.km.total_cmp(&b.km).then_with(|| a.member.cmp(&b.member)));
        near.truncate(count);
        Ok(near)
    }

    async fn geo_remove(&self, set: &str, member: &str) -> Result<(), StoreError> {
        if let Some(members) = self.lock().geo.get_mut(set) {
            members.remove(member);
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}
