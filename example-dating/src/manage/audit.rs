//! The audit log: every state-changing operator action writes one row — who, what, to what,
//! when, why — in the transaction of the change itself, so a change without its row (or a row
//! without its change) cannot be committed. Admins with `audit:read` read it.

use kotori::{Json, Res, State};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};

use super::operators::Operator;
use crate::clock;
use crate::codes::AppError;
use crate::db::entity::safety::audit_log;
use crate::envelope::ok;
use crate::paging::Page;
use crate::params::Params;
use crate::state::AppState;

/// The name the command line's entries carry for their operator.
pub const COMMAND_LINE: &str = "command line";

/// The privilege that reads the log.
pub const AUDIT_PRIVILEGE: &str = "audit:read";

/// One action about to be written: made from the operator and what they act on, written with
/// [`Audit::write`] inside the action's transaction.
#[derive(Clone, Debug)]
pub struct Audit {
    operator_id: i64,
    operator_name: String,
    action: &'static str,
    target: String,
    note: String,
}

impl Audit {
    /// `operator` does `action` (`users.ban`, `live.finish`...) to `target` (`user:42`...).
    pub fn new(operator: &Operator, action: &'static str, target: impl Into<String>) -> Self {
        Audit {
            operator_id: operator.id,
            operator_name: operator.name.clone(),
            action,
            target: target.into(),
            note: String::new(),
        }
    }

    /// `action` done from the command line (`operator disable` and the rest), which has no
    /// operator: the row's operator is [`COMMAND_LINE`], id 0 — whoever runs the command holds
    /// the database already.
    pub fn by_command_line(action: &'static str, target: impl Into<String>) -> Self {
        Audit {
            operator_id: 0,
            operator_name: COMMAND_LINE.to_owned(),
            action,
            target: target.into(),
            note: String::new(),
        }
    }

    /// Why, or with what (a ban's reason, a mute's length).
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Writes the row on `db`: pass the action's transaction.
    pub async fn write(&self, db: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
        audit_log::ActiveModel {
            operator_id: Set(self.operator_id),
            operator_name: Set(self.operator_name.clone()),
            action: Set(self.action.to_owned()),
            target: Set(self.target.clone()),
            note: Set(self.note.clone()),
            created_at: Set(clock::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(())
    }
}

/// An audit row as JSON.
pub fn audit_json(row: &audit_log::Model) -> Value {
    json!({
        "audit_id": row.id,
        "operator_id": row.operator_id,
        "operator_name": row.operator_name,
        "action": row.action,
        "target": row.target,
        "note": row.note,
        "created_at": clock::format(row.created_at),
    })
}

/// The kept total of the whole audit log (`paging::cached_total`).
pub const WHOLE_LOG: &str = "audit:all";

/// `GET audit/list.json`: newest first, optionally of one `target` (`user:42`) or
/// `operator_id`; paged like every list.
pub async fn list(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    let mut query = audit_log::Entity::find();
    // The whole log is a scan: its total is kept (at most `paging::TOTAL_TTL` old). One
    // target's or one operator's entries are counted on their index.
    let mut kept = Some(WHOLE_LOG);
    if let Some(target) = params.get("target").filter(|t| !t.is_empty()) {
        query = query.filter(audit_log::Column::Target.eq(target));
        kept = None;
    }
    if let Some(operator) = params.parse_optional::<i64>("operator_id")? {
        query = query.filter(audit_log::Column::OperatorId.eq(operator));
        kept = None;
    }
    let query = query.order_by_desc(audit_log::Column::Id);
    let (total, rows) = page.load_with(state.lists(), kept, query).await?;
    Ok(ok(page.answer(total, rows.iter().map(audit_json).collect())))
}

/// What list reads and answers, for `/openapi.json`.
pub fn list_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    paged_of(shape([
        ("audit_id", integer()),
        ("operator_id", integer()),
        ("operator_name", string()),
        ("action", string()),
        ("target", string()),
        ("note", string()),
        ("created_at", time()),
    ]))
    .param(optional("target", text(1, 64)))
    .param(optional("operator_id", int(0, i64::MAX)))
}
