//! Startup: connecting to what the configuration names, migrating, and deriving the store's
//! indexes. The `serve`, `routes`, `demo-data` and `operator` commands all start here.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::auth::sms::{LogSender, SmsSender, WebhookSender};
use crate::config::Config;
use crate::db;
use crate::indexes;
use crate::realtime::Hub;
use crate::round_trips;
use crate::state::{AppState, Services};
use crate::store::{MemoryStore, RedisStore, Store, Watched};

/// Connects to the configured database and applies every pending migration (and the seed):
/// a pool whose lock waits are not bounded (a migration waits for its tables; see
/// [`db::connect_unbounded`]).
pub async fn database(config: &Config) -> Result<DatabaseConnection, String> {
    let db = unmigrated(config).await?;
    db::migrate(&db)
        .await
        .map_err(|e| migration_failed(&config.database_url, &e))?;
    Ok(db)
}

/// The pool [`database`] migrates, before it does: on MariaDB and PostgreSQL it connects when
/// first used.
async fn unmigrated(config: &Config) -> Result<DatabaseConnection, String> {
    db::connect_unbounded(&config.database_url, config.database_timeout)
        .await
        .map_err(|e| format!("database {}: {e}", config.database_url))
}

fn migration_failed(url: &str, e: &sea_orm::DbErr) -> String {
    match db::unreachable(e) {
        true => format!("database {url}: {e}"),
        false => format!("migrating the database: {e}"),
    }
}

/// How soon [`migrate_when_reachable`] tries again after the database did not answer.
const MIGRATION_RETRY: Duration = Duration::from_secs(1);

/// Migrates `db`, trying again every second while the database cannot be reached; another
/// failure (a migration the database refuses) is the answer.
async fn migrate_when_reachable(url: String, db: DatabaseConnection) -> Result<(), String> {
    loop {
        match db::migrate(&db).await {
            Ok(()) => return Ok(()),
            Err(e) if db::unreachable(&e) => {
                tracing::warn!(error = %e, "the database does not answer; migrating it once it does");
                tokio::time::sleep(MIGRATION_RETRY).await;
            }
            Err(e) => return Err(migration_failed(&url, &e)),
        }
    }
}

/// The migration of a MariaDB or PostgreSQL database: waited for as long as for a connection
/// (`DATABASE_TIMEOUT_MS`), then — the database still down — left to run in the background
/// while the server listens, its schema marked pending ([`AppState::schema`]): `/readyz` and
/// every route that needs the database answer 50301 until it is done. A SQLite file is
/// migrated before anything else: it is this process's own, and either opens or is misnamed.
async fn migrated(config: &Config) -> Result<(DatabaseConnection, Option<Pending>), String> {
    if config.database_url.starts_with("sqlite:") {
        return Ok((database(config).await?, None));
    }
    let db = unmigrated(config).await?;
    let mut task = tokio::spawn(migrate_when_reachable(
        config.database_url.clone(),
        db.clone(),
    ));
    match tokio::time::timeout(config.database_timeout, &mut task).await {
        Ok(done) => finished(done).map(|()| (db, None)),
        Err(_) => Ok((db, Some(task))),
    }
}

type Pending = tokio::task::JoinHandle<Result<(), String>>;

fn finished(joined: Result<Result<(), String>, tokio::task::JoinError>) -> Result<(), String> {
    joined.map_err(|e| format!("migrating the database: {e}"))?
}

/// Marks the schema migrated once `pending` is done. A migration that fails then leaves the
/// instance unready — `/readyz` says the migration failed, the log says why — serving nothing
/// that needs the database.
fn migrate_behind(state: &AppState, pending: Pending) {
    state.schema().set(false);
    let weak = state.downgrade();
    tokio::spawn(async move {
        match finished(pending.await) {
            Ok(()) => {
                if let Some(state) = weak.upgrade() {
                    state.schema().set(true);
                    tracing::info!("database migrated: serving");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the database could not be migrated: this instance stays unready");
                if let Some(state) = weak.upgrade() {
                    state.schema().give_up();
                }
            }
        }
    });
}

/// The database and store a server uses: every statement and store round trip counted for
/// the request that made it (`round_trips`, served on `/metrics`).
pub fn metered(
    mut db: DatabaseConnection,
    store: Arc<dyn Store>,
) -> (DatabaseConnection, Arc<dyn Store>) {
    db.set_metric_callback(|_| round_trips::statement());
    let hook: crate::store::watched::Hook = Box::new(|_, _| {
        round_trips::store_round_trip();
        Ok(())
    });
    (db, Arc::new(Watched::new(store, hook)))
}

/// The configured store: Redis when `REDIS_URL` is set, else the in-process one.
pub async fn store(config: &Config) -> Result<Arc<dyn Store>, String> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(
            RedisStore::connect_with(
                url,
                &config.store_prefix,
                config.redis_timeout,
                config.redis_connections,
            )
            .await
            .map_err(|e| format!("REDIS_URL: {e}"))?,
        ),
        None => {
            let store = Arc::new(MemoryStore::new());
            // Every signed request leaves a nonce and a signature: drop them once expired.
            store.sweep_every(Duration::from_secs(10));
            store
        }
    })
}

/// Everything the server needs: database (migrated — or, when it did not answer in time,
/// migrating in the background while the server listens), store, real-time hub, and the task
/// that loads and keeps the store's derived indexes in the background (`indexes.rs`).
pub async fn state(config: Config) -> Result<AppState, String> {
    // Boxed: held inline, its future (a migration's, a timeout's) made `main`'s too deep for
    // the compiler's layout queries in a release build.
    let (migrated, pending) = Box::pin(migrated(&config)).await?;
    // Requests wait for a lock no longer than for a connection (50301 past
    // it): on MariaDB and PostgreSQL a pool of their own; on SQLite the one the schema was
    // migrated on (an in-memory database exists only there).
    let requests = if config.database_url.starts_with("sqlite:") {
        migrated.clone()
    } else {
        let requests = db::connect_with(&config.database_url, config.database_timeout)
            .await
            .map_err(|e| format!("database {}: {e}", config.database_url))?;
        // Its connections open when first wanted: one now, while nobody waits, when the
        // database answered (the first requests then find one open).
        if pending.is_none() {
            let _ = requests.ping().await;
        }
        requests
    };
    let (db, store) = metered(requests, store(&config).await?);
    let background_db = db::background(&config.database_url, config.database_timeout, &migrated)
        .await
        .map_err(|e| format!("database {} (background reads): {e}", config.database_url))?;
    let sms = sms_sender(&config)?;
    let hub = match &config.redis_url {
        Some(url) => Hub::with_redis(url, &config.store_prefix)
            .await
            .map_err(|e| format!("REDIS_URL (real-time fan-out): {e}"))?,
        None => Hub::local(),
    };
    hub.limit_per_address(config.server.sockets_per_address);
    let state = AppState::new(Services {
        db,
        background_db,
        store,
        config,
        sms,
        hub,
    });
    if let Some(pending) = pending {
        migrate_behind(&state, pending);
    }
    // Loaded in the background: the server listens at once (`indexes.rs`), not ready until
    // the task has seen them.
    state.hot_ranking().set(false);
    indexes::keep(&state);
    // The phone rules (libphonenumber's metadata: hundreds of regular expressions) compile on
    // first use — about 0.6 billion instructions — so the first SMS after a start would pay
    // for them. A background thread pays instead.
    tokio::task::spawn_blocking(crate::people::phone::warm);
    Ok(state)
}

/// The configured SMS sender: the gateway of `sms.webhook_url`, else the log (which shows the
/// code only for the development app).
pub fn sms_sender(config: &Config) -> Result<Arc<dyn SmsSender>, String> {
    Ok(match &config.sms.webhook_url {
        Some(url) => Arc::new(WebhookSender::new(url)?),
        None => Arc::new(LogSender {
            show_code: config.dev_app,
        }),
    })
}
