//! Live rooms, their danmaku and mutes, and the operators who manage them.

/// A live room.
pub mod live {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "live")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The host operator.
        pub host_id: i64,
        pub title: String,
        /// `on_air` or `finished`.
        pub status: String,
        pub start_time: i64,
        pub end_time: Option<i64>,
        /// A viewer may post one danmaku per this many seconds; 0 is off (docs/src/dating/api/safety.md).
        #[sea_orm(default_value = 0)]
        pub slow_mode_secs: i32,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A comment sent to a live room.
pub mod danmaku {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "danmaku")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub live_id: i64,
        pub user_id: i64,
        pub content: String,
        pub send_time: i64,
        /// Hidden by a moderator (docs/src/dating/api/safety.md): out of every list, kept for the record.
        #[sea_orm(default_value = false)]
        pub deleted: bool,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A user muted in a live room, until a time or until the live ends.
pub mod live_mute {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "live_mute")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub live_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        /// `None`: until the live ends.
        pub until: Option<i64>,
        pub created_at: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An operator of the management console: an admin or a host.
pub mod operator {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "operator")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        /// `admin` or `host`.
        pub role: String,
        /// Comma-separated privileges (`users:read,live:write`).
        pub privileges: String,
        pub password_hash: String,
        pub created_at: i64,
        /// Disabled from the command line (`operator disable`): no login, no session.
        #[sea_orm(default_value = false)]
        pub disabled: bool,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An operator's session (12 hours by default), sent as `Authorization: Bearer`.
pub mod operator_token {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "operator_token")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token: String,
        pub operator_id: i64,
        pub expire_at: i64,
        pub created_at: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
