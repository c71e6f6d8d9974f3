//! `POST /api/reports`: a user reports another; admins work the queue (`moderation.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use kotori::{Json, Res, State};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, SqlErr};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db;
use crate::db::entity::chat::message;
use crate::db::entity::safety::report;
use crate::envelope::ok;
use crate::limits;
use crate::params::Params;
use crate::people::account::{self, Take};
use crate::people::graph;
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
    let user_id = graph::someone_else(caller.user_id, params.parse_required("user_id")?, "report")?;
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
    let row = report::ActiveModel {
        reporter_id: Set(caller.user_id),
        reported_id: Set(user_id),
        reason: Set(reason.to_owned()),
        detail: Set(detail.to_owned()),
        msg_id: Set(msg_id),
        status: Set(OPEN.into()),
        open_key: Set(Some(open_key(caller.user_id, user_id))),
        created_at: Set(clock::now()),
        ..Default::default()
    };
    // Under the reporter's row lock, one report at a time: a second open report of the same
    // user is found and is 40901 without spending anything; then the try is taken (10 an
    // hour, 30 a day: reports filed, so a client that retries cannot lock itself out) and the
    // row written. Tries taken by a run that was not committed — the database failed, or ran
    // the work again — are given back.
    let (reporter, me) = (caller.user_id.to_string(), caller.user_id);
    let taken = Arc::new(AtomicU32::new(0));
    let filed = db::in_transaction(&state.db, |txn| {
        let (row, store) = (row.clone(), Arc::clone(&state.store));
        let (reporter, taken) = (reporter.clone(), Arc::clone(&taken));
        Box::pin(async move {
            account::take_caller(txn, me, Take::Update).await?;
            let already = report::Entity::find()
                .filter(report::Column::OpenKey.eq(open_key(me, user_id)))
                .one(txn)
                .await?;
            if already.is_some() {
                return Err(codes::conflict("you have an open report of this user"));
            }
            limits::REPORTS.take(&*store, &reporter).await?;
            taken.fetch_add(1, Ordering::Relaxed);
            Ok(row.insert(txn).await?)
        })
    })
    .await;
    let in_vain = taken.load(Ordering::Relaxed) - u32::from(filed.is_ok());
    for _ in 0..in_vain {
        limits::REPORTS.give_back(&*state.store, &reporter).await;
    }
    match filed {
        Ok(report) => Ok(ok(json!({ "report_id": report.id }))),
        Err(AppError::Database(e))
            if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            Err(codes::conflict("you have an open report of this user"))
        }
        Err(e) => Err(e),
    }
}

/// What create reads and answers, for `/openapi.json`.
pub fn create_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([("report_id", integer())]))
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
