//! Trust and safety (docs/src/dating/api/safety.md): blocks, reports and the admins' moderation queue, account
//! deletion and export. Danmaku moderation lives with the live actions (`live/moderation.rs`).

pub mod account;
pub mod blocks;
pub mod export;
pub mod moderation;
pub mod reports;
