//! Users: identities, profiles, sessions, locations, photos, labels, visits.

/// A way to log in (`login_type` `phone`, `identifier` the phone). Unique per type and
/// identifier: two concurrent first logins of one phone cannot make two users.
pub mod user_auth {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_auth")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub login_type: String,
        pub identifier: String,
        pub created_at: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A profile.
pub mod user_info {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_info")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub user_id: i64,
        pub nickname: String,
        pub phone: String,
        pub email: Option<String>,
        pub gender: i32,
        pub birthday: Option<String>,
        pub avatar: Option<String>,
        pub height: Option<i32>,
        pub emotion: Option<i32>,
        pub sexual: Option<i32>,
        pub education: Option<i32>,
        pub salary: Option<i32>,
        /// Who may see the profile.
        pub authority: Authority,
        pub banned: bool,
        pub ban_reason: Option<String>,
        pub created_at: i64,
        pub updated_at: i64,
        /// Set when the account was erased (docs/src/dating/api/safety.md): the row stays, emptied, so that messages the
        /// user sent still name a sender ("deleted user") and orders their buyer.
        pub deleted_at: Option<i64>,
        /// The nickname as the admin search compares it ([`search_key`]), kept in step with
        /// `nickname` on every save; indexed.
        #[sea_orm(column_type = "VarBinary(StringLen::N(255))", nullable)]
        pub search_key: Option<Vec<u8>>,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    #[async_trait::async_trait]
    impl ActiveModelBehavior for ActiveModel {
        async fn before_save<C: ConnectionTrait>(
            mut self,
            _db: &C,
            _insert: bool,
        ) -> Result<Self, DbErr> {
            if let sea_orm::ActiveValue::Set(nickname) = &self.nickname {
                self.search_key = sea_orm::ActiveValue::Set(Some(search_key(nickname)));
            }
            Ok(self)
        }
    }

    /// Who may see a profile (`authority` in the API): stored as 0, 1, 2. The rule that uses
    /// it is `people::visibility`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "i32", db_type = "Integer")]
    pub enum Authority {
        /// Nobody but the user (0); an erased account is hidden too.
        #[sea_orm(num_value = 0)]
        Hidden,
        /// Everyone (1): what a first login registers.
        #[sea_orm(num_value = 1)]
        Everyone,
        /// The user's contacts only (2): people they exchanged a message with.
        #[sea_orm(num_value = 2)]
        Contacts,
    }

    impl Authority {
        /// The API's number for it.
        pub fn code(self) -> i32 {
            self.to_value()
        }

        /// The authority an API number names, if any.
        pub fn from_code(code: i32) -> Option<Self> {
            Self::try_from_value(&code).ok()
        }
    }

    /// What the admin search compares: the nickname's UTF-8 bytes with ASCII letters lowered,
    /// at most 255 bytes. Bytes compare the same way on SQLite, MariaDB and PostgreSQL, whatever
    /// their collations, so a prefix search finds the same users on all three.
    pub fn search_key(text: &str) -> Vec<u8> {
        let mut key = text.as_bytes().to_ascii_lowercase();
        key.truncate(255);
        key
    }
}

/// A login session: the token is the key; the store caches it.
pub mod user_token {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_token")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token: String,
        pub user_id: i64,
        pub expire_at: i64,
        pub created_at: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    /// A new session of `user_id` made at `now` (Unix seconds) for `ttl_secs`, not yet
    /// written: a random 128-bit token.
    pub fn new_session(user_id: i64, now: i64, ttl_secs: u64) -> Model {
        Model {
            token: crate::random::hex_token(16),
            user_id,
            expire_at: now + ttl_secs as i64,
            created_at: now,
        }
    }
}

/// The last known location of a user (the source of truth; the store holds a geo index).
pub mod location {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "location")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub lat: f64,
        pub lng: f64,
        pub updated_at: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A photo in a user's album (many per user).
pub mod user_album {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_album")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub photo: String,
        pub created_at: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A label users may wear ("outdoorsy"), optionally for one gender.
pub mod label {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "label")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        /// 0 any, 1 male, 2 female.
        pub gender: i32,
        pub meaning: String,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A label a user wears (many per user).
pub mod user_label {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_label")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub label_id: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A footprint: one per (viewer, viewed, day); a repeat visit updates its time.
pub mod visitor {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "visitor")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub viewer_id: i64,
        pub viewed_id: i64,
        /// UTC day number of the visit.
        pub day: i64,
        pub visit_time: i64,
        pub unread: bool,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
