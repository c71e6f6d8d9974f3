//! `GET /api/me`, `POST /api/me/update`, `POST /api/me/location`.

use std::sync::Arc;

use kotori::{Json, Res, State};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    DbErr, EntityTrait, FromQueryResult, IntoActiveModel, QueryResult, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::showcase::{self, Showcase};
use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::commerce::vip;
use crate::db::{
    self,
    entity::users::{location, user_info},
};
use crate::envelope::{Answer, answer, ok};
use crate::params::Params;
use crate::people::account::{self, Take};
use crate::people::profile::Private;
use crate::people::{self, Authority, Card, Change, Standing};
use crate::state::AppState;
use crate::validate;

/// The caller's own profile as `/api/me` answers it: the public profile, and what only its
/// owner sees ([`Private`], the same fields the export and an admin see). Serialized straight into the response.
#[derive(Debug, Serialize)]
pub struct Mine {
    #[serde(flatten)]
    card: Card,
    #[serde(flatten)]
    private: Private,
    #[serde(flatten)]
    showcase: Arc<Showcase>,
    vip_deadline: Option<String>,
}

impl Mine {
    /// The schema of what `/api/me` answers, for `/openapi.json`: the public profile, then the
    /// owner's own fields, labels and album.
    pub fn schema() -> Value {
        use crate::openapi::{extended, json, nullable, time};
        use crate::users::showcase::{label_schema, photo_schema};
        extended(
            Private::schema(),
            [
                ("labels", json!({"type": "array", "items": label_schema()})),
                ("album", json!({"type": "array", "items": photo_schema()})),
                ("vip_deadline", nullable(time())),
            ],
        )
    }
}

/// The caller's own profile: their labels and album (one statement, unless this instance
/// keeps them: `people::cache`) beyond the row `me` holds.
async fn mine(
    state: &AppState,
    user: &user_info::Model,
    vip_deadline: Option<i64>,
) -> Result<Mine, AppError> {
    let user_id = user.user_id;
    let showcase = state
        .people()
        .derived(user_id, || showcase::of(&state.db, user_id))
        .await?;
    Ok(Mine {
        card: Card::of(user),
        private: Private::of(user),
        showcase,
        vip_deadline: vip_deadline.map(clock::format),
    })
}

/// The caller's own row and VIP deadline, loaded once for everything under `/api/me`.
#[derive(Clone, Debug)]
pub struct Me {
    /// The caller's row.
    pub user: user_info::Model,
    /// When the caller's VIP membership ends (or ended); `None` if they never had one.
    pub vip_deadline: Option<i64>,
}

impl FromQueryResult for Me {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Me {
            user: user_info::Model::from_query_result(row, pre)?,
            vip_deadline: row.try_get(pre, "vip_deadline")?,
        })
    }
}

/// The caller's row with their VIP deadline (a subquery: one statement, unless this instance
/// keeps them — `people::cache`, forgotten by every change of the caller's row or membership):
/// a token whose account is gone or not live is 40105.
#[kotori::loader]
pub async fn load_me(caller: Res<Caller>, State(state): State<AppState>) -> Result<Me, AppError> {
    let read = || async {
        user_info::Entity::find_by_id(caller.user_id)
            .expr_as(vip::deadline_of_row(), "vip_deadline")
            .into_model::<Me>()
            .one(&state.db)
            .await?
            .ok_or_else(codes::bad_token)
    };
    let me = state.people().derived(caller.user_id, read).await?;
    if Standing::of(&me.user) != Standing::Live {
        return Err(codes::bad_token());
    }
    Ok(Me::clone(&me))
}

/// The caller's own profile, with phone, labels, album and VIP deadline.
pub async fn show_me(
    me: Res<Me>,
    State(state): State<AppState>,
) -> Result<Json<Answer<Mine>>, AppError> {
    Ok(answer(mine(&state, &me.user, me.vip_deadline).await?))
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
///
/// A field sent empty is cleared where a profile may be without it — every field a new account
/// lacks (email, birthday, avatar, height, emotion, sexual, education, salary) — and refused
/// (40002) where every profile has one (nickname, gender, authority): an empty value was sent,
/// so it is never taken for a field left out.
pub async fn update_me(
    me: Res<Me>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Answer<Mine>>, AppError> {
    if !FIELDS.iter().any(|f| params.get(f).is_some()) {
        return Err(codes::missing(&format!("any of {}", FIELDS.join(", "))));
    }
    let mut row = me.user.clone().into_active_model();
    if let Some(v) = params.get("nickname") {
        row.nickname = Set(validate::nickname(v)?);
    }
    if let Some(v) = params.get("email") {
        row.email = Set(unless_empty(v, validate::email)?);
    }
    if let Some(v) = params.get("birthday") {
        row.birthday = Set(unless_empty(v, validate::birthday)?);
    }
    if let Some(v) = params.get("avatar") {
        row.avatar = Set(unless_empty(v, |v| validate::url("avatar", v))?);
    }
    if let Some(v) = params.get("gender") {
        row.gender = Set(validate::int_value("gender", v, 0..=2)?);
    }
    if let Some(v) = params.get("authority") {
        let code = validate::int_value("authority", v, 0..=2)?;
        row.authority = Set(Authority::from_code(code).ok_or_else(codes::internal)?);
    }
    for (name, range, field) in [
        ("height", 100..=250, &mut row.height),
        ("emotion", 0..=3, &mut row.emotion),
        ("sexual", 1..=3, &mut row.sexual),
        ("education", 0..=5, &mut row.education),
        ("salary", 1..=6, &mut row.salary),
    ] {
        if let Some(v) = params.get(name) {
            *field = Set(unless_empty(v, |v| validate::int_value(name, v, range))?);
        }
    }
    row.updated_at = Set(clock::now());
    // On the row as it is now, locked: who may see the caller moves the count of public
    // people, and an erasure since the token was read must not get a nickname back.
    let user = people::account::edit(&state, me.user.user_id, row).await?;
    Ok(answer(mine(&state, &user, me.vip_deadline).await?))
}

/// `None` for an empty value (the field cleared), else the value `check` makes of it.
fn unless_empty<T>(
    raw: &str,
    check: impl FnOnce(&str) -> Result<T, AppError>,
) -> Result<Option<T>, AppError> {
    if raw.is_empty() {
        Ok(None)
    } else {
        check(raw).map(Some)
    }
}

/// Records the caller's location: the database row is the truth; every instance's index of
/// places (`people::geo`) is told, this one before the answer.
pub async fn set_location(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let (lat, lng) = validate::lat_lng(&params)?;
    let row = location::ActiveModel {
        user_id: Set(caller.user_id),
        lat: Set(lat),
        lng: Set(lng),
        updated_at: Set(clock::now()),
    };
    let user_id = caller.user_id;
    // Not after an erasure, which deletes the location (`account::take_caller`).
    db::in_transaction(&state.db, |txn| {
        let row = row.clone();
        Box::pin(async move {
            account::take_caller(txn, user_id, Take::Share).await?;
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
                .exec_without_returning(txn)
                .await?;
            Ok(())
        })
    })
    .await?;
    people::changed(&state, Change::Moved(caller.user_id, lat, lng)).await;
    Ok(ok(json!({})))
}

/// What load_me reads and answers, for `/openapi.json`.
pub fn load_me_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new().refuses(401, 40105, "the account is gone")
}

/// What show_me answers, for `/openapi.json`.
pub fn show_me_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(Mine::schema())
}

/// What update_me reads and answers, for `/openapi.json`.
pub fn update_me_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(Mine::schema())
        // The contract's 32, which JSON Schema counts in code points: a client that checks it
        // is stricter than the rule, which counts characters as read (validate.rs).
        .param(optional(
            "nickname",
            json!({"type": "string", "minLength": 2, "maxLength": 32,
                   "description": "2 to 32 characters as read: the server counts an emoji sequence or a letter with its accents as one, up to 255 code points in all"}),
        ))
        .param(optional(
            "email",
            clearable(json!({"type": "string", "format": "email", "maxLength": 255,
                   "description": "at most 255 bytes"})),
        ))
        .param(optional("gender", int(0, 2)))
        .param(optional(
            "birthday",
            clearable(json!({"type": "string", "format": "date"})),
        ))
        .param(optional("height", clearable(int(100, 250))))
        .param(optional("emotion", clearable(int(0, 3))))
        .param(optional("sexual", clearable(int(1, 3))))
        .param(optional("education", clearable(int(0, 5))))
        .param(optional("salary", clearable(int(1, 6))))
        .param(optional("avatar", clearable(url())))
        .param(optional("authority", int(0, 2)))
}

/// What set_location reads and answers, for `/openapi.json`.
pub fn set_location_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(empty())
        .param(required(
            "lat",
            json!({"type": "number", "minimum": -90, "maximum": 90}),
        ))
        .param(required(
            "lng",
            json!({"type": "number", "minimum": -180, "maximum": 180}),
        ))
}
