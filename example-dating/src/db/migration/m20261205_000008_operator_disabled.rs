//! `operator.disabled`: an operator disabled from the command line (`operator disable`) logs
//! in no more and their sessions end. A new database creates the column from the entity
//! already (the first migration); an existing one gets it here, every operator enabled.

use super::*;
use crate::db::entity::rooms::operator;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000008_operator_disabled"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("operator", "disabled").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(operator::Entity)
                    .add_column(
                        ColumnDef::new(operator::Column::Disabled)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(operator::Entity)
                    .drop_column(operator::Column::Disabled)
                    .to_owned(),
            )
            .await
    }
}
