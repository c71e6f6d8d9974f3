//! The album: `GET /api/me/album`, `POST /api/me/album/add`, and under the
//! `/api/me/album/{photo_id}` node (which loads only the caller's own photo),
//! `POST .../delete`.

use kotori::{Json, Path, Res, State};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::{Value, json};

use super::showcase::photo_json;
use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::{self, entity::users::user_album};
use crate::envelope::ok;
use crate::params::Params;
use crate::people::account::{self, Take};
use crate::people::{self, Change};
use crate::state::AppState;
use crate::validate;

/// At most this many photos per user.
pub const MAX_PHOTOS: u64 = 9;

/// A user's photos, oldest first.
pub async fn photos_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<Value>, AppError> {
    let photos = user_album::Entity::find()
        .filter(user_album::Column::UserId.eq(user_id))
        .order_by_asc(user_album::Column::Id)
        .all(db)
        .await?;
    Ok(photos.iter().map(|p| photo_json(p.id, &p.photo)).collect())
}

/// The caller's album.
pub async fn list(
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    Ok(ok(
        json!({ "list": photos_of(&state.db, caller.user_id).await? }),
    ))
}

/// Adds a photo (an http(s) URL); a tenth is 40901.
pub async fn add(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let photo = validate::url("photo", params.required("photo")?)?;
    // Count and insert under the owner's row lock: concurrent adds cannot all see eight.
    let user_id = caller.user_id;
    let row = db::in_transaction(&state.db, |txn| {
        let photo = photo.clone();
        Box::pin(async move {
            account::take_caller(txn, user_id, Take::Update).await?;
            let count = user_album::Entity::find()
                .filter(user_album::Column::UserId.eq(user_id))
                .count(txn)
                .await?;
            if count >= MAX_PHOTOS {
                return Err(codes::conflict(format!(
                    "the album holds at most {MAX_PHOTOS} photos"
                )));
            }
            let row = user_album::ActiveModel {
                user_id: Set(user_id),
                photo: Set(photo),
                created_at: Set(clock::now()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Ok(row)
        })
    })
    .await?;
    people::changed(&state, Change::Profile(user_id)).await;
    Ok(ok(photo_json(row.id, &row.photo)))
}

/// The photo of the path, if it is the caller's: someone else's photo is 40401.
#[kotori::loader]
pub async fn load_own_photo(
    Path(photo_id): Path<i64>,
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<user_album::Model, AppError> {
    user_album::Entity::find_by_id(photo_id)
        .one(&state.db)
        .await?
        .filter(|p| p.user_id == caller.user_id)
        .ok_or_else(codes::not_found)
}

/// Deletes the loaded photo.
pub async fn delete(
    photo: Res<user_album::Model>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    user_album::Entity::delete_by_id(photo.id)
        .exec(&state.db)
        .await?;
    people::changed(&state, Change::Profile(photo.user_id)).await;
    Ok(ok(json!({})))
}

/// What load_own_photo reads and answers, for `/openapi.json`.
pub fn load_own_photo_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(id("photo_id"))
        .refuses(404, 40401, "no such photo of yours")
}

/// What list answers, for `/openapi.json`.
pub fn list_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(list_of(super::showcase::photo_schema()))
}

/// What delete answers, for `/openapi.json`.
pub fn delete_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(empty())
}

/// What add reads and answers, for `/openapi.json`.
pub fn add_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(super::showcase::photo_schema())
        .param(required("photo", url()))
        .refuses(409, 40901, "at most nine photos")
}
