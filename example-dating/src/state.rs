//! The application state every step sees: database, store, configuration, SMS sender.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use kotori::{App, WeakApp};
use sea_orm::DatabaseConnection;

use crate::auth::logins::Logins;
use crate::auth::sms::SmsSender;
use crate::config::Config;
use crate::people::cache::PeopleCache;
use crate::people::geo::Places;
use crate::realtime::Hub;
use crate::store::Store;

/// The services behind the app. Cloning an [`AppState`] clones an `Arc`.
pub struct Services {
    /// The database.
    pub db: DatabaseConnection,
    /// The database for long reads off the request path: the background counts of big lists
    /// and the loads of the derived indexes (`db::background`).
    pub background_db: DatabaseConnection,
    /// The shared short-lived state.
    pub store: Arc<dyn Store>,
    /// The configuration.
    pub config: Config,
    /// Where SMS codes go.
    pub sms: Arc<dyn SmsSender>,
    /// Real-time delivery: the connections of this instance, and the fan-out to the others.
    pub hub: Arc<Hub>,
}

/// The state of the kotori tree.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    services: Services,
    /// Whether the database's schema is migrated (`startup`).
    schema: Schema,
    /// Whether the store's derived indexes are loaded (`indexes.rs`).
    indexes: Indexes,
    /// This instance's copies of cards and blocks, told of changes by the hub.
    people: Arc<PeopleCache>,
    /// This instance's index of where people are, told of moves by the hub.
    places: Arc<Places>,
    /// Started by the first login, on the runtime that serves it.
    logins: OnceLock<Logins>,
    /// The built tree, for pages that ask it what an operator may do (`manage::page`).
    app: OnceLock<WeakApp<AppState>>,
}

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0.services
    }
}

impl AppState {
    /// Wraps ready services.
    pub fn new(services: Services) -> Self {
        let people = Arc::new(PeopleCache::default());
        services.hub.listen(people.clone());
        let places = Arc::new(Places::default());
        services.hub.listen(places.clone());
        AppState(Arc::new(Inner {
            services,
            people,
            places,
            schema: Schema::default(),
            indexes: Indexes::default(),
            logins: OnceLock::new(),
            app: OnceLock::new(),
        }))
    }

    /// The writer of logins (auth::logins), started on first use: call it within a tokio
    /// runtime.
    pub fn logins(&self) -> &Logins {
        self.0
            .logins
            .get_or_init(|| Logins::spawn(self.db.clone(), self.config.user_token_secs))
    }

    /// The tree built on this state, while it is alive (`None` before `app::build`).
    pub fn app(&self) -> Option<App<AppState>> {
        self.0.app.get()?.upgrade()
    }

    /// Records the tree built on this state (`app::build` does, once).
    pub fn set_app(&self, app: &App<AppState>) {
        let _ = self.0.app.set(app.downgrade());
    }

    /// This instance's copies of the people lists show (`people::cache`).
    pub fn people(&self) -> &PeopleCache {
        &self.0.people
    }

    /// This instance's index of where people are (`people::geo`).
    pub fn places(&self) -> &Places {
        &self.0.places
    }

    /// Whether the database's schema is migrated: a server whose database was down at start
    /// listens before it is (`startup`).
    pub fn schema(&self) -> &Schema {
        &self.0.schema
    }

    /// Whether the derived indexes are loaded, as this instance last saw them.
    pub fn indexes(&self) -> &Indexes {
        &self.0.indexes
    }

    /// A handle that does not keep the services alive: background tasks hold one and end with
    /// the app.
    pub fn downgrade(&self) -> WeakState {
        WeakState(Arc::downgrade(&self.0))
    }
}

/// Whether the hot list ranking (the store's) is loaded. Ready unless told otherwise:
/// `startup` marks it loading and its background task marks it ready. (The geo index, this
/// instance's own, says so itself: [`Places::loaded`](crate::people::geo::Places::loaded).)
pub struct Indexes {
    hot: AtomicBool,
}

impl Default for Indexes {
    fn default() -> Self {
        Indexes {
            hot: AtomicBool::new(true),
        }
    }
}

impl Indexes {
    /// The hot list is ranked (before, it lists the newest first).
    pub fn hot(&self) -> bool {
        self.hot.load(Ordering::Acquire)
    }

    /// Records what the last look at the store found.
    pub fn set_hot(&self, hot: bool) {
        self.hot.store(hot, Ordering::Release);
    }
}

/// Whether the database's schema is migrated. Migrated unless told otherwise: `startup` marks
/// it pending when the database did not answer in time, and its task marks it migrated.
pub struct Schema {
    migrated: AtomicBool,
}

impl Default for Schema {
    fn default() -> Self {
        Schema {
            migrated: AtomicBool::new(true),
        }
    }
}

impl Schema {
    /// Requests may use the database: its schema is the one this build expects.
    pub fn migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }

    /// Records whether the schema is migrated.
    pub fn set_migrated(&self, migrated: bool) {
        self.migrated.store(migrated, Ordering::Release);
    }
}

/// See [`AppState::downgrade`].
pub struct WeakState(Weak<Inner>);

impl WeakState {
    /// The state, while the app lives.
    pub fn upgrade(&self) -> Option<AppState> {
        self.0.upgrade().map(AppState)
    }
}
