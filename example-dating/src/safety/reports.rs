//! `POST /api/reports`: a user reports another; admins work the queue (`moderation.rs`).

use kotori::{Json, Res, State};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, SqlErr};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::chat::message;
use crate::db::entity::safety::report;
use crate::envelope::ok;
use crate::limits;
use crate::params::Params;
use crate::state::AppState;

/// What a report may say about a user.
pub const REASONS: [&str; 6] = [
    "spam",
    "fake",
    "harassment",
    "underage",
    "inappropriate",
    "other",
];

/// `open`, until an admin resolves it.
pub const OPEN: &str = "open";
/// Resolved by an admin (`dismiss` or `ban`).
pub const RESOLVED: &str = "resolved";

/// The unique key of an open report: one per reporter and reported user.
pub fn open_key(reporter: i64, reported: i64) -> String {
    format!("{reporter}:{reported}")
}

/// Reports `user_id` (any user who exists, blocked or not) for `reason`, with `detail` (0–500
/// characters) and optionally `msg_id`, a message between the two. A second open report of the
/// same user by the same caller is 40901.
pub async fn create(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let user_id: i64 = params.parse_required("user_id")?;
    if user_id == caller.user_id {
        return Err(codes::malformed("user_id", "you cannot report yourself"));
    }
    let reason = params.required("reason")?;
    if !REASONS.contains(&reason) {
        return Err(codes::malformed("reason", &REASONS.join(", ")));
    }
    let detail = params.get("detail").unwrap_or("");
    if detail.chars().count() > 500 {
        return Err(codes::malformed("detail", "at most 500 characters"));
    }
    let msg_id = params.parse_optional::<i64>("msg_id")?;
    if !crate::people::account::exists(&state.db, user_id).await? {
        return Err(codes::not_found());
    }
    if let Some(msg_id) = msg_id {
        let (me, them) = (caller.user_id, user_id);
        let between = message::Entity::find_by_id(msg_id)
            .one(&state.db)
            .await?
            .is_some_and(|m| {
                (m.from_uid, m.to_uid) == (me, them) || (m.from_uid, m.to_uid) == (them, me)
            });
        if !between {
            return Err(codes::malformed(
                "msg_id",
                "not a message between you and the user",
            ));
        }
    }
    // Counted once the report is known to be well formed: 10 an hour, 30 a day.
    limits::REPORTS
        .take(&*state.store, &caller.user_id.to_string())
        .await?;
    let key = open_key(caller.user_id, user_id);
    let already = report::Entity::find()
        .filter(report::Column::OpenKey.eq(key.clone()))
        .one(&state.db)
        .await?;
    if already.is_some() {
        return Err(codes::conflict("you have an open report of this user"));
    }
    let row = report::ActiveModel {
        reporter_id: Set(caller.user_id),
        reported_id: Set(user_id),
        reason: Set(reason.to_owned()),
        detail: Set(detail.to_owned()),
        msg_id: Set(msg_id),
        status: Set(OPEN.into()),
        open_key: Set(Some(key)),
        created_at: Set(clock::now()),
        ..Default::default()
    };
    // Two concurrent reports: the unique open key lets one in, the other is the same 40901.
    match row.insert(&state.db).await {
        Ok(report) => Ok(ok(json!({ "report_id": report.id }))),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(codes::conflict("you have an open report of this user"))
        }
        Err(e) => Err(e.into()),
    }
}

/// What create reads and answers, for `/openapi.json`.
pub fn create_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(required(
            "user_id",
            json!({"type": "integer", "minimum": 1}),
        ))
        .param(required("reason", json!({"enum": REASONS})))
        .param(optional("detail", text(0, 500)))
        .param(optional("msg_id", json!({"type": "integer", "minimum": 1})))
        .refuses(429, 42901, "10 reports an hour, 30 a day (Retry-After)")
        .refuses(
            404,
            40401,
            "no such user, or the message is not between the two",
        )
        .refuses(
            409,
            40901,
            "an open report of this user by the caller exists",
        )
}
