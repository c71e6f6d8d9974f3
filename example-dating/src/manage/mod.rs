//! The management console's back end: operators (admins and hosts), their sessions and
//! guards, and the admin and shops subtrees.

pub mod admin;
pub mod guards;
pub mod operators;
pub mod page;
pub mod session;

pub use guards::{Operator, live_privilege, require_privilege, require_role};
pub use session::{load_operator, login};
