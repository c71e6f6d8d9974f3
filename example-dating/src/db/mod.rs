//! The database: connection, migrations, entities, seed data.

// Entity fields are the table columns, named for what they hold; the types document the rest.
#[allow(missing_docs)]
pub mod entity;
mod migration;
mod seed;

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

pub use migration::Migrator;
pub use seed::seed;

/// Connects to `url`. SQLite (the embedded default) gets one connection — it serializes writes
/// anyway, and an in-memory database exists per connection — in WAL mode with
/// `synchronous=NORMAL` (a commit appends to the log without waiting for the disk; a power cut
/// may lose the last commits, never corrupt the file) and a busy timeout.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5));
    if url.starts_with("sqlite:") {
        options.max_connections(1).min_connections(1);
        if !url.contains(":memory:") {
            options.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
            });
        }
    } else {
        options.max_connections(16);
    }
    Database::connect(options).await
}

/// Applies every pending migration, then seeds.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    seed(db).await
}
