//! The database: connection, migrations, entities, seed data.

// Entity fields are the table columns, named for what they hold; the types document the rest.
#[allow(missing_docs)]
pub mod entity;
mod migration;
mod seed;

use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::codes::AppError;
use sea_orm_migration::MigratorTrait;

pub use migration::Migrator;
pub use seed::seed;

/// Connects to `url`. A SQLite file (the embedded default) runs in WAL mode with
/// `synchronous=NORMAL` (a commit appends to the log without waiting for the disk; a power cut
/// may lose the last commits, never corrupt the file) and a busy timeout, on
/// [`SQLITE_CONNECTIONS`] connections. An in-memory SQLite database exists per connection: it
/// gets one.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, Duration::from_secs(5)).await
}

/// The requests' pool to `url`, whose waits are bounded by `timeout`: for a connection (then
/// 50301), and on MariaDB and PostgreSQL for a lock — the database gives up on a statement
/// that waited that long for a row or a table another session holds, the statement fails
/// (50301) and its transaction is rolled back. Without the bound a request waited as long as
/// the lock's holder held it (forever on PostgreSQL, 50 s and two more tries on MariaDB), and a
/// few such requests held every connection of the pool (docs/src/dating/decisions.md, faults).
/// A statement that works is not cut, however long it takes: an erasure deletes what the
/// account holds, which grows with it. On SQLite `timeout` is the busy timeout, the wait for
/// the file's write lock.
pub async fn connect_with(url: &str, timeout: Duration) -> Result<DatabaseConnection, DbErr> {
    pool(url, timeout, Some(timeout)).await
}

/// A pool to `url` whose statements may wait for locks as long as they need: migrations (whose
/// `ALTER TABLE` waits for the tables), demo data, the command-line tools, and on MariaDB and
/// PostgreSQL the background reads of whole tables ([`background`]). `timeout` bounds the wait
/// for a connection only.
pub async fn connect_unbounded(url: &str, timeout: Duration) -> Result<DatabaseConnection, DbErr> {
    pool(url, timeout, None).await
}

/// A pool to `url`: `timeout` to connect and to wait for a connection, `locks` (if any) for a
/// lock.
async fn pool(
    url: &str,
    timeout: Duration,
    locks: Option<Duration>,
) -> Result<DatabaseConnection, DbErr> {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    let mut options = options(url, timeout);
    if url.starts_with("sqlite:") {
        if url.contains(":memory:") {
            options.max_connections(1).min_connections(1);
        } else {
            options
                .max_connections(SQLITE_CONNECTIONS)
                .min_connections(1);
            let busy = locks.unwrap_or(timeout);
            options.map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(busy)
            });
        }
    } else {
        // Connections open when first wanted, not here: a server whose database is down at
        // start listens anyway and migrates once it answers (`startup`).
        options.connect_lazy(true);
        // A network connection can die in the pool (a failover, a server's idle timeout): the
        // ping on checkout (sqlx's default, kept) hands out a fresh one instead, at the cost
        // of a round trip per checkout — a terminated connection then fails no request that
        // was not already using it (docs/src/dating/decisions.md, faults).
        options.max_connections(match locks {
            Some(_) => 16,
            None => UNBOUNDED_CONNECTIONS,
        });
        if let Some(bound) = locks {
            bound_lock_waits(&mut options, bound);
        }
    }
    Database::connect(options).await
}

/// Connections of an unbounded pool on MariaDB or PostgreSQL: the background reads and a
/// command's work, a few at a time.
const UNBOUNDED_CONNECTIONS: u32 = 4;

/// Sets every new connection of a MariaDB or PostgreSQL pool to give up on a lock wait after
/// `bound`: PostgreSQL's `lock_timeout`, a startup parameter; MySQL's and MariaDB's InnoDB row
/// lock wait and metadata lock wait (`LOCK TABLES`, DDL), session variables in whole seconds,
/// set once a connection opens.
fn bound_lock_waits(options: &mut ConnectOptions, bound: Duration) {
    let millis = bound.as_millis().max(1);
    options.map_sqlx_postgres_opts(move |o| o.options([("lock_timeout", format!("{millis}ms"))]));
    let seconds = bound.as_secs_f64().ceil().max(1.0) as u64;
    options.map_sqlx_mysql_pool_opts(move |o| {
        o.after_connect(move |conn, _| {
            Box::pin(async move {
                use sea_orm::sqlx::Executor as _;
                let set = format!(
                    "SET SESSION innodb_lock_wait_timeout = {seconds}, \
                     lock_wait_timeout = {seconds}"
                );
                // Built from a number, not from input: safe to send as SQL.
                conn.execute(sea_orm::sqlx::raw_sql(sea_orm::sqlx::AssertSqlSafe(set)))
                    .await?;
                Ok(())
            })
        })
    });
}

/// What every pool to `url` shares: no statement logging, `timeout` to connect and to wait
/// for a connection, and on SQLite no ping on checkout and stable plans on each connection.
fn options(url: &str, timeout: Duration) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(timeout)
        .acquire_timeout(timeout);
    if url.starts_with("sqlite:") {
        // A SQLite connection is a thread of this process: it cannot go stale, and sqlx's
        // default ping on every checkout would be a third round trip to that thread per
        // statement (beside the statement and the ping sqlx makes when one is returned).
        options.test_before_acquire(false);
        options.map_sqlx_sqlite_pool_opts(|o| {
            o.after_connect(|conn, _| {
                Box::pin(async move { plan_stability(conn, 1).await.map(drop) })
            })
        });
    }
    options
}

/// The connection for long reads off the request path — the background counts of big lists and
/// the loads of the derived indexes — given `db`, the server's pool to `url` without the
/// requests' bound ([`connect_unbounded`]).
///
/// On a SQLite file it is a second connection, opened read-only. In WAL mode SQLite serves a
/// reader beside the writer, each on a thread of its own, so a count of a million rows (about
/// 150 ms) runs beside the requests instead of in front of them on the one connection; and a
/// read-only connection never takes the write lock, which is what made more connections lose
/// ([`SQLITE_CONNECTIONS`]). Elsewhere it is `db` itself: on MariaDB and PostgreSQL a pool of
/// its own beside the requests' ([`connect_with`]), and an in-memory database exists only on
/// its one connection.
pub async fn background(
    url: &str,
    timeout: Duration,
    db: &DatabaseConnection,
) -> Result<DatabaseConnection, DbErr> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") {
        return Ok(db.clone());
    }
    let mut options = options(url, timeout);
    options.max_connections(1).min_connections(1);
    // No journal mode: the server's connection set WAL, which the file keeps, and a read-only
    // connection could not set it.
    options.map_sqlx_sqlite_opts(|o| o.read_only(true).busy_timeout(Duration::from_secs(5)));
    Database::connect(options).await
}

/// How many rows [`all_in_turns`] reads before it gives its thread back.
const ROWS_PER_TURN: usize = 10_000;

/// Every row of `selector`, read as a stream that gives its thread back to the runtime every
/// 10,000 rows (`ROWS_PER_TURN`). For the reads of whole tables (the index loads): `.all()` turns
/// every row into its value in one go once the last has arrived — a million locations are
/// about 0.4 s of a thread that serves requests, and every request queued on it waited.
pub async fn all_in_turns<S>(
    db: &DatabaseConnection,
    selector: sea_orm::Selector<S>,
) -> Result<Vec<S::Item>, DbErr>
where
    S: sea_orm::SelectorTrait + Send,
    S::Item: Send,
{
    use futures_util::TryStreamExt;
    let mut rows = selector.stream(db).await?;
    let mut all = Vec::new();
    while let Some(row) = rows.try_next().await? {
        all.push(row);
        if all.len() % ROWS_PER_TURN == 0 {
            tokio::task::yield_now().await;
        }
    }
    Ok(all)
}

/// SQLite's query-planner stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`) on a connection:
/// `set` 1 turns it on (what [`connect`] does to each new SQLite connection), 0 off, -1 only
/// asks; returns whether it is on.
///
/// Without it SQLite plans with the values bound to a statement — sea-orm binds every `LIMIT`
/// (`.one()` is `LIMIT ?`) — and marks the statement stale whenever such a value is bound
/// again, so sqlx's cached statements were parsed and planned anew on nearly every execution: a
/// tenth of the server's time in the login flow, by `perf`. No query of the app needs a plan
/// that depends on a bound value (its searches are index ranges, not `LIKE`).
#[allow(unsafe_code)]
pub async fn plan_stability(
    conn: &mut sea_orm::sqlx::SqliteConnection,
    set: std::ffi::c_int,
) -> Result<bool, sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut on: std::ffi::c_int = 0;
    // SAFETY: `db` is the open connection `handle` keeps locked during the call; the option
    // takes an int (1 on, 0 off, negative: unchanged) and a pointer to an int that receives the
    // setting after the call, which `on` outlives.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            set,
            &mut on as *mut std::ffi::c_int,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Protocol(format!(
            "sqlite3_db_config(SQLITE_DBCONFIG_ENABLE_QPSG) failed with code {rc}"
        )));
    }
    Ok(on != 0)
}

/// Connections to a SQLite file. One: readers beside the writer were measured (four
/// connections, transactions `IMMEDIATE`) and lost — the login flow fell from 2,115 to 1,759
/// flows/s, writers waiting in SQLite's sleeping busy handler — so they wait for an in-process
/// writer gate (docs/src/dating/decisions.md). [`begin`] stays correct for any number.
pub const SQLITE_CONNECTIONS: u32 = 1;

/// Begins a transaction. On SQLite it begins `IMMEDIATE`, taking the write lock at once: two
/// transactions that read, then write, take turns instead of one failing at its first write
/// (what a deferred transaction does when another wrote meanwhile), so a limit checked in a
/// transaction still holds at its insert — the guarantee `people::account::take` gives on the other
/// databases.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let immediate = db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: immediate.then_some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Applies every pending migration, then seeds.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    seed(db).await
}

/// A transaction's work, boxed: the future borrows the transaction.
pub type BoxFuture<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'c>>;

/// How many times a transaction the database aborted (deadlock, serialization failure) is run.
const TRIES: u32 = 3;

/// Runs `work` in a transaction and commits it. A transaction the database aborted to break a
/// deadlock or a serialization conflict is run again (up to three times): nothing of it was
/// written, so running it again is safe — and the client gets its answer instead of a 50301.
///
/// `work` gets the transaction and returns a boxed future that may borrow only it: clone what
/// it needs from the request into the closure.
pub async fn in_transaction<T, F>(db: &DatabaseConnection, work: F) -> Result<T, AppError>
where
    F: for<'c> Fn(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T, AppError>>,
{
    in_transaction_retrying(db, is_transient, work).await
}

/// [`in_transaction`], running `work` again on every database error `retry` accepts (up to
/// three runs in all): for work that reads again what made it fail — a lookup that finds the
/// row another transaction's commit made a unique key refuse.
pub async fn in_transaction_retrying<T, F>(
    db: &DatabaseConnection,
    retry: impl Fn(&DbErr) -> bool,
    work: F,
) -> Result<T, AppError>
where
    F: for<'c> Fn(&'c DatabaseTransaction) -> BoxFuture<'c, Result<T, AppError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        let txn = begin(db).await?;
        let result = match work(&txn).await {
            Ok(value) => txn.commit().await.map(|()| value).map_err(AppError::from),
            Err(e) => Err(e),
        };
        match result {
            Err(AppError::Database(e)) if tries < TRIES && retry(&e) => {
                tracing::debug!(error = %e, tries, "transaction aborted by the database; running it again");
            }
            other => return other,
        }
    }
}

/// Whether `e` says the database could not be reached — no connection to be had, or one that
/// broke — rather than that it refused what was asked: worth trying again later.
pub fn unreachable(e: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => {
            matches!(
                **sqlx,
                Error::Io(_)
                    | Error::Tls(_)
                    | Error::PoolTimedOut
                    | Error::PoolClosed
                    | Error::WorkerCrashed
            )
        }
        _ => false,
    }
}

/// Whether the database aborted the statement to resolve contention (MySQL 1213 deadlock,
/// PostgreSQL 40P01 and 40001, SQLite BUSY): worth one more try. A lock waited for until the
/// bound ([`connect_with`]) is not: another wait would double what the bound promises.
pub fn is_transient(e: &DbErr) -> bool {
    let code = match e {
        DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => {
            sqlx.as_database_error()
                .and_then(|d| d.code().map(|c| c.into_owned()))
        }
        _ => None,
    };
    matches!(
        code.as_deref(),
        Some("1213" | "40P01" | "40001" | "5" | "517")
    )
}
