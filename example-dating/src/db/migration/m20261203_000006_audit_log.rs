//! The operators' audit log (`audit_log`): who did what to what, and when.

use super::*;
use crate::db::entity::safety::audit_log;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000006_audit_log"
    }
}

const INDEXES: &[IndexSpec] = &[
    (
        "ix_audit_log_operator",
        "audit_log",
        &["operator_id", "id"],
        false,
    ),
    ("ix_audit_log_target", "audit_log", &["target", "id"], false),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let schema = Schema::new(manager.get_database_backend());
        manager
            .create_table(schema.create_table_from_entity(audit_log::Entity))
            .await?;
        create_indexes(manager, INDEXES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(audit_log::Entity).to_owned())
            .await
    }
}
