//! A person as anyone may see them — the public profile every list shows — and the shapes a
//! `user_info` row is read into.
//!
//! Lists of people (the hot list, nearby) read many rows per request, and their cost was in
//! the reading: every column of a row copied out of the database's buffer, looked up by name
//! and, when NULL, described in an error string the decoder then throws away. A [`Card`] reads
//! only the columns it shows and the ones the visibility rule needs, by position, and
//! serializes straight into the answer without a `serde_json::Value` tree in between.

use std::collections::HashMap;

use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryResult, QuerySelect, Select, TryGetable,
};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::Authority;
use crate::codes::AppError;
use crate::db::entity::users::user_info;

/// A profile as anyone may see it: never `phone` or `email`. The fields serialized are the
/// public profile of the API (`user_id`, `nickname`, `gender`, `birthday`, `avatar`, `height`,
/// `emotion`, `sexual`, `education`, `salary`); the rest is what `people::visibility` reads.
///
/// ```
/// use example_dating::db::entity::users::user_info;
/// use example_dating::people::{Authority, card::Card};
///
/// let user = user_info::Model {
///     user_id: 7, nickname: "Mei".into(), phone: "+8613800000000".into(), email: None,
///     gender: 2, birthday: None, avatar: None, height: Some(165), emotion: None, sexual: None,
///     education: None, salary: None, authority: Authority::Everyone, banned: false,
///     ban_reason: None, created_at: 0, updated_at: 0, deleted_at: None, search_key: None,
/// };
/// let shown = serde_json::to_value(Card::of(&user)).unwrap();
/// assert_eq!(shown["nickname"], "Mei");
/// assert_eq!(shown["height"], 165);
/// assert!(shown.get("phone").is_none() && shown.get("authority").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Card {
    /// The account's id.
    pub user_id: i64,
    /// Shown name.
    pub nickname: String,
    /// 0 unknown, 1 male, 2 female.
    pub gender: i32,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// Centimetres.
    pub height: Option<i32>,
    /// Relationship status code.
    pub emotion: Option<i32>,
    /// Orientation code.
    pub sexual: Option<i32>,
    /// Education code.
    pub education: Option<i32>,
    /// Salary band code.
    pub salary: Option<i32>,
    /// Who may see the profile (not shown).
    #[serde(skip)]
    pub authority: Authority,
    /// Banned (not shown).
    #[serde(skip)]
    pub banned: bool,
    /// When the account was erased (not shown).
    #[serde(skip)]
    pub deleted_at: Option<i64>,
}

/// A card with its JSON written once, as this instance keeps it (`people::cache`): a list
/// shows it by copying that text instead of writing each field and escaping each string again
/// for every request.
#[derive(Debug)]
pub struct KeptCard {
    card: Card,
    json: Box<RawValue>,
}

impl KeptCard {
    /// Keeps `card`, writing its JSON.
    pub fn new(card: Card) -> KeptCard {
        // Plain fields and strings: serializing them cannot fail.
        let json = serde_json::value::to_raw_value(&card).expect("a card serializes");
        KeptCard { card, json }
    }

    /// The card's JSON object, `{"user_id": ..., ...}`.
    pub fn json(&self) -> &str {
        self.json.get()
    }
}

impl std::ops::Deref for KeptCard {
    type Target = Card;
    fn deref(&self) -> &Card {
        &self.card
    }
}

impl Serialize for KeptCard {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

/// The columns a [`Card`] reads, in the order it reads them.
const COLUMNS: [user_info::Column; 13] = [
    user_info::Column::UserId,
    user_info::Column::Nickname,
    user_info::Column::Gender,
    user_info::Column::Birthday,
    user_info::Column::Avatar,
    user_info::Column::Height,
    user_info::Column::Emotion,
    user_info::Column::Sexual,
    user_info::Column::Education,
    user_info::Column::Salary,
    user_info::Column::Authority,
    user_info::Column::Banned,
    user_info::Column::DeletedAt,
];

impl Card {
    /// The card of a whole row.
    pub fn of(user: &user_info::Model) -> Card {
        Card {
            user_id: user.user_id,
            nickname: user.nickname.clone(),
            gender: user.gender,
            birthday: user.birthday.clone(),
            avatar: user.avatar.clone(),
            height: user.height,
            emotion: user.emotion,
            sexual: user.sexual,
            education: user.education,
            salary: user.salary,
            authority: user.authority,
            banned: user.banned,
            deleted_at: user.deleted_at,
        }
    }

    /// The public profile's schema, for `/openapi.json`: the fields serialized above.
    pub fn schema() -> Value {
        use crate::openapi::{integer, nullable, shape, string};
        let code = || nullable(integer());
        shape([
            ("user_id", integer()),
            ("nickname", string()),
            ("gender", integer()),
            ("birthday", nullable(string())),
            ("avatar", nullable(string())),
            ("height", code()),
            ("emotion", code()),
            ("sexual", code()),
            ("education", code()),
            ("salary", code()),
        ])
    }
}

impl From<Card> for Value {
    fn from(card: Card) -> Value {
        // Plain fields and strings: serializing them cannot fail.
        serde_json::to_value(card).unwrap_or_default()
    }
}

/// The column at `index`, `None` for NULL.
fn nullable<T: TryGetable>(row: &QueryResult, index: usize) -> Result<Option<T>, DbErr> {
    row.try_get_by_index::<Option<T>>(index)
}

impl FromQueryResult for Card {
    /// Reads the columns of [`Row::select`] by position (`pre` is not used: a card is never
    /// read from a join).
    fn from_query_result(row: &QueryResult, _pre: &str) -> Result<Self, DbErr> {
        let authority: i32 = row.try_get_by_index(10)?;
        Ok(Card {
            user_id: row.try_get_by_index(0)?,
            nickname: row.try_get_by_index(1)?,
            gender: row.try_get_by_index(2)?,
            birthday: nullable(row, 3)?,
            avatar: nullable(row, 4)?,
            height: nullable(row, 5)?,
            emotion: nullable(row, 6)?,
            sexual: nullable(row, 7)?,
            education: nullable(row, 8)?,
            salary: nullable(row, 9)?,
            authority: Authority::try_from_value(&authority)?,
            banned: row.try_get_by_index(11)?,
            deleted_at: nullable(row, 12)?,
        })
    }
}

/// What the visibility rule (`people::visibility`) reads of a user's row: the whole row and a
/// [`Card`] both carry it.
pub trait Visible {
    /// The account's id.
    fn user_id(&self) -> i64;
    /// Who may see the profile.
    fn authority(&self) -> Authority;
    /// Banned by an admin.
    fn banned(&self) -> bool;
    /// The account was erased.
    fn erased(&self) -> bool;
}

/// The whole row and a card name the rule's columns alike: one implementation for both.
macro_rules! visible_by_fields {
    ($($shape:ty),*) => {$(
        impl Visible for $shape {
            fn user_id(&self) -> i64 {
                self.user_id
            }
            fn authority(&self) -> Authority {
                self.authority
            }
            fn banned(&self) -> bool {
                self.banned
            }
            fn erased(&self) -> bool {
                self.deleted_at.is_some()
            }
        }
    )*};
}

visible_by_fields!(user_info::Model, Card);

/// A kept card is seen as the card it holds.
impl Visible for KeptCard {
    fn user_id(&self) -> i64 {
        self.card.user_id
    }
    fn authority(&self) -> Authority {
        self.card.authority
    }
    fn banned(&self) -> bool {
        self.card.banned
    }
    fn erased(&self) -> bool {
        self.card.deleted_at.is_some()
    }
}

/// A shared card (`people::cache`) is seen as the card it holds.
impl<T: Visible> Visible for std::sync::Arc<T> {
    fn user_id(&self) -> i64 {
        (**self).user_id()
    }
    fn authority(&self) -> Authority {
        (**self).authority()
    }
    fn banned(&self) -> bool {
        (**self).banned()
    }
    fn erased(&self) -> bool {
        (**self).erased()
    }
}

/// A shape a `user_info` row is read into by the people-loading queries
/// (`users::by_id`, `visibility::shown_to`): the whole row, or a [`Card`].
pub trait Row: FromQueryResult + Visible + Send + Sync + Sized + 'static {
    /// The query reading this shape's columns.
    fn select() -> Select<user_info::Entity>;
}

impl Row for user_info::Model {
    fn select() -> Select<user_info::Entity> {
        user_info::Entity::find()
    }
}

impl Row for Card {
    fn select() -> Select<user_info::Entity> {
        user_info::Entity::find().select_only().columns(COLUMNS)
    }
}

/// The users with these ids, by id, in one query, read as `R` (the whole row, or a [`Card`]
/// where only the public profile is shown): lists show the people they mention. No query for
/// no ids.
pub async fn by_id<R: Row>(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, R>, AppError> {
    by_id_where(db, ids, Condition::all()).await
}

/// [`by_id`], only the rows that also meet `condition` (`visibility::shown_to` adds the rule).
pub async fn by_id_where<R: Row>(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
    condition: Condition,
) -> Result<HashMap<i64, R>, AppError> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let users = R::select()
        .filter(user_info::Column::UserId.is_in(ids))
        .filter(condition)
        .into_model::<R>()
        .all(db)
        .await?;
    Ok(users.into_iter().map(|u| (u.user_id(), u)).collect())
}
