//! Authentication: signed requests (every path under `/api` and `/pay`), SMS login and the
//! sessions it opens.

pub mod handlers;
pub mod session;
pub mod signature;
pub mod sms;

pub use handlers::{login, logout, send_sms};
pub use session::{Caller, load_caller};
pub use signature::{verify_client_signature, verify_payment_signature};
