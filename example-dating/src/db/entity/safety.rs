//! Trust and safety: blocks between users, and reports for the moderation queue.

/// `blocker_id` blocked `blocked_id`; a block hides each from the other (docs/src/dating/api/safety.md).
pub mod block {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "block")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub blocker_id: i64,
        pub blocked_id: i64,
        pub created_at: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A report of a user, open until an admin resolves it.
pub mod report {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "report")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub reporter_id: i64,
        pub reported_id: i64,
        /// `spam`, `fake`, `harassment`, `underage`, `inappropriate` or `other`.
        pub reason: String,
        #[sea_orm(column_type = "Text")]
        pub detail: String,
        pub msg_id: Option<i64>,
        /// `open` or `resolved`.
        pub status: String,
        /// `reporter:reported` while open, NULL once resolved: a unique index on it allows one
        /// open report per pair on every backend (MySQL has no partial indexes).
        pub open_key: Option<String>,
        /// `dismiss` or `ban`, once resolved.
        pub action: Option<String>,
        /// Up to 500 characters: `TEXT`, not MariaDB's 255-character `VARCHAR`.
        #[sea_orm(column_type = "Text", nullable)]
        pub note: Option<String>,
        pub resolved_by: Option<i64>,
        pub created_at: i64,
        pub resolved_at: Option<i64>,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What an operator did: one row per state-changing console action, written in the action's
/// own transaction (docs/src/dating/console.md).
pub mod audit_log {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub operator_id: i64,
        /// The operator's name then (names do not change, but rows outlive operators).
        pub operator_name: String,
        /// What was done: `users.ban`, `reports.resolve`, `live.finish`...
        pub action: String,
        /// What it was done to: `user:42`, `report:7`, `live:3`, `danmaku:91`...
        pub target: String,
        #[sea_orm(column_type = "Text")]
        pub note: String,
        pub created_at: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
