//! Visits: `GET /api/users/{user_id}/show` records a footprint; VIPs list theirs with
//! `GET /api/vip/visitors`.

use kotori::{Json, Res, State};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::target::Target;
use super::{public_profile, showcase};
use crate::auth::Caller;
use crate::clock;
use crate::codes::AppError;
use crate::db::{
    self,
    entity::users::{user_info, visitor},
};
use crate::envelope::ok;
use crate::paging::Page;
use crate::params::Params;
use crate::people::account::{self, Take};
use crate::people::{footprints, visibility};
use crate::state::AppState;

/// The loaded user's public profile with labels and album; records the caller's visit (one
/// footprint per viewer, user and day; looking at yourself records nothing).
pub async fn show(
    target: Res<Target>,
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let user = &target.0;
    if user.user_id != caller.user_id {
        let (viewer, viewed, now) = (caller.user_id, user.user_id, clock::now());
        // A repeat visit moves the day's footprint: one statement. A first one is made under
        // both people's rows (`FOR SHARE`), so that it never lands after the erasure of either,
        // which deletes their visits both ways.
        let moved = footprints::move_today(&state.db, viewer, viewed, now).await?;
        let retry = |e: &sea_orm::DbErr| db::is_transient(e) || footprints::is_duplicate(e);
        // Boxed: the rare path's future stays out of every page's (a future is as large as
        // everything it may hold).
        let created = !moved
            && Box::pin(db::in_transaction_retrying(&state.db, retry, |txn| {
                Box::pin(async move {
                    let both = account::take(txn, &[viewer, viewed], Take::Share).await?;
                    both.live(viewer)?;
                    both.existing(viewed)?;
                    footprints::record(txn, viewer, viewed, now).await
                })
            }))
            .await?;
        if created {
            footprints::count_in_ranking(&*state.store, state.people(), viewed, now).await?;
        }
    }
    let mut profile = public_profile(user);
    let (db, id) = (&state.db, user.user_id);
    let showcase = state.people().derived(id, || showcase::of(db, id)).await?;
    profile["labels"] = json!(showcase.labels);
    profile["album"] = json!(showcase.album);
    Ok(ok(profile))
}

/// Who viewed the caller, newest first, with `visit_time` and `unread`; listing marks the
/// listed footprints read. Only viewers the caller may see (`people::visibility`) are listed —
/// and counted: the rule is part of the query, so `total` counts what the pages show.
pub async fn visitors(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    // Per footprint, its viewer's row by key: the cost follows the caller's footprints, never
    // the number of users (an `IN (SELECT ... visible)` made SQLite read every user).
    let seen = Query::select()
        .expr(Expr::val(1))
        .from(user_info::Entity)
        .and_where(
            Expr::col((user_info::Entity, user_info::Column::UserId))
                .equals((visitor::Entity, visitor::Column::ViewerId)),
        )
        .cond_where(visibility::visible_to(caller.user_id))
        .to_owned();
    let mine = visitor::Entity::find()
        .filter(visitor::Column::ViewedId.eq(caller.user_id))
        .filter(visitor::Column::ViewerId.ne(caller.user_id))
        .filter(Expr::exists(seen));
    let (total, rows) = page
        .load(
            state.lists(),
            mine.order_by_desc(visitor::Column::VisitTime)
                .order_by_desc(visitor::Column::Id),
        )
        .await?;
    let viewers = crate::users::by_id(&state.db, rows.iter().map(|r| r.viewer_id)).await?;
    let list: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let viewer = viewers.get(&row.viewer_id)?;
            let mut item = public_profile(viewer);
            item["visit_time"] = json!(clock::format(row.visit_time));
            item["unread"] = json!(row.unread);
            Some(item)
        })
        .collect();
    let unread: Vec<i64> = rows.iter().filter(|r| r.unread).map(|r| r.id).collect();
    if !unread.is_empty() {
        visitor::Entity::update_many()
            .col_expr(visitor::Column::Unread, Expr::value(false))
            .filter(visitor::Column::Id.is_in(unread))
            .exec(&state.db)
            .await?;
    }
    Ok(ok(page.answer(total, list)))
}

/// What show answers, for `/openapi.json`: the public profile with labels and album.
pub fn show_doc() -> kotori::openapi::Declares {
    use super::showcase::{label_schema, photo_schema};
    use crate::openapi::*;
    answers(extended(
        crate::people::Card::schema(),
        [
            ("labels", json!({"type": "array", "items": label_schema()})),
            ("album", json!({"type": "array", "items": photo_schema()})),
        ],
    ))
}

/// What visitors reads and answers, for `/openapi.json`: viewers' public profiles with
/// `visit_time` and `unread`.
pub fn visitors_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    paged_of(extended(
        crate::people::Card::schema(),
        [
            ("visit_time", time()),
            ("unread", json!({"type": "boolean"})),
        ],
    ))
}
