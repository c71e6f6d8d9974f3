//! `POST /pay/notify`: the payment provider's notice, idempotent.

use kotori::{Json, Res, State};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::money;
use super::orders::{CANCELLED, PAID, UNPAID};
use super::vip;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::commerce::user_order;
use crate::envelope::ok;
use crate::params::Params;
use crate::people::account::{self, Take};
use crate::state::AppState;

/// The first valid `SUCCESS` notice marks the order paid and extends VIP, in one transaction;
/// repeats — concurrent ones too — answer 0 and change nothing. A fee that differs from the
/// order's is 40002; a cancelled order is 40901. Other statuses are acknowledged and ignored.
pub async fn notify(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let trade_no = params.required("trade_no")?;
    let fee = money::cents("fee", params.required("fee")?)?;
    let status = params.required("status")?;
    let order = user_order::Entity::find()
        .filter(user_order::Column::TradeNo.eq(trade_no))
        .one(&state.db)
        .await?
        .ok_or_else(|| codes::unknown("trade_no"))?;
    if fee != order.fee_cents {
        return Err(codes::malformed("fee", "differs from the order's"));
    }
    if status != "SUCCESS" {
        return Ok(ok(json!({})));
    }
    let now = clock::now();
    let txn = crate::db::begin(&state.db).await?;
    // Only the notice that moves the order from unpaid to paid extends the membership.
    let moved = user_order::Entity::update_many()
        .col_expr(user_order::Column::Pay, Expr::value(PAID))
        .col_expr(user_order::Column::PayTime, Expr::value(now))
        .filter(user_order::Column::Id.eq(order.id))
        .filter(user_order::Column::Pay.eq(UNPAID))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 1 {
        // The money is the order's either way (orders outlive their buyer, for accounting);
        // the membership only for a buyer whose account still exists: an erasure deleted it,
        // and a notice that arrives later — or races the erasure — must not bring it back.
        let buyer = account::take(&txn, &[order.user_id], Take::Share).await?;
        if buyer.existing(order.user_id).is_ok() {
            vip::extend(&txn, order.user_id, order.vip_days, now).await?;
        }
        txn.commit().await?;
        // The member's kept row and deadline (`/api/me`) go, here and on every instance.
        crate::people::changed(&state, crate::people::Change::Profile(order.user_id)).await;
        super::orders::forget_totals(&*state.store).await;
        boost(&state, order.user_id).await?;
        return Ok(ok(json!({})));
    }
    txn.rollback().await?;
    let current = user_order::Entity::find_by_id(order.id)
        .one(&state.db)
        .await?
        .ok_or_else(codes::internal)?;
    match current.pay {
        CANCELLED => Err(codes::conflict("the order is cancelled")),
        PAID => {
            // A repeated notice finishes what a failed store left undone (it is idempotent).
            boost(&state, order.user_id).await?;
            Ok(ok(json!({})))
        }
        _ => Ok(ok(json!({}))),
    }
}

/// Boosts the member's visits in the hot list until its (new) deadline. If the store fails,
/// the notice answers 50301 and the provider's retry boosts.
async fn boost(state: &AppState, user_id: i64) -> Result<(), AppError> {
    if let Some(deadline) = vip::deadline(&state.db, user_id).await? {
        crate::people::footprints::boosted(&*state.store, state.people(), user_id, deadline)
            .await?;
    }
    Ok(())
}

/// What notify reads and answers, for `/openapi.json`.
pub fn notify_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(empty())
        .param(required(
            "trade_no",
            json!({"type": "string", "minLength": 1}),
        ))
        .param(required("fee", money()))
        .param(required("status", json!({"type": "string"})))
        .refuses(404, 40401, "no order has this trade number")
        .refuses(409, 40901, "the order is cancelled")
}
