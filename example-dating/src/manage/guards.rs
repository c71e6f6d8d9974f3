//! The console's guards: functions of the loaded [`Operator`], each named after what it
//! requires so that the printed policy says it.

use kotori::{Named, Res, named};

use super::operators::{Operator, Role};
use crate::codes::{self, AppError};

/// 40301 unless the operator has `role`.
pub fn require_role(
    role: Role,
) -> Named<impl Fn(Res<Operator>) -> Result<(), AppError> + Send + Sync> {
    named(
        format!("require_role({})", role.as_str()),
        move |op: Res<Operator>| {
            if op.role == role {
                Ok(())
            } else {
                Err(codes::forbidden())
            }
        },
    )
    .declares(forbidden())
}

/// 40301 unless the operator holds `privilege`.
pub fn require_privilege(
    privilege: &'static str,
) -> Named<impl Fn(Res<Operator>) -> Result<(), AppError> + Send + Sync> {
    named(
        format!("require_privilege({privilege})"),
        move |op: Res<Operator>| {
            if op.can(privilege) {
                Ok(())
            } else {
                Err(codes::forbidden())
            }
        },
    )
    .declares(forbidden())
}

fn forbidden() -> kotori::openapi::Declares {
    kotori::openapi::Declares::new().refuses(403, 40301, "the operator lacks the role or privilege")
}
