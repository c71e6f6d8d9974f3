//! People: the rules about accounts and about who may see whom, in one place under every
//! feature.
//!
//! kotori's tree makes a route unable to forget its guard; this layer does the same for the
//! rules one level down, which every feature that shows or changes a person needs:
//!
//! - [`account`]: an account's standing (live, banned, deleted) and every change of it — ban,
//!   unban, deletion, logout — each one transaction, followed by one [`account::changed`]
//!   call that tells every cache and open socket;
//! - [`sessions`]: the tokens of live accounts, cached in the store and revocable everywhere;
//!   a login or a lookup can never give a working token to a banned or deleted account;
//! - [`graph`]: contacts and blocks between two people;
//! - [`card`]: a person as anyone may see them (the public profile lists show), read narrow;
//! - [`profile`]: what only a profile's owner and the admins see, written once for `/api/me`,
//!   the export and the admin's user;
//! - [`cache`]: this instance's copies of cards and blocks, forgotten on every change, here
//!   and on the other instances;
//! - [`visibility`]: may A see B — once as a Rust predicate, once as a SQL condition, side by
//!   side (a property test holds them to the same answers on the three databases);
//! - [`footprints`]: visits, and the ranking they feed (the hot list's data);
//! - [`geo`]: where people are: the index nearby searches, one per instance, kept in step
//!   by the hub;
//! - [`phone`]: a phone number in its one canonical form.
//!
//! Features (users, chat, safety, live, manage) depend on this module, never the reverse.

pub mod account;
pub mod cache;
pub mod card;
pub mod footprints;
pub mod geo;
pub mod graph;
pub mod phone;
pub mod profile;
pub mod sessions;
pub mod visibility;

pub use crate::db::entity::users::user_info::Authority;
pub use account::{Change, Standing, changed};
pub use card::Card;
pub use card::Visible;
pub use visibility::{Relation, may_see};
