//! Page-numbered lists: `page` (1-based, default 1) and `pageCount` (default 10, at most 50),
//! answered as `{"total", "list", "has_next"}`.

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QuerySelect, Select};
use serde_json::{Value, json};

use crate::codes::{self, AppError};
use crate::params::Params;

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
        if page == 0 || page > 100_000 {
            return Err(codes::malformed("page", "from 1"));
        }
        if !(1..=50).contains(&size) {
            return Err(codes::malformed("pageCount", "from 1 to 50"));
        }
        Ok(Page { page, size })
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.size
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
        let rows = query
            .offset(self.offset())
            .limit(self.size)
            .all(conn)
            .await?;
        Ok((total, rows))
    }

    /// The answer for this page of `total` items.
    pub fn answer(&self, total: u64, list: Vec<Value>) -> Value {
        json!({ "total": total, "has_next": self.offset() + (list.len() as u64) < total, "list": list })
    }
}
