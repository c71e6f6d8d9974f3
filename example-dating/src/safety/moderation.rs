//! The admins' moderation queue: `reports/list.json`, `reports/{report_id}/show.json` and
//! `reports/{report_id}/resolve.json` under `/manage/dating/admin/api`.

use kotori::{Json, Path, Res, State};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::reports::{OPEN, RESOLVED};
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::chat::message;
use crate::db::entity::safety::report;
use crate::db::entity::users::user_info;
use crate::envelope::ok;
use crate::manage::admin::{BAN_PRIVILEGE, admin_user_json};
use crate::manage::{Audit, Operator};
use crate::paging::Page;
use crate::params::Params;
use crate::people::{self, Change, account};
use crate::state::AppState;
use crate::validate;

fn report_json(r: &report::Model) -> Value {
    json!({
        "report_id": r.id,
        "reporter_id": r.reporter_id,
        "user_id": r.reported_id,
        "reason": r.reason,
        "detail": r.detail,
        "msg_id": r.msg_id,
        "status": r.status,
        "action": r.action,
        "note": r.note,
        "resolved_by": r.resolved_by,
        "created_at": clock::format(r.created_at),
        "resolved_at": r.resolved_at.map(clock::format),
    })
}

/// Reports, newest first, filtered by `status` (`open` or `resolved`) and `user_id` (the
/// reported user).
pub async fn list(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    Ok(ok(reports(&state, &params).await?))
}

/// The kept total of every report (`paging::cached_total`); all of one status add `:open` or
/// `:resolved`.
pub const ALL_REPORTS: &str = "reports:all";

/// A page of reports as [`list`] answers it, for `params`.
pub async fn reports(state: &AppState, params: &Params) -> Result<Value, AppError> {
    let page = Page::from_params(params)?;
    let mut query = report::Entity::find();
    let mut kept = match params.get("status").filter(|s| !s.is_empty()) {
        None => Some(ALL_REPORTS),
        Some(status @ (OPEN | RESOLVED)) => {
            query = query.filter(report::Column::Status.eq(status));
            Some(if status == OPEN {
                "reports:open"
            } else {
                "reports:resolved"
            })
        }
        Some(_) => return Err(codes::malformed("status", "open or resolved")),
    };
    if let Some(user) = params.parse_optional::<i64>("user_id")? {
        query = query.filter(report::Column::ReportedId.eq(user));
        // One user's reports are counted on their index.
        kept = None;
    }
    // The whole queue (or all of one status) is a scan: its total is kept, at most
    // `paging::TOTAL_TTL` old, never counted by the request.
    let query = query.order_by_desc(report::Column::Id);
    let (total, rows) = page.load_with(state.lists(), kept, query).await?;
    Ok(page.answer(total, rows.iter().map(report_json).collect()))
}

/// The report the path names.
#[derive(Clone, Debug)]
pub struct Report(pub report::Model);

/// The `reports/{report_id}` loader: 40401 for an unknown id.
#[kotori::loader]
pub async fn load_report(
    Path(report_id): Path<i64>,
    State(state): State<AppState>,
) -> Result<Report, AppError> {
    report::Entity::find_by_id(report_id)
        .one(&state.db)
        .await?
        .map(Report)
        .ok_or_else(codes::not_found)
}

/// The loaded report, with the reported user as admins see them and the message it names.
pub async fn show(
    report: Res<Report>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let r = &report.0;
    let mut v = report_json(r);
    let user = user_info::Entity::find_by_id(r.reported_id)
        .one(&state.db)
        .await?;
    v["user"] = user.as_ref().map_or(Value::Null, admin_user_json);
    if let Some(msg_id) = r.msg_id {
        let msg = message::Entity::find_by_id(msg_id).one(&state.db).await?;
        v["message"] = msg.map_or(Value::Null, |m| {
            json!({ "msg_id": m.id, "from_uid": m.from_uid, "to_uid": m.to_uid, "msg_type": m.msg_type, "content": m.content, "send_time": clock::format(m.send_time) })
        });
    }
    Ok(ok(v))
}

/// Resolves the loaded report with `action` `dismiss` or `ban` and an optional `note` (at most
/// 500 characters). `ban` needs the privilege `users/{id}/ban.json` needs (40301 without it),
/// bans the reported user with the same `people::account::ban_in` and resolves every open
/// report of that user, in one transaction. A resolved report is 40901.
pub async fn resolve(
    report: Res<Report>,
    operator: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let action = match params.required("action")? {
        action @ ("dismiss" | "ban") => action,
        _ => return Err(codes::malformed("action", "dismiss or ban")),
    };
    if action == "ban" && !operator.can(BAN_PRIVILEGE) {
        return Err(codes::forbidden());
    }
    let note = match params.get("note").filter(|n| !n.is_empty()) {
        Some(note) => Some(validate::text("note", note, 1, 500)?),
        None => None,
    };
    let now = clock::now();
    let r = &report.0;
    let resolved = |q: sea_orm::UpdateMany<report::Entity>| {
        q.col_expr(report::Column::Status, Expr::value(RESOLVED))
            .col_expr(report::Column::OpenKey, Expr::value(Option::<String>::None))
            .col_expr(report::Column::Action, Expr::value(action))
            .col_expr(report::Column::Note, Expr::value(note.clone()))
            .col_expr(report::Column::ResolvedBy, Expr::value(operator.id))
            .col_expr(report::Column::ResolvedAt, Expr::value(now))
            .filter(report::Column::Status.eq(OPEN))
    };
    let audit =
        Audit::new(&operator, "reports.resolve", format!("report:{}", r.id)).note(match &note {
            Some(note) => format!("{action}: {note}"),
            None => action.to_owned(),
        });
    let txn = crate::db::begin(&state.db).await?;
    // Only an open report changes: of two concurrent resolutions, one finds nothing to do.
    let this = resolved(report::Entity::update_many())
        .filter(report::Column::Id.eq(r.id))
        .exec(&txn)
        .await?;
    if this.rows_affected == 0 {
        return Err(codes::conflict("the report is resolved already"));
    }
    let mut banned = None;
    if action == "ban" {
        let reason = format!("report {}: {}", r.id, r.reason);
        banned = Some(
            account::ban_in(&state, &txn, r.reported_id, Some(reason))
                .await?
                .1,
        );
        resolved(report::Entity::update_many())
            .filter(report::Column::ReportedId.eq(r.reported_id))
            .exec(&txn)
            .await?;
    }
    audit.write(&txn).await?;
    txn.commit().await?;
    if let Some(moved) = banned {
        people::changed(&state, Change::Banned(r.reported_id, moved)).await;
    }
    let updated = report::Entity::find_by_id(r.id)
        .one(&state.db)
        .await?
        .ok_or_else(codes::not_found)?;
    Ok(ok(report_json(&updated)))
}

/// What load_report reads and answers, for `/openapi.json`.
pub fn load_report_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(id("report_id"))
        .refuses(404, 40401, "no such report")
}

/// A report's schema, for `/openapi.json`.
pub fn report_schema() -> Value {
    use crate::openapi::*;
    shape([
        ("report_id", integer()),
        ("reporter_id", integer()),
        ("user_id", integer()),
        ("reason", string()),
        ("detail", string()),
        ("msg_id", nullable(integer())),
        ("status", json!({"enum": ["open", "resolved"]})),
        ("action", nullable(json!({"enum": ["dismiss", "ban"]}))),
        ("note", nullable(string())),
        ("resolved_by", nullable(integer())),
        ("created_at", time()),
        ("resolved_at", nullable(time())),
    ])
}

/// What show answers, for `/openapi.json`: the report, the reported user as an admin sees
/// them, and the message it names (when it names one: `null` if that message is gone).
pub fn show_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    let message = shape([
        ("msg_id", integer()),
        ("from_uid", integer()),
        ("to_uid", integer()),
        ("msg_type", string()),
        ("content", nullable(string())),
        ("send_time", time()),
    ]);
    answers(with_optional(
        extended(
            report_schema(),
            [("user", nullable(crate::manage::admin::admin_user_schema()))],
        ),
        [("message", nullable(message))],
    ))
}

/// What list reads and answers, for `/openapi.json`.
pub fn list_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    paged_of(report_schema())
        .param(optional("status", json!({"enum": ["open", "resolved"]})))
        .param(optional("user_id", json!({"type": "integer"})))
}

/// What resolve reads and answers, for `/openapi.json`.
pub fn resolve_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(report_schema())
        .param(required("action", json!({"enum": ["dismiss", "ban"]})))
        .param(optional("note", text(0, 500)))
        .refuses(403, 40301, "`ban` without the users:ban privilege")
        .refuses(409, 40901, "the report is resolved already")
}
