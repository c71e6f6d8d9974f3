//! Finding people: `GET /api/user/hot/list` and `GET /api/user/nearby/list`.

use std::collections::HashSet;

use kotori::{Json, Res, State};
use sea_orm::sea_query::{Alias, Asterisk, Condition, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use super::{can_see, geo, public_profile};
use crate::auth::Caller;
use crate::chat::contacts;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::{
    entity::commerce::vip_info,
    entity::users::{location, user_info, visitor},
};
use crate::envelope::ok;
use crate::paging::Page;
use crate::params::Params;
use crate::safety::blocks;
use crate::state::AppState;

/// How far back visits count for the hot list.
pub const HOT_WINDOW_SECS: i64 = 7 * 86_400;
/// A VIP's visits count this many times.
pub const VIP_BOOST: i64 = 2;
/// The nearby search considers at most this many people around the centre.
pub const NEARBY_MAX: usize = 2_000;
/// How many more people than a page asks for the first index search fetches, for the ones
/// filtering leaves out (hidden, banned, blocked).
pub const NEARBY_MARGIN: usize = 20;

/// Public profiles, most visited in the last 7 days first (a VIP's visits count twice), then
/// newest; the caller, banned users and anyone not visible to all are left out.
pub async fn hot(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    let now = clock::now();
    let visible = Condition::all()
        .add(Expr::col((user_info::Entity, user_info::Column::Banned)).eq(false))
        .add(Expr::col((user_info::Entity, user_info::Column::Authority)).eq(1))
        .add(Expr::col((user_info::Entity, user_info::Column::UserId)).ne(caller.user_id))
        .add(blocks::not_blocked_with(
            (user_info::Entity, user_info::Column::UserId),
            caller.user_id,
        ));

    let visits = Query::select()
        .column(visitor::Column::ViewedId)
        .expr_as(Expr::col(visitor::Column::Id).count(), Alias::new("cnt"))
        .from(visitor::Entity)
        .and_where(Expr::col(visitor::Column::VisitTime).gt(now - HOT_WINDOW_SECS))
        .group_by_col(visitor::Column::ViewedId)
        .to_owned();
    let (v, vip) = (Alias::new("v"), Alias::new("vip"));
    let query = Query::select()
        .column((user_info::Entity, Asterisk))
        // Only names of this query's own aliases in the custom SQL: the same on every backend.
        .expr_as(
            Expr::cust(format!(
                "COALESCE(v.cnt, 0) * (CASE WHEN vip.user_id IS NULL THEN 1 ELSE {VIP_BOOST} END)"
            )),
            Alias::new("score"),
        )
        .from(user_info::Entity)
        .join_subquery(
            JoinType::LeftJoin,
            visits,
            v.clone(),
            Expr::col((v, visitor::Column::ViewedId))
                .equals((user_info::Entity, user_info::Column::UserId)),
        )
        .join_as(
            JoinType::LeftJoin,
            vip_info::Entity,
            vip.clone(),
            Condition::all()
                .add(
                    Expr::col((vip.clone(), vip_info::Column::UserId))
                        .equals((user_info::Entity, user_info::Column::UserId)),
                )
                .add(Expr::col((vip, vip_info::Column::Deadline)).gt(now)),
        )
        .cond_where(visible)
        .order_by_expr(Expr::cust("score"), Order::Desc)
        .order_by((user_info::Entity, user_info::Column::UserId), Order::Desc)
        .limit(page.size)
        .offset(page.offset())
        .to_owned();
    let backend = state.db.get_database_backend();
    let users = user_info::Model::find_by_statement(backend.build(&query))
        .all(&state.db)
        .await?;
    let total = user_info::Entity::find()
        .filter(user_info::Column::Banned.eq(false))
        .filter(user_info::Column::Authority.eq(1))
        .filter(user_info::Column::UserId.ne(caller.user_id))
        .filter(blocks::not_blocked_with(
            (user_info::Entity, user_info::Column::UserId),
            caller.user_id,
        ))
        .count(&state.db)
        .await?;
    Ok(ok(
        page.answer(total, users.iter().map(public_profile).collect())
    ))
}

/// Public profiles within `radius_km` of (`lat`, `lng`) — or of the caller's stored location —
/// nearest first, each with `distance_km`.
pub async fn nearby(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    let radius = params.parse_optional::<f64>("radius_km")?.unwrap_or(10.0);
    if !(radius > 0.0 && radius <= 100.0) {
        return Err(codes::malformed("radius_km", "more than 0, at most 100"));
    }
    let (lat, lng) = match (
        params.parse_optional::<f64>("lat")?,
        params.parse_optional::<f64>("lng")?,
    ) {
        (Some(lat), Some(lng)) => crate::validate::check_lat_lng(lat, lng)?,
        (Some(_), None) => return Err(codes::missing("lng")),
        (None, Some(_)) => return Err(codes::missing("lat")),
        (None, None) => {
            let stored = location::Entity::find_by_id(caller.user_id)
                .one(&state.db)
                .await?;
            let stored = stored.ok_or_else(|| {
                codes::missing("lat and lng (no location stored: POST /api/me/location)")
            })?;
            (stored.lat, stored.lng)
        }
    };
    // Ask the index for this page plus a margin for the people a caller may not see, and
    // widen (doubling) only while filtering left the page short: the cost follows the page,
    // not the number of people around.
    let hidden = blocks::hidden_from(&state.db, caller.user_id).await?;
    let contacts: HashSet<i64> = contacts::peer_ids(&state.db, caller.user_id).await?;
    let need = (page.offset() + page.size) as usize + 1; // one more says whether there is a next
    let mut want = (need + NEARBY_MARGIN).min(NEARBY_MAX);
    let visible = loop {
        let near = geo::near(&*state.store, lat, lng, radius, want).await?;
        let exhausted = near.len() < want;
        let near: Vec<(i64, f64)> = near
            .into_iter()
            .filter(|(id, _)| *id != caller.user_id && !hidden.contains(id))
            .collect();
        let users = crate::users::by_id(&state.db, near.iter().map(|&(id, _)| id)).await?;
        let visible: Vec<Value> = near
            .iter()
            .filter_map(|&(id, km)| {
                let user = users.get(&id)?;
                let seen = can_see(caller.user_id, user, contacts.contains(&user.user_id));
                seen.then(|| {
                    let mut profile = public_profile(user);
                    profile["distance_km"] = json!((km * 1000.0).round() / 1000.0);
                    profile
                })
            })
            .collect();
        if visible.len() >= need || exhausted || want == NEARBY_MAX {
            break visible;
        }
        want = (want * 2).min(NEARBY_MAX);
    };
    // Exact once everyone within the radius was seen; otherwise the people found so far,
    // which is more than this page: `has_next` is right either way.
    let total = visible.len() as u64;
    let list = visible
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .collect();
    Ok(ok(page.answer(total, list)))
}

/// What nearby reads and answers, for `/openapi.json`.
pub fn nearby_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    paged()
        .param(optional(
            "lat",
            json!({"type": "number", "minimum": -90, "maximum": 90}),
        ))
        .param(optional(
            "lng",
            json!({"type": "number", "minimum": -180, "maximum": 180}),
        ))
        .param(optional(
            "radius_km",
            json!({"type": "number", "exclusiveMinimum": 0, "maximum": 100, "default": 10}),
        ))
}
