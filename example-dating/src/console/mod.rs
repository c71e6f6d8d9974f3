//! The operator console in the browser: pages rendered on the server, mounted in the tree
//! beside the JSON API under the same nodes (`app.rs`), so the same guards and loaders run.
//! A UI layer: it reads the features (people, safety, commerce, live) and nothing depends on
//! it but the tree.
//!
//! - `home`: login, logout, the home page.
//! - `users`: user search and a user's page (reports, orders, ban).
//! - `reports`: the moderation queue and a report's page.
//! - `commerce`: orders and products.
//! - `lives`: the lives, a live's page and its danmaku feed (SSE).
//! - `audit`: the audit log.
//!
//! The rendering, the refusal pages and the form routes are in `manage::page` and
//! `manage::forms`; docs/src/dating/console.md is the operators' chapter.

pub mod audit;
pub mod commerce;
pub mod home;
pub mod lives;
pub mod reports;
pub mod users;

/// The admin subtree's pages.
pub const ADMIN: &str = "/manage/dating/admin/api";
/// The host subtree's pages.
pub const SHOPS: &str = "/manage/dating/shops/api";
