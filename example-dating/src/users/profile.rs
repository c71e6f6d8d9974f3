//! `GET /api/me`, `POST /api/me/update`, `POST /api/me/location`.

use kotori::{Json, Rejection, Res, State};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{Value, json};

use super::{album, labels, public_profile};
use crate::auth::Caller;
use crate::clock;
use crate::codes;
use crate::commerce::vip;
use crate::db::{
    self,
    entity::users::{location, user_info},
};
use crate::envelope::ok;
use crate::params::Params;
use crate::state::AppState;
use crate::validate;

/// The key of the geo index of user locations in the store.
pub const GEO_USERS: &str = "geo:users";

async fn me_json(state: &AppState, user: &user_info::Model) -> Result<Value, Rejection> {
    let mut me = public_profile(user);
    me["phone"] = json!(user.phone);
    me["email"] = json!(user.email);
    me["authority"] = json!(user.authority);
    me["labels"] = json!(labels::labels_of(&state.db, user.user_id).await?);
    me["album"] = json!(album::photos_of(&state.db, user.user_id).await?);
    me["vip_deadline"] = json!(
        vip::deadline(&state.db, user.user_id)
            .await?
            .map(clock::format)
    );
    Ok(me)
}

async fn me_row(state: &AppState, user_id: i64) -> Result<user_info::Model, Rejection> {
    user_info::Entity::find_by_id(user_id)
        .one(&state.db)
        .await
        .map_err(db::unavailable)?
        .ok_or_else(codes::bad_token)
}

/// The caller's own profile, with phone, labels, album and VIP deadline.
pub async fn show_me(
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<Json<Value>, Rejection> {
    let user = me_row(&state, caller.user_id).await?;
    Ok(ok(me_json(&state, &user).await?))
}

const FIELDS: [&str; 11] = [
    "nickname",
    "email",
    "gender",
    "birthday",
    "height",
    "emotion",
    "sexual",
    "education",
    "salary",
    "avatar",
    "authority",
];

/// Updates any of the profile fields; each is checked (40002 naming it), none is 40001.
pub async fn update_me(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, Rejection> {
    if !FIELDS
        .iter()
        .any(|f| params.get(f).is_some_and(|v| !v.is_empty()))
    {
        return Err(codes::missing(&format!("any of {}", FIELDS.join(", "))));
    }
    let user = me_row(&state, caller.user_id).await?;
    let mut row = user.into_active_model();
    let text = |name: &str| params.get(name).filter(|v| !v.is_empty());
    if let Some(v) = text("nickname") {
        row.nickname = Set(validate::nickname(v)?);
    }
    if let Some(v) = text("email") {
        row.email = Set(Some(validate::email(v)?));
    }
    if let Some(v) = text("birthday") {
        row.birthday = Set(Some(validate::birthday(v)?));
    }
    if let Some(v) = text("avatar") {
        row.avatar = Set(Some(validate::url("avatar", v)?));
    }
    if let Some(v) = validate::int_in(&params, "gender", 0..=2)? {
        row.gender = Set(v);
    }
    if let Some(v) = validate::int_in(&params, "authority", 0..=2)? {
        row.authority = Set(v);
    }
    for (name, range, field) in [
        ("height", 100..=250, &mut row.height),
        ("emotion", 0..=3, &mut row.emotion),
        ("sexual", 1..=3, &mut row.sexual),
        ("education", 0..=5, &mut row.education),
        ("salary", 1..=6, &mut row.salary),
    ] {
        if let Some(v) = validate::int_in(&params, name, range)? {
            *field = Set(Some(v));
        }
    }
    row.updated_at = Set(clock::now());
    let user = row.update(&state.db).await.map_err(db::unavailable)?;
    Ok(ok(me_json(&state, &user).await?))
}

/// Records the caller's location: the database row is the truth, the store's geo index serves
/// nearby searches.
pub async fn set_location(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, Rejection> {
    let (lat, lng) = validate::lat_lng(&params)?;
    let row = location::ActiveModel {
        user_id: Set(caller.user_id),
        lat: Set(lat),
        lng: Set(lng),
        updated_at: Set(clock::now()),
    };
    location::Entity::insert(row)
        .on_conflict(
            OnConflict::column(location::Column::UserId)
                .update_columns([
                    location::Column::Lat,
                    location::Column::Lng,
                    location::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await
        .map_err(db::unavailable)?;
    state
        .store
        .geo_add(GEO_USERS, &caller.user_id.to_string(), lng, lat)
        .await?;
    Ok(ok(json!({})))
}
