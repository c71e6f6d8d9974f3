//! The application state every step sees: database, store, configuration, SMS sender.

use std::ops::Deref;
use std::sync::atomic::{AtomicU8, Ordering};
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
    schema: Ready,
    /// Whether the store's hot list ranking is loaded (`indexes.rs`).
    hot_ranking: Ready,
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
            schema: Ready::default(),
            hot_ranking: Ready::default(),
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
    pub fn schema(&self) -> &Ready {
        &self.0.schema
    }

    /// Whether the hot list is ranked (before, it lists the newest first), as this instance
    /// last saw the store. (The geo index, this instance's own, says so itself:
    /// [`Places::loaded`](crate::people::geo::Places::loaded).)
    pub fn hot_ranking(&self) -> &Ready {
        &self.0.hot_ranking
    }

    /// A handle that does not keep the services alive: background tasks hold one and end with
    /// the app.
    pub fn downgrade(&self) -> WeakState {
        WeakState(Arc::downgrade(&self.0))
    }
}

/// Whether something this instance readies in the background is there — the database's
/// schema, the hot list's ranking — as the task that readies it last saw: one atomic, which
/// every request may read. Ready unless told otherwise: `startup` marks what it leaves to the
/// background, and the task marks it ready — or, when it gives up, says so.
pub struct Ready(AtomicU8);

const READY: u8 = 0;
const PENDING: u8 = 1;
const GAVE_UP: u8 = 2;

impl Default for Ready {
    fn default() -> Self {
        Ready(AtomicU8::new(READY))
    }
}

impl Ready {
    /// It is there.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire) == READY
    }

    /// Records what the last look found.
    pub fn set(&self, ready: bool) {
        let state = if ready { READY } else { PENDING };
        self.0.store(state, Ordering::Release);
    }

    /// Records that the task gave up: it will not be there without an operator.
    pub fn give_up(&self) {
        self.0.store(GAVE_UP, Ordering::Release);
    }

    /// Whether the task gave up ([`Ready::give_up`]).
    pub fn gave_up(&self) -> bool {
        self.0.load(Ordering::Acquire) == GAVE_UP
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
