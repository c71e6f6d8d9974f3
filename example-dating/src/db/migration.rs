//! The schema, as migrations that run unchanged on SQLite, MariaDB/MySQL and PostgreSQL.
//!
//! The first migration creates the tables from the entities (one source of truth for column
//! types on three backends) and an index for every lookup the API makes. Later changes are
//! written as explicit migrations after it, never by editing it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{EntityTrait, Schema};

use super::entity::chat::{contacts, message};
use super::entity::commerce::{product, user_order, vip_info};
use super::entity::rooms::{danmaku, live, live_mute, operator, operator_token};
use super::entity::safety::{block, report};
use super::entity::users::{
    label, location, user_album, user_auth, user_info, user_label, user_token, visitor,
};

/// Runs the migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_initial::Migration),
            Box::new(m20261121_000002_operator_tokens::Migration),
            Box::new(m20261122_000003_trust_and_safety::Migration),
            Box::new(m20261122_000004_user_search::Migration),
            Box::new(m20261202_000005_canonical_phones::Migration),
            Box::new(m20261203_000006_audit_log::Migration),
            Box::new(m20261204_000007_report_note_text::Migration),
            Box::new(m20261205_000008_operator_disabled::Migration),
        ]
    }
}

/// One index: name, table, columns, unique.
type IndexSpec = (&'static str, &'static str, &'static [&'static str], bool);

/// Every lookup the API makes has its index (the legacy schema had almost none).
const INDEXES: &[IndexSpec] = &[
    (
        "ux_user_auth_identity",
        "user_auth",
        &["login_type", "identifier"],
        true,
    ),
    ("ix_user_auth_user", "user_auth", &["user_id"], false),
    ("ix_user_info_created", "user_info", &["created_at"], false),
    ("ix_user_token_user", "user_token", &["user_id"], false),
    (
        "ix_user_album_user",
        "user_album",
        &["user_id", "id"],
        false,
    ),
    ("ix_label_gender", "label", &["gender"], false),
    (
        "ux_visitor_daily",
        "visitor",
        &["viewer_id", "viewed_id", "day"],
        true,
    ),
    (
        "ix_visitor_viewed",
        "visitor",
        &["viewed_id", "visit_time"],
        false,
    ),
    (
        "ix_visitor_time",
        "visitor",
        &["visit_time", "viewed_id"],
        false,
    ),
    (
        "ux_contacts_pair",
        "contacts",
        &["user_id", "peer_id"],
        true,
    ),
    (
        "ix_contacts_recent",
        "contacts",
        &["user_id", "update_time"],
        false,
    ),
    (
        "ix_message_from",
        "message",
        &["from_uid", "to_uid", "id"],
        false,
    ),
    (
        "ix_message_to",
        "message",
        &["to_uid", "from_uid", "id"],
        false,
    ),
    ("ux_user_order_trade", "user_order", &["trade_no"], true),
    (
        "ix_user_order_user",
        "user_order",
        &["user_id", "id"],
        false,
    ),
    ("ix_user_order_pay", "user_order", &["pay", "id"], false),
    ("ix_live_host", "live", &["host_id", "status"], false),
    ("ix_live_status", "live", &["status", "id"], false),
    ("ix_danmaku_live", "danmaku", &["live_id", "id"], false),
    ("ux_operator_name", "operator", &["name"], true),
];

/// Creates each index of `specs`.
async fn create_indexes(manager: &SchemaManager<'_>, specs: &[IndexSpec]) -> Result<(), DbErr> {
    for (name, table, columns, unique) in specs {
        let mut index = Index::create();
        index.name(*name).table(Alias::new(*table));
        for column in *columns {
            index.col(Alias::new(*column));
        }
        if *unique {
            index.unique();
        }
        manager.create_index(index).await?;
    }
    Ok(())
}

mod m20261121_000001_initial {
    use super::*;

    pub(super) struct Migration;

    // Named explicitly: the derive would name it after the file, the same for every migration.
    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261121_000001_initial"
        }
    }

    fn create<E: EntityTrait>(schema: &Schema, entity: E) -> TableCreateStatement {
        schema.create_table_from_entity(entity)
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let schema = Schema::new(manager.get_database_backend());
            let tables = [
                create(&schema, user_auth::Entity),
                create(&schema, user_info::Entity),
                create(&schema, user_token::Entity),
                create(&schema, location::Entity),
                create(&schema, user_album::Entity),
                create(&schema, label::Entity),
                create(&schema, user_label::Entity),
                create(&schema, visitor::Entity),
                create(&schema, contacts::Entity),
                create(&schema, message::Entity),
                create(&schema, product::Entity),
                create(&schema, user_order::Entity),
                create(&schema, vip_info::Entity),
                create(&schema, live::Entity),
                create(&schema, danmaku::Entity),
                create(&schema, live_mute::Entity),
                create(&schema, operator::Entity),
            ];
            for table in tables {
                manager.create_table(table).await?;
            }
            create_indexes(manager, INDEXES).await?;
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for table in [
                "user_auth",
                "user_info",
                "user_token",
                "location",
                "user_album",
                "label",
                "user_label",
                "visitor",
                "contacts",
                "message",
                "product",
                "user_order",
                "vip_info",
                "live",
                "danmaku",
                "live_mute",
                "operator",
            ] {
                manager
                    .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                    .await?;
            }
            Ok(())
        }
    }
}

/// Operator sessions, added after the initial schema: a table and its lookup index.
mod m20261121_000002_operator_tokens {
    use super::*;

    pub(super) struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261121_000002_operator_tokens"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let schema = Schema::new(manager.get_database_backend());
            manager
                .create_table(schema.create_table_from_entity(operator_token::Entity))
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("ix_operator_token_operator")
                        .table(Alias::new("operator_token"))
                        .col(Alias::new("operator_id"))
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table(Alias::new("operator_token")).to_owned())
                .await
        }
    }
}

/// Trust and safety (docs/src/dating/api/safety.md): blocks, reports, hidden danmaku, slow mode, erased accounts.
///
/// The initial migration builds tables from the entities, so on a fresh database the new
/// columns exist already: each is added only where it is missing.
mod m20261122_000003_trust_and_safety {
    use super::*;

    pub(super) struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261122_000003_trust_and_safety"
        }
    }

    const INDEXES: &[IndexSpec] = &[
        (
            "ux_block_pair",
            "block",
            &["blocker_id", "blocked_id"],
            true,
        ),
        (
            "ix_block_blocked",
            "block",
            &["blocked_id", "blocker_id"],
            false,
        ),
        ("ux_report_open", "report", &["open_key"], true),
        ("ix_report_status", "report", &["status", "id"], false),
        (
            "ix_report_reported",
            "report",
            &["reported_id", "status"],
            false,
        ),
        ("ix_report_reporter", "report", &["reporter_id"], false),
    ];

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let schema = Schema::new(manager.get_database_backend());
            for table in [
                schema.create_table_from_entity(block::Entity),
                schema.create_table_from_entity(report::Entity),
            ] {
                manager.create_table(table).await?;
            }
            create_indexes(manager, INDEXES).await?;
            let columns = [
                (
                    "danmaku",
                    ColumnDef::new(Alias::new("deleted"))
                        .boolean()
                        .not_null()
                        .default(false)
                        .to_owned(),
                ),
                (
                    "live",
                    ColumnDef::new(Alias::new("slow_mode_secs"))
                        .integer()
                        .not_null()
                        .default(0)
                        .to_owned(),
                ),
                (
                    "user_info",
                    ColumnDef::new(Alias::new("deleted_at"))
                        .big_integer()
                        .null()
                        .to_owned(),
                ),
            ];
            for (table, mut column) in columns {
                let name = column.get_column_name();
                if !manager.has_column(table, &name).await? {
                    manager
                        .alter_table(
                            Table::alter()
                                .table(Alias::new(table))
                                .add_column(&mut column)
                                .to_owned(),
                        )
                        .await?;
                }
            }
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            for table in ["report", "block"] {
                manager
                    .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                    .await?;
            }
            Ok(())
        }
    }
}

/// The admin search at scale: a byte-wise search key for nickname prefixes, and indexes on it
/// and on the phone number. Existing rows get their key in batches.
mod m20261122_000004_user_search {
    use sea_orm_migration::sea_orm::{
        ActiveModelTrait, ColumnTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    };

    use super::*;

    pub(super) struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261122_000004_user_search"
        }
    }

    const INDEXES: &[IndexSpec] = &[
        ("ix_user_info_search", "user_info", &["search_key"], false),
        ("ix_user_info_phone", "user_info", &["phone"], false),
    ];

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            if !manager.has_column("user_info", "search_key").await? {
                manager
                    .alter_table(
                        Table::alter()
                            .table(Alias::new("user_info"))
                            .add_column(
                                ColumnDef::new(Alias::new("search_key"))
                                    .var_binary(255)
                                    .null(),
                            )
                            .to_owned(),
                    )
                    .await?;
            }
            create_indexes(manager, INDEXES).await?;
            // Rows written before the key existed: saving one sets its key (`before_save`).
            let db = manager.get_connection();
            loop {
                let batch = user_info::Entity::find()
                    .filter(user_info::Column::SearchKey.is_null())
                    .order_by_asc(user_info::Column::UserId)
                    .limit(1000)
                    .all(db)
                    .await?;
                if batch.is_empty() {
                    return Ok(());
                }
                for row in batch {
                    let nickname = row.nickname.clone();
                    let mut row = row.into_active_model();
                    row.nickname = sea_orm_migration::sea_orm::Set(nickname);
                    row.update(db).await?;
                }
            }
        }

        async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
            Ok(())
        }
    }
}

mod m20261202_000005_canonical_phones;
mod m20261203_000006_audit_log;
mod m20261204_000007_report_note_text;
mod m20261205_000008_operator_disabled;
