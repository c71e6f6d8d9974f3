//! Orders: `POST /api/orders`, and under `/api/orders/{order_id}` (which loads only the
//! caller's own order) `GET .../show` and `POST .../cancel`.

use kotori::{Json, Path, Res, State};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use super::money::yuan;
use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::commerce::{product, user_order};
use crate::envelope::ok;
use crate::params::Params;
use crate::random;
use crate::state::AppState;
use crate::store::Store;

/// Unpaid, paid, cancelled.
pub const UNPAID: i32 = 0;
/// Paid: VIP granted.
pub const PAID: i32 = 1;
/// Cancelled by the user.
pub const CANCELLED: i32 = 2;

/// The cached totals of the admin order list: every order, then by `pay` (indexed by it).
/// Counting every order is a scan; these are forgotten whenever an order is created or
/// changes state (see `paging::cached_total`).
pub const TOTALS: [&str; 4] = [
    "orders:total",
    "orders:total:pay:0",
    "orders:total:pay:1",
    "orders:total:pay:2",
];

/// The cache key of the admin order list's total for a `pay` filter (or none).
pub fn total_key(pay: Option<i32>) -> &'static str {
    match pay {
        None => TOTALS[0],
        Some(p) => TOTALS[1 + p.clamp(UNPAID, CANCELLED) as usize],
    }
}

/// Forgets the admin order list's totals: an order was created, paid or cancelled.
pub async fn forget_totals(store: &dyn Store) {
    crate::paging::forget_totals(store, &TOTALS).await;
}

/// An order as clients see it.
pub fn order_json(o: &user_order::Model) -> Value {
    json!({
        "order_id": o.id,
        "trade_no": o.trade_no,
        "product_id": o.product_id,
        "product_name": o.product_name,
        "fee": yuan(o.fee_cents),
        "pay": o.pay,
        "order_time": clock::format(o.order_time),
        "pay_time": o.pay_time.map(clock::format),
    })
}

/// Orders `product_id` at its current price.
pub async fn create(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let product_id: i64 = params.parse_required("product_id")?;
    let product = product::Entity::find_by_id(product_id)
        .one(&state.db)
        .await?
        .filter(|p| p.active)
        .ok_or_else(|| codes::unknown("product_id"))?;
    let now = clock::now();
    // The trade number names the order to the payment provider: time for people, randomness
    // for uniqueness.
    let trade_no = format!(
        "T{}{}",
        clock::format(now).replace(['-', ' ', ':'], ""),
        random::hex_token(6)
    );
    let order = user_order::ActiveModel {
        trade_no: Set(trade_no),
        user_id: Set(caller.user_id),
        product_id: Set(product.id),
        product_name: Set(product.name.clone()),
        vip_days: Set(product.vip_days),
        fee_cents: Set(product.price_cents),
        pay: Set(UNPAID),
        order_time: Set(now),
        pay_time: Set(None),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    forget_totals(&*state.store).await;
    Ok(ok(order_json(&order)))
}

/// The order of the path, if it is the caller's: someone else's is 40401.
#[kotori::loader]
pub async fn load_own_order(
    Path(order_id): Path<i64>,
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<user_order::Model, AppError> {
    user_order::Entity::find_by_id(order_id)
        .one(&state.db)
        .await?
        .filter(|o| o.user_id == caller.user_id)
        .ok_or_else(codes::not_found)
}

/// The loaded order.
pub async fn show(order: Res<user_order::Model>) -> Json<Value> {
    ok(order_json(&order))
}

/// Cancels the loaded order unless it is paid (40901); cancelling twice is harmless.
pub async fn cancel(
    order: Res<user_order::Model>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    // Conditional on still being unpaid: a payment notice racing with the cancel wins or loses
    // whole, never half.
    user_order::Entity::update_many()
        .col_expr(user_order::Column::Pay, Expr::value(CANCELLED))
        .filter(user_order::Column::Id.eq(order.id))
        .filter(user_order::Column::Pay.eq(UNPAID))
        .exec(&state.db)
        .await?;
    forget_totals(&*state.store).await;
    let now = user_order::Entity::find_by_id(order.id)
        .one(&state.db)
        .await?
        .ok_or_else(codes::not_found)?;
    if now.pay == PAID {
        return Err(codes::conflict("the order is paid"));
    }
    Ok(ok(order_json(&now)))
}

/// An order's schema, for `/openapi.json`.
pub fn order_schema() -> Value {
    use crate::openapi::*;
    shape([
        ("order_id", integer()),
        ("trade_no", string()),
        ("product_id", integer()),
        ("product_name", string()),
        ("fee", yuan()),
        (
            "pay",
            json!({"enum": [0, 1, 2], "description": "0 unpaid, 1 paid, 2 cancelled"}),
        ),
        ("order_time", time()),
        ("pay_time", nullable(time())),
    ])
}

/// What show answers, for `/openapi.json`.
pub fn show_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(order_schema())
}

/// What create reads and answers, for `/openapi.json`.
pub fn create_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(order_schema())
        .param(required(
            "product_id",
            json!({"type": "integer", "minimum": 1}),
        ))
        .refuses(404, 40401, "no such product (or not on sale)")
}

/// What load_own_order reads and answers, for `/openapi.json`.
pub fn load_own_order_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(id("order_id"))
        .refuses(404, 40401, "no such order of yours")
}

/// What cancel reads and answers, for `/openapi.json`.
pub fn cancel_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(order_schema()).refuses(409, 40901, "the order is paid")
}
