//! Page-numbered lists: `page` (1-based, default 1) and `pageCount` (default 10, at most 50),
//! answered as `{"total", "list", "has_next"}`; and the totals of big lists, cached.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QuerySelect, QueryTrait,
    Select,
};
use serde_json::Value;

use crate::codes::{self, AppError};
use crate::params::Params;
use crate::store::Store;

/// How long a kept total is fresh: after it, the next request sets a recount going.
pub const TOTAL_TTL: Duration = Duration::from_secs(10);

/// The deepest item a page may reach (`page × pageCount`); past it is 40002.
pub const MAX_DEPTH: u64 = 1_000;

/// The most rows a request counts ([`Page::load`]).
pub const COUNTED_BY_REQUEST: u64 = MAX_DEPTH + 1;

/// Where a list is read and its total kept: the database its pages and short counts are read
/// from, the one its full counts run on off the request path (`db::background`: beside the
/// requests on the embedded database, not in front of them), and the store that keeps them.
#[derive(Clone, Copy)]
pub struct Lists<'a> {
    /// The pages, and a request's own counts (at most [`COUNTED_BY_REQUEST`] rows).
    pub db: &'a DatabaseConnection,
    /// The background recounts.
    pub background: &'a DatabaseConnection,
    /// Where the counts are kept.
    pub store: &'a Arc<dyn Store>,
}

impl crate::state::Services {
    /// Where lists are read and their totals kept. (Written here, not in `state`, so that the
    /// dependency runs one way: paging reads the state's services; the state does not know
    /// paging.)
    pub fn lists(&self) -> Lists<'_> {
        Lists {
            db: &self.db,
            background: &self.background_db,
            store: &self.store,
        }
    }
}

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
    /// kept in the store under `cached` (see [`cached_total`]). Before the first count is
    /// kept, the total is what this page shows: the items up to it, and one more if it is full.
    pub async fn load_with<E>(
        &self,
        lists: Lists<'_>,
        cached: Option<&str>,
        query: Select<E>,
    ) -> Result<(u64, Vec<E::Model>), AppError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        match cached {
            Some(key) => self.load_kept(lists, key, TOTAL_TTL, query).await,
            None => self.load(lists, query).await,
        }
    }

    /// [`Page::load_with`] of a total kept under `key` and recounted every `fresh_for` (a count
    /// that the changes to it also move: [`cached_total_for`]).
    pub async fn load_kept<E>(
        &self,
        lists: Lists<'_>,
        key: &str,
        fresh_for: Duration,
        query: Select<E>,
    ) -> Result<(u64, Vec<E::Model>), AppError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let total = cached_total_for(lists, key, || query.clone(), fresh_for).await?;
        let rows = self.rows(lists.db, query).await?;
        let seen = self.offset() + rows.len() as u64;
        let at_least = seen + u64::from(rows.len() as u64 == self.size);
        Ok((total.map_or(at_least, |n| n.max(seen)), rows))
    }

    /// This page of `query` (already ordered) and the total it pages through.
    ///
    /// The request counts at most [`COUNTED_BY_REQUEST`] rows — one past the deepest item a
    /// page may reach, all that `has_next` needs — so a list's cost does not grow with its
    /// length: a celebrity's visitors, an admin's one-letter search. A list longer than that
    /// answers the total kept for its query (a digest of its statement names it), counted in
    /// full off the request path like every kept total ([`total_of`]: at most
    /// [`LONG_LIST_FRESH`] old) — and until the first such count, that it has more than 1,000.
    pub async fn load<E>(
        &self,
        lists: Lists<'_>,
        query: Select<E>,
    ) -> Result<(u64, Vec<E::Model>), AppError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let rows = self.rows(lists.db, query.clone()).await?;
        let total = total_of(lists, &query).await?;
        Ok((total, rows))
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
        self.listing(total, list).into()
    }

    /// The answer for this page of `total` items, typed: serialized straight into the
    /// response (`crate::envelope::answer`) without a `Value` tree.
    pub fn listing<T>(&self, total: u64, list: Vec<T>) -> Listing<T> {
        Listing {
            total,
            has_next: self.offset() + (list.len() as u64) < total,
            list,
        }
    }
}

/// A page of a list as the API answers it: `{"total", "has_next", "list"}`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Listing<T> {
    /// Items in the whole list (capped lists: see the API's paging rules).
    pub total: u64,
    /// Whether a next page has items.
    pub has_next: bool,
    /// This page's items.
    pub list: Vec<T>,
}

impl From<Listing<Value>> for Value {
    /// Built by hand: `json!` would copy the list whole.
    fn from(listing: Listing<Value>) -> Value {
        let mut answer = serde_json::Map::with_capacity(3);
        answer.insert("total".into(), Value::from(listing.total));
        answer.insert("has_next".into(), Value::from(listing.has_next));
        answer.insert("list".into(), Value::Array(listing.list));
        Value::Object(answer)
    }
}

/// The total under `key`, as last counted — never counted by the request that asks.
///
/// For lists whose count is a scan of a big table (every visible user, every order): a request
/// reads the kept count; when it is older than [`TOTAL_TTL`] or was forgotten (whoever changes
/// what it counts calls [`forget_totals`]) one background task counts again — one at a time
/// across instances, at most once per [`TOTAL_TTL`] — and the request answers the last count
/// meanwhile. `None` before the first count is done: the caller answers what it knows.
pub async fn cached_total<E>(
    lists: Lists<'_>,
    key: &str,
    query: Select<E>,
) -> Result<Option<u64>, AppError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    cached_total_for(lists, key, move || query, TOTAL_TTL).await
}

/// [`cached_total`] for a count that is kept up to date as things happen (moved by one with
/// `Store::add_existing`) and so needs recounting only every `fresh_for`, or when forgotten.
/// The query is built only when a recount starts (`query`): most requests read a kept count,
/// and building a statement is a good part of what a cheap request costs.
pub async fn cached_total_for<E>(
    lists: Lists<'_>,
    key: &str,
    query: impl FnOnce() -> Select<E>,
    fresh_for: Duration,
) -> Result<Option<u64>, AppError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let fresh_key = format!("{key}:fresh");
    let store = lists.store;
    let (kept, fresh) = futures_util::future::join(store.get(key), store.get(&fresh_key)).await;
    let kept = kept?.and_then(|v| v.parse::<u64>().ok());
    if kept.is_none() || fresh?.is_none() {
        recount(
            lists.background.clone(),
            Arc::clone(store),
            key.to_owned(),
            query(),
            fresh_for,
        );
    }
    Ok(kept)
}

/// Counts `query` in the background and keeps the count under `key` — unless another
/// instance (or task) counted it within [`TOTAL_TTL`].
fn recount<E>(
    db: DatabaseConnection,
    store: Arc<dyn Store>,
    key: String,
    query: Select<E>,
    fresh_for: Duration,
) where
    E: EntityTrait,
    E::Model: Sync,
{
    tokio::spawn(async move {
        let turn = format!("{key}:counting");
        // The turn is left to expire, not released: it spaces the counts of a busy total.
        match store.set_nx(&turn, "1", TOTAL_TTL).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, key, "could not take the turn to count a total");
                return;
            }
        }
        if let Err(e) = count_now_for(&db, &*store, &key, query, fresh_for).await {
            tracing::warn!(error = ?e, key, "could not count a total; the last count stays");
            let _ = store.del(&turn).await;
        }
    });
}

/// Counts `query` now and keeps the count under `key`, fresh: what the background recount
/// does, for a caller that must have the exact count (a test, a bulk load).
pub async fn count_now<E>(
    db: &DatabaseConnection,
    store: &dyn Store,
    key: &str,
    query: Select<E>,
) -> Result<u64, AppError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    count_now_for(db, store, key, query, TOTAL_TTL).await
}

/// [`count_now`], the count fresh for `fresh_for` (see [`cached_total_for`]).
pub async fn count_now_for<E>(
    db: &DatabaseConnection,
    store: &dyn Store,
    key: &str,
    query: Select<E>,
    fresh_for: Duration,
) -> Result<u64, AppError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let counted = query.count(db).await?;
    store.set(key, &counted.to_string(), KEPT).await?;
    store.set(&format!("{key}:fresh"), "1", fresh_for).await?;
    Ok(counted)
}

/// How long the kept count of a long list counted by its request ([`total_of`]) goes without a
/// recount. Nothing forgets these counts (a list is named only by its statement), and a full
/// count of a celebrity's 300,000 visitors is 250 ms of a core: once a minute per list, not
/// every [`TOTAL_TTL`]. Past the 1,000th item nobody reads the exact number.
pub const LONG_LIST_FRESH: Duration = Duration::from_secs(60);

/// How many rows `query` has, as [`Page::load`] counts them: by the request up to
/// [`COUNTED_BY_REQUEST`], and past that the count kept for this query, made off the request
/// path and at most [`LONG_LIST_FRESH`] old (at least [`COUNTED_BY_REQUEST`] until the first
/// is done).
pub async fn total_of<E>(lists: Lists<'_>, query: &Select<E>) -> Result<u64, AppError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let counted = count_up_to(lists.db, query, COUNTED_BY_REQUEST).await?;
    if counted < COUNTED_BY_REQUEST {
        return Ok(counted);
    }
    let key = kept_key(lists.db.get_database_backend(), query);
    let query = || query.clone();
    let kept = cached_total_for(lists, &key, query, LONG_LIST_FRESH).await?;
    Ok(kept.map_or(counted, |n| n.max(counted)))
}

/// The rows of `query`, counted up to `most`: `SELECT COUNT(*) FROM (SELECT 1 ... LIMIT most)`,
/// which stops reading at `most` rows on every backend.
async fn count_up_to<E: EntityTrait>(
    db: &DatabaseConnection,
    query: &Select<E>,
    most: u64,
) -> Result<u64, AppError> {
    use sea_orm::sea_query::{Expr, Query};
    let mut rows = query.clone().into_query();
    rows.clear_selects()
        .expr(Expr::val(1))
        .clear_order_by()
        .limit(most);
    let count = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), "n")
        .from_subquery(rows, "counted")
        .to_owned();
    let row = db.query_one(&count).await?;
    let n = match row {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    };
    Ok(n as u64)
}

/// The store key of the kept total of `query`: a digest of its statement as this backend
/// runs it, values included — the same list asked again finds the same count, and no caller
/// has to name its lists.
fn kept_key<E: EntityTrait>(backend: sea_orm::DbBackend, query: &Select<E>) -> String {
    use sha1::{Digest, Sha1};
    let statement = query.clone().build(backend).to_string();
    format!(
        "paging:total:{}",
        crate::hex::encode(&Sha1::digest(statement.as_bytes()))
    )
}

/// How long a count is kept (answered, stale, while the next one runs).
const KEPT: Duration = Duration::from_secs(86_400);

/// Marks the totals under `keys` stale, after the change they count was committed: the next
/// request sets a recount going and answers the last count meanwhile. A store failure is
/// logged, not answered — the change stands, and the freshness expires by itself.
pub async fn forget_totals(store: &dyn Store, keys: &[&str]) {
    for key in keys {
        if let Err(e) = store.del(&format!("{key}:fresh")).await {
            tracing::warn!(error = %e, key, "could not mark a cached total stale");
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter};

    use super::kept_key;
    use crate::db::entity::users::visitor;

    /// Two lists differing only in a value (whose visitors) keep two totals; the same list
    /// asked again finds its own.
    #[test]
    fn a_kept_total_is_named_by_its_statement_values_included() {
        let of = |user: i64| visitor::Entity::find().filter(visitor::Column::ViewedId.eq(user));
        let key = |user| kept_key(DbBackend::Sqlite, &of(user));
        assert_eq!(key(7), key(7));
        assert_ne!(key(7), key(8));
    }
}
