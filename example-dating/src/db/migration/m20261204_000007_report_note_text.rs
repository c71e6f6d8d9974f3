//! A report's resolution note as `TEXT`: the rule takes 500 characters, and MariaDB made the
//! column `VARCHAR(255)`, so a longer note failed the write (50301) there. SQLite does not
//! bound `VARCHAR`, and PostgreSQL's `VARCHAR` without a length is unbounded: only MySQL and
//! MariaDB change. A new database creates the column as `TEXT` from the entity already.

use super::*;
use crate::db::entity::safety::report;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000007_report_note_text"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DatabaseBackend::MySql {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(report::Entity)
                    .modify_column(ColumnDef::new(report::Column::Note).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Back to 255 characters would cut the notes that needed more.
        Ok(())
    }
}
