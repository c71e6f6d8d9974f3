//! A person beyond their card: what only the owner (and an admin) may read, written in one
//! place for every answer that shows it — `/api/me`, the owner's export and the admin's user.
//!
//! Each of those answers once wrote the private fields itself, and three copies of "which
//! fields are private, and how they are spelled" can drift: a field added to one (or a rename)
//! would leave the others stale, and a new private column would have to be remembered three
//! times. [`Private`] is the owner's part, [`Whole`] the whole profile an admin and the export
//! show; their schemas for `/openapi.json` sit beside them.

use serde::Serialize;
use serde_json::{Value, json};

use super::Card;
use crate::clock;
use crate::db::entity::users::user_info;

/// What only a profile's owner and the admins see: never in a [`Card`].
///
/// ```
/// use example_dating::db::entity::users::user_info;
/// use example_dating::people::{Authority, profile::Private};
///
/// let user = user_info::Model {
///     user_id: 7, nickname: "Mei".into(), phone: "+8613800000000".into(), email: None,
///     gender: 2, birthday: None, avatar: None, height: None, emotion: None, sexual: None,
///     education: None, salary: None, authority: Authority::Contacts, banned: false,
///     ban_reason: None, created_at: 0, updated_at: 0, deleted_at: None, search_key: None,
/// };
/// let private = serde_json::to_value(Private::of(&user)).unwrap();
/// assert_eq!(private["phone"], "+8613800000000");
/// assert_eq!(private["authority"], 2);
/// ```
#[derive(Clone, Debug, Serialize)]
pub struct Private {
    phone: String,
    email: Option<String>,
    /// Who may see the profile, as the API's code (0 hidden, 1 everyone, 2 contacts).
    authority: i32,
}

impl Private {
    /// The private fields of a whole row.
    pub fn of(user: &user_info::Model) -> Private {
        Private {
            phone: user.phone.clone(),
            email: user.email.clone(),
            authority: user.authority.code(),
        }
    }

    /// The schema of the public profile with the fields above after it, for `/openapi.json`:
    /// what every answer showing the private fields starts from.
    pub fn schema() -> Value {
        use crate::openapi::{extended, int, nullable, string};
        extended(
            Card::schema(),
            [
                ("phone", string()),
                ("email", nullable(string())),
                ("authority", int(0, 2)),
            ],
        )
    }
}

/// A whole profile as its owner's export and an admin see it: the card, the private fields,
/// the ban and when the account was made.
#[derive(Clone, Debug, Serialize)]
pub struct Whole {
    #[serde(flatten)]
    card: Card,
    #[serde(flatten)]
    private: Private,
    banned: bool,
    created_at: String,
}

impl Whole {
    /// The whole profile of a row.
    pub fn of(user: &user_info::Model) -> Whole {
        Whole {
            card: Card::of(user),
            private: Private::of(user),
            banned: user.banned,
            created_at: clock::format(user.created_at),
        }
    }

    /// The whole profile as a JSON object, for answers that add fields of their own (an
    /// admin's `ban_reason`, the export's `vip_deadline`).
    pub fn json_of(user: &user_info::Model) -> Value {
        // Plain fields and strings: serializing them cannot fail.
        serde_json::to_value(Whole::of(user)).unwrap_or_default()
    }

    /// The schema of a whole profile, for `/openapi.json`: the public profile, then the
    /// fields only the owner and admins see.
    pub fn schema() -> Value {
        use crate::openapi::{extended, time};
        extended(
            Private::schema(),
            [
                ("banned", json!({"type": "boolean"})),
                ("created_at", time()),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::Authority;

    /// The whole profile is the card's fields, the private ones and the account's, each
    /// once, and the schema names exactly the fields written.
    #[test]
    fn the_whole_profile_writes_what_its_schema_names() {
        let user = user_info::Model {
            user_id: 9,
            nickname: "Lan".into(),
            phone: "+8613900000000".into(),
            email: Some("lan@example.com".into()),
            gender: 1,
            birthday: None,
            avatar: None,
            height: None,
            emotion: None,
            sexual: None,
            education: None,
            salary: None,
            authority: Authority::Hidden,
            banned: true,
            ban_reason: Some("spam".into()),
            created_at: 0,
            updated_at: 0,
            deleted_at: None,
            search_key: None,
        };
        let whole = Whole::json_of(&user);
        assert_eq!(whole["email"], "lan@example.com");
        assert_eq!(whole["authority"], 0);
        assert_eq!(whole["banned"], true);
        assert_eq!(whole["created_at"], "1970-01-01 00:00:00");
        assert!(
            whole.get("ban_reason").is_none(),
            "an admin's answer adds it"
        );
        let mut written: Vec<&String> = whole.as_object().unwrap().keys().collect();
        let schema = Whole::schema();
        let mut named: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        written.sort();
        named.sort();
        assert_eq!(written, named);
    }
}
