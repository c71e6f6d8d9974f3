//! The operator resource and the guards that check it: role, privilege, and the
//! method-dependent privilege of the live-actions subtree under admin.

use http::Method;
use kotori::{Rejection, Res, named, step::Named};

use super::operators::Role;
use crate::codes;
use crate::db::entity::rooms::operator;

/// The operator behind the request's bearer token.
#[derive(Clone, Debug)]
pub struct Operator {
    /// The operator's id.
    pub id: i64,
    /// The login name.
    pub name: String,
    /// Admin or host.
    pub role: Role,
    /// The admin's privileges.
    pub privileges: Vec<String>,
}

impl Operator {
    /// From its row.
    pub fn from_row(row: &operator::Model) -> Self {
        Operator {
            id: row.id,
            name: row.name.clone(),
            role: Role::parse(&row.role).unwrap_or(Role::Host),
            privileges: row
                .privileges
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Whether the operator holds `privilege`.
    pub fn can(&self, privilege: &str) -> bool {
        self.privileges.iter().any(|p| p == privilege)
    }
}

/// A guard type for the console: a function of the loaded operator.
pub type OperatorGuard = Named<Box<dyn Fn(Res<Operator>) -> Result<(), Rejection> + Send + Sync>>;

/// 40301 unless the operator has `role`.
pub fn require_role(role: Role) -> OperatorGuard {
    named(
        format!("require_role({})", role.as_str()),
        Box::new(move |op: Res<Operator>| {
            if op.role == role {
                Ok(())
            } else {
                Err(codes::forbidden())
            }
        }) as Box<_>,
    )
}

/// 40301 unless the operator holds `privilege`.
pub fn require_privilege(privilege: &'static str) -> OperatorGuard {
    named(
        format!("require_privilege({privilege})"),
        Box::new(move |op: Res<Operator>| {
            if op.can(privilege) {
                Ok(())
            } else {
                Err(codes::forbidden())
            }
        }) as Box<_>,
    )
}

/// The admin side of the live-actions subtree: reading (GET) needs `live:read`, acting (POST)
/// `live:write`. One guard on the node keeps the shared subtree identical under admin and shops.
#[kotori::guard(name = "require_privilege(live:read for GET, live:write otherwise)")]
pub fn live_privilege(method: Method, op: Res<Operator>) -> Result<(), Rejection> {
    let needed = if method == Method::GET || method == Method::HEAD {
        "live:read"
    } else {
        "live:write"
    };
    if op.can(needed) {
        Ok(())
    } else {
        Err(codes::forbidden())
    }
}
