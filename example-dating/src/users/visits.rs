//! Visits: `GET /api/users/{user_id}/show` records a footprint; VIPs list theirs with
//! `GET /api/vip/visitors`.

use kotori::{Json, Res, State};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr};
use serde_json::{Value, json};

use super::target::Target;
use super::{album, can_see, hot, labels, public_profile};
use crate::auth::Caller;
use crate::chat::contacts;
use crate::clock;
use crate::codes::AppError;
use crate::db::entity::users::visitor;
use crate::envelope::ok;
use crate::paging::Page;
use crate::params::Params;
use crate::safety::blocks;
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
        record(&state, caller.user_id, user.user_id).await?;
    }
    let mut profile = public_profile(user);
    profile["labels"] = json!(labels::labels_of(&state.db, user.user_id).await?);
    profile["album"] = json!(album::photos_of(&state.db, user.user_id).await?);
    Ok(ok(profile))
}

/// Records `viewer`'s footprint on `viewed` for today, or moves today's to now. Only the request
/// that created the footprint counts it in the hot list: of two at once, the unique index lets
/// one insert and the other update.
async fn record(state: &AppState, viewer: i64, viewed: i64) -> Result<(), AppError> {
    let now = clock::now();
    let today = visitor::Entity::find()
        .filter(visitor::Column::ViewerId.eq(viewer))
        .filter(visitor::Column::ViewedId.eq(viewed))
        .filter(visitor::Column::Day.eq(clock::day(now)))
        .one(&state.db)
        .await?;
    if today.is_none() {
        let footprint = visitor::ActiveModel {
            viewer_id: Set(viewer),
            viewed_id: Set(viewed),
            day: Set(clock::day(now)),
            visit_time: Set(now),
            unread: Set(true),
            ..Default::default()
        };
        match visitor::Entity::insert(footprint)
            .exec_without_returning(&state.db)
            .await
        {
            Ok(_) => return Ok(hot::visited(&*state.store, viewed, now).await?),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    visitor::Entity::update_many()
        .col_expr(visitor::Column::VisitTime, Expr::value(now))
        .col_expr(visitor::Column::Unread, Expr::value(true))
        .filter(visitor::Column::ViewerId.eq(viewer))
        .filter(visitor::Column::ViewedId.eq(viewed))
        .filter(visitor::Column::Day.eq(clock::day(now)))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Who viewed the caller, newest first, with `visit_time` and `unread`; listing marks the
/// listed footprints read. Viewers the caller may not see are left out.
pub async fn visitors(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    let mine = visitor::Entity::find()
        .filter(visitor::Column::ViewedId.eq(caller.user_id))
        .filter(blocks::not_blocked_with(
            visitor::Column::ViewerId,
            caller.user_id,
        ));
    let (total, rows) = page
        .load(
            &state.db,
            mine.order_by_desc(visitor::Column::VisitTime)
                .order_by_desc(visitor::Column::Id),
        )
        .await?;
    let viewers = crate::users::by_id(&state.db, rows.iter().map(|r| r.viewer_id)).await?;
    let contacts =
        contacts::among_contacts_only(&state.db, caller.user_id, viewers.values()).await?;
    let list: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let viewer = viewers.get(&row.viewer_id)?;
            can_see(caller.user_id, viewer, contacts.contains(&viewer.user_id)).then(|| {
                let mut item = public_profile(viewer);
                item["visit_time"] = json!(clock::format(row.visit_time));
                item["unread"] = json!(row.unread);
                item
            })
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
