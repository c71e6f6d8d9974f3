//! VIP products, orders and memberships.

/// A VIP product (month, quarter, year).
pub mod product {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "product")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub description: String,
        /// Days of VIP it grants.
        pub vip_days: i32,
        pub price_cents: i64,
        pub active: bool,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An order for a product.
pub mod user_order {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_order")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub trade_no: String,
        pub user_id: i64,
        pub product_id: i64,
        pub product_name: String,
        pub vip_days: i32,
        pub fee_cents: i64,
        /// 0 unpaid, 1 paid, 2 cancelled.
        pub pay: i32,
        pub order_time: i64,
        pub pay_time: Option<i64>,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A user's VIP membership.
pub mod vip_info {
    use sea_orm::entity::prelude::*;

    /// A row.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "vip_info")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub deadline: i64,
    }

    /// No relations are declared: queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
