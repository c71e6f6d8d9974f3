//! Labels: `GET /api/labels`, `POST /api/me/labels`.

use std::collections::BTreeSet;

use kotori::{Json, Res, State};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::showcase::label_json;
use crate::auth::Caller;
use crate::codes::{self, AppError};
use crate::db::{
    self,
    entity::users::{label, user_label},
};
use crate::envelope::ok;
use crate::params::Params;
use crate::people::account::{self, Take};
use crate::people::{self, Change};
use crate::state::AppState;
use crate::validate;

/// At most this many labels per user.
pub const MAX_LABELS: usize = 10;

/// The labels a user wears.
pub async fn labels_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<Value>, AppError> {
    // One statement: the user's label ids as a subquery.
    let worn = Query::select()
        .column(user_label::Column::LabelId)
        .from(user_label::Entity)
        .and_where(user_label::Column::UserId.eq(user_id))
        .to_owned();
    let labels = label::Entity::find()
        .filter(label::Column::Id.in_subquery(worn))
        .order_by_asc(label::Column::Id)
        .all(db)
        .await?;
    Ok(labels.iter().map(label_json).collect())
}

/// Every label, or those for one gender (and the neutral ones).
pub async fn list(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let mut query = label::Entity::find().order_by_asc(label::Column::Id);
    if let Some(gender) = validate::int_in(&params, "gender", 0..=2)? {
        query = query.filter(
            Condition::any()
                .add(label::Column::Gender.eq(gender))
                .add(label::Column::Gender.eq(0)),
        );
    }
    let labels = query.all(&state.db).await?;
    Ok(ok(
        json!({ "list": labels.iter().map(label_json).collect::<Vec<_>>() }),
    ))
}

/// Replaces the caller's labels with `label_ids` (comma-separated, at most ten, all existing).
pub async fn set_mine(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let raw = params
        .get("label_ids")
        .ok_or_else(|| codes::missing("label_ids"))?;
    let mut ids = BTreeSet::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        ids.insert(
            part.parse::<i64>()
                .map_err(|_| codes::malformed("label_ids", "comma-separated label ids"))?,
        );
    }
    if ids.len() > MAX_LABELS {
        return Err(codes::malformed("label_ids", "at most 10 labels"));
    }
    // Clearing the labels (an empty list) asks the database nothing about them.
    let mut known = if ids.is_empty() {
        Vec::new()
    } else {
        label::Entity::find()
            .filter(label::Column::Id.is_in(ids.iter().copied()))
            .all(&state.db)
            .await?
    };
    if known.len() != ids.len() {
        return Err(codes::unknown("label_ids"));
    }
    // Replace the whole set atomically, one replacement at a time per user (the owner's row
    // lock): two concurrent replacements end with one of the two sets, never their union.
    let user_id = caller.user_id;
    db::in_transaction(&state.db, |txn| {
        let ids = ids.clone();
        Box::pin(async move {
            account::take_caller(txn, user_id, Take::Update).await?;
            user_label::Entity::delete_many()
                .filter(user_label::Column::UserId.eq(user_id))
                .exec(txn)
                .await?;
            if !ids.is_empty() {
                let rows = ids.iter().map(|&id| user_label::ActiveModel {
                    user_id: sea_orm::Set(user_id),
                    label_id: sea_orm::Set(id),
                });
                user_label::Entity::insert_many(rows).exec(txn).await?;
            }
            Ok(())
        })
    })
    .await?;
    people::changed(&state, Change::Profile(user_id)).await;
    // The set this request wrote, as `labels_of` lists it: no second read.
    known.sort_by_key(|l| l.id);
    Ok(ok(
        json!({ "list": known.iter().map(label_json).collect::<Vec<_>>() }),
    ))
}

/// What list reads and answers, for `/openapi.json`.
pub fn list_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(list_of(super::showcase::label_schema())).param(optional("gender", int(0, 2)))
}

/// What set_mine reads and answers, for `/openapi.json`.
pub fn set_mine_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(list_of(super::showcase::label_schema()))
        .param(required(
            "label_ids",
            json!({"type": "string", "pattern": "^[0-9]+(,[0-9]+){0,9}$",
                   "description": "comma-separated label ids, at most 10"}),
        ))
        .refuses(404, 40401, "an id that names no label")
}
