//! Page-numbered lists: `page` (1-based, default 1) and `pageCount` (default 10, at most 50),
//! answered as `{"total", "list", "has_next"}`; and the totals of big lists, cached.

use std::time::Duration;

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QuerySelect, Select};
use serde_json::{Value, json};

use crate::codes::{self, AppError};
use crate::params::Params;
use crate::store::Store;

/// How long a cached total is used before it is counted again.
pub const TOTAL_TTL: Duration = Duration::from_secs(10);

/// The deepest item a page may reach (`page × pageCount`); past it is 40002.
pub const MAX_DEPTH: u64 = 1_000;

/// A requested page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number.
    pub page: u64,
    /// Items per page.
    pub size: u64,
}

impl Page {
    /// Reads `page` and `pageCount` (40002 when out of range).
    pub fn from_params(params: &Params) -> Result<Page, AppError> {
        let page = params.parse_optional::<u64>("page")?.unwrap_or(1);
        let size = params.parse_optional::<u64>("pageCount")?.unwrap_or(10);
        if page == 0 {
            return Err(codes::malformed("page", "from 1"));
        }
        if !(1..=50).contains(&size) {
            return Err(codes::malformed("pageCount", "from 1 to 50"));
        }
        // Nobody scrolls past the 1,000th item, and a deep page must not cost the server more
        // than a first one (an offset walks every row before it).
        if page.saturating_mul(size) > MAX_DEPTH {
            return Err(codes::malformed("page", "within the first 1,000 items"));
        }
        Ok(Page { page, size })
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.size
    }

    /// This page of `query` (already ordered), and the total it pages through: counted, or
    /// from the store's cache under `cached` (see [`cached_total`]).
    pub async fn load_with<E>(
        &self,
        conn: &impl ConnectionTrait,
        store: &dyn Store,
        cached: Option<&str>,
        query: Select<E>,
    ) -> Result<(u64, Vec<E::Model>), AppError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let Some(key) = cached else {
            return self.load(conn, query).await;
        };
        let total = cached_total(store, key, async || Ok(query.clone().count(conn).await?)).await?;
        Ok((total, self.rows(conn, query).await?))
    }

    /// This page of `query` (already ordered) and the total it pages through.
    pub async fn load<E>(
        &self,
        conn: &impl ConnectionTrait,
        query: Select<E>,
    ) -> Result<(u64, Vec<E::Model>), AppError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let total = query.clone().count(conn).await?;
        Ok((total, self.rows(conn, query).await?))
    }

    async fn rows<E>(
        &self,
        conn: &impl ConnectionTrait,
        query: Select<E>,
    ) -> Result<Vec<E::Model>, AppError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        Ok(query
            .offset(self.offset())
            .limit(self.size)
            .all(conn)
            .await?)
    }

    /// The answer for this page of `total` items.
    pub fn answer(&self, total: u64, list: Vec<Value>) -> Value {
        json!({ "total": total, "has_next": self.offset() + (list.len() as u64) < total, "list": list })
    }
}

/// The total under `key`: from the store, or counted by `count` and kept there for
/// [`TOTAL_TTL`]. For lists whose count is a scan of a big table (every order, every visible
/// user): whoever changes what it counts calls [`forget_totals`], so the total is exact for
/// them, and at most [`TOTAL_TTL`] old for everyone else.
pub async fn cached_total(
    store: &dyn Store,
    key: &str,
    count: impl AsyncFnOnce() -> Result<u64, AppError>,
) -> Result<u64, AppError> {
    if let Some(n) = store.get(key).await?.and_then(|v| v.parse().ok()) {
        return Ok(n);
    }
    let n = count().await?;
    store.set(key, &n.to_string(), TOTAL_TTL).await?;
    Ok(n)
}

/// Forgets the cached totals under `keys`, after the change they count was committed: a store
/// failure is logged, not answered — the change stands, and the totals expire by themselves.
pub async fn forget_totals(store: &dyn Store, keys: &[&str]) {
    for key in keys {
        if let Err(e) = store.del(key).await {
            tracing::warn!(error = %e, key, "could not forget a cached total");
        }
    }
}
