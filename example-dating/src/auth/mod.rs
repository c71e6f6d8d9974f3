//! Authentication: signed requests (every path under `/api` and `/pay`), SMS login and the
//! sessions it opens.

pub mod address;
pub mod handlers;
pub mod logins;
pub mod session;
pub mod signature;
pub mod sms;

pub use address::ClientAddress;
pub use handlers::{login, login_doc, logout, logout_doc, send_sms, send_sms_doc};
pub use session::{Caller, load_caller, load_caller_doc};
pub use signature::{
    verify_client_signature, verify_client_signature_doc, verify_payment_signature,
    verify_payment_signature_doc,
};
