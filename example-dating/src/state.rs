//! The application state every step sees: database, store, configuration, SMS sender.

use std::ops::Deref;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::sms::{LogSender, SmsSender};
use crate::config::Config;
use crate::db;
use crate::store::{MemoryStore, RedisStore, Store};

/// The services behind the app. Cloning an [`AppState`] clones an `Arc`.
pub struct Services {
    /// The database.
    pub db: DatabaseConnection,
    /// The shared short-lived state.
    pub store: Arc<dyn Store>,
    /// The configuration.
    pub config: Config,
    /// Where SMS codes go.
    pub sms: Arc<dyn SmsSender>,
}

/// The state of the kotori tree.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    /// Wraps ready services.
    pub fn new(services: Services) -> Self {
        AppState(Arc::new(services))
    }

    /// Connects to the configured database (migrating and seeding it) and store.
    pub async fn start(config: Config) -> Result<AppState, String> {
        let db = db::connect(&config.database_url)
            .await
            .map_err(|e| format!("database {}: {e}", config.database_url))?;
        db::migrate(&db)
            .await
            .map_err(|e| format!("migrating the database: {e}"))?;
        let store: Arc<dyn Store> = match &config.redis_url {
            Some(url) => Arc::new(
                RedisStore::connect(url, &config.store_prefix)
                    .await
                    .map_err(|e| format!("REDIS_URL: {e}"))?,
            ),
            None => Arc::new(MemoryStore::new()),
        };
        // The geo index is derived from the location rows: rebuild it (an in-process store
        // starts empty, a Redis may have been flushed).
        match crate::users::discover::sync_geo_index(&db, &*store).await {
            Ok(n) => tracing::info!(locations = n, store = store.name(), "geo index loaded"),
            Err(e) => {
                tracing::warn!(error = %e, "could not load the geo index; nearby lists stay partial until users move")
            }
        }
        Ok(AppState::new(Services {
            db,
            store,
            config,
            sms: Arc::new(LogSender),
        }))
    }
}
