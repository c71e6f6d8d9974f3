//! The management console's back end: operators (admins and hosts), their sessions and
//! guards, and the admin and shops subtrees.

pub mod admin;
pub mod guards;
pub mod operators;
pub mod page;
pub mod session;

pub use guards::{require_privilege, require_role};
pub use operators::{Operator, Role};
pub use session::{load_operator, load_operator_doc, login, login_doc};
