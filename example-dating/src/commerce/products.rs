//! `GET /api/products`.

use kotori::{Json, State};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::money::yuan;
use crate::codes::AppError;
use crate::db::entity::commerce::product;
use crate::envelope::ok;
use crate::state::AppState;

/// A product as clients see it.
pub fn product_json(p: &product::Model) -> Value {
    json!({ "product_id": p.id, "name": p.name, "desc": p.description, "vip_time": p.vip_days, "price": yuan(p.price_cents) })
}

/// The products on sale.
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let products = product::Entity::find()
        .filter(product::Column::Active.eq(true))
        .order_by_asc(product::Column::Id)
        .all(&state.db)
        .await?;
    Ok(ok(
        json!({ "list": products.iter().map(product_json).collect::<Vec<_>>() }),
    ))
}

/// A product's schema, for `/openapi.json`.
pub fn product_schema() -> Value {
    use crate::openapi::*;
    shape([
        ("product_id", integer()),
        ("name", string()),
        ("desc", string()),
        (
            "vip_time",
            json!({"type": "integer", "description": "days"}),
        ),
        ("price", yuan()),
    ])
}

/// What list answers, for `/openapi.json`.
pub fn list_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(crate::openapi::list_of(product_schema()))
}
