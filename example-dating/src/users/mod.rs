//! Users: profiles, album, labels, the target-user loader, visits, hot and nearby lists. Who
//! may see whom is not decided here but in `people::visibility`, which every one of them asks.

pub mod album;
pub mod discover;
pub mod hot;
pub mod labels;
pub mod profile;
pub mod showcase;
pub mod target;
pub mod visits;

use serde_json::Value;

use crate::db::entity::users::user_info;
use crate::people::Card;
pub use crate::people::card::by_id;

/// A profile as anyone may see it (never `phone` or `email`): the [`Card`] of the row, for
/// answers that add their own fields to it.
pub fn public_profile(user: &user_info::Model) -> Value {
    Value::from(Card::of(user))
}
