//! Chat: messages and the contact rows that list conversations.

/// One side of a conversation: `user_id`'s view of `peer_id`.
pub mod contacts {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "contacts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub peer_id: i64,
        /// Who sent the first message.
        pub creator_id: i64,
        #[sea_orm(column_type = "Text")]
        pub last_msg: String,
        pub unread: i32,
        pub update_time: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A message.
pub mod message {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "message")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub from_uid: i64,
        pub to_uid: i64,
        /// `text`, `audio` or `image`.
        pub msg_type: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub content: Option<String>,
        pub audio: Option<String>,
        pub duration: Option<i32>,
        pub image: Option<String>,
        pub send_time: i64,
        pub read: bool,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
