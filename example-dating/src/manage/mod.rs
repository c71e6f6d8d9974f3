//! The management console's back end: operators (admins and hosts), what the command line
//! does to them (`roster`), their sessions and guards, and the admin and shops subtrees.

pub mod admin;
pub mod audit;
pub mod cookie;
pub mod forms;
pub mod guards;
pub mod operators;
pub mod page;
pub mod roster;
pub mod session;

pub use audit::Audit;
pub use guards::{require_privilege, require_role};
pub use operators::{Operator, Role};
pub use session::{
    Session, load_operator, load_operator_doc, load_session, load_session_doc, login, login_doc,
    logout, logout_doc,
};
