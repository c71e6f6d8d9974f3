//! Two instances of the app on one database and one Redis — what a change made on one must
//! reach on the other — on each of the three databases.

use std::future::Future;
use std::time::Duration;

use example_dating::realtime::Route;
use serde_json::Value;
use tokio::sync::watch;

use super::{TempDir, TestApp, on_fresh_database, service_url};

/// A count that only grows (what an instance heard of: forgets, moves), and the wait for its
/// next arrivals.
pub struct Arrivals {
    rx: watch::Receiver<u64>,
    seen: u64,
}

impl Arrivals {
    /// Counts from what `rx` holds now.
    pub fn from(rx: watch::Receiver<u64>) -> Arrivals {
        let seen = *rx.borrow();
        Arrivals { rx, seen }
    }

    /// Waits (10 s at most) until `n` more arrived than were waited for before.
    pub async fn arrive(&mut self, n: u64) {
        self.seen += n;
        let want = self.seen;
        tokio::time::timeout(Duration::from_secs(10), self.rx.wait_for(|&k| k >= want))
            .await
            .expect("the change reached the other instance within 10 s")
            .unwrap();
    }
}

/// Two instances on the database at `db_url` and the Redis at `redis_url`, under a key prefix
/// of their own (returned), once the second hears what the first publishes.
pub async fn two_instances(db_url: &str, redis_url: &str) -> (TestApp, TestApp, String) {
    let prefix = format!(
        "kotori-test:{}:{}:two:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let instance = async || TestApp::on_redis(redis_url, &prefix, db_url).await;
    let (one, two) = (instance().await, instance().await);
    // The subscriptions settle in the background: publish until the second hears the first
    // (a change of nobody: user 0 has no row).
    let mut heard = two.state.people().forgets();
    let settled = async {
        loop {
            one.state
                .hub
                .publish(Route::Changed(0), Value::Null, None)
                .await;
            if tokio::time::timeout(Duration::from_millis(100), heard.changed())
                .await
                .is_ok()
            {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), settled)
        .await
        .expect("the two instances hear each other through Redis");
    (one, two, prefix)
}

/// Removes the keys under `prefix` from the Redis at `url`.
pub async fn drop_keys(url: &str, prefix: &str) {
    let store = example_dating::store::RedisStore::connect(url, prefix)
        .await
        .unwrap();
    store.clear().await.unwrap();
    store.quit().await;
}

/// A database of one of the three kinds.
#[derive(Clone, Copy, Debug)]
pub enum Database {
    Sqlite,
    MariaDb,
    Postgres,
}

/// Runs `exercise(db_url, redis_url)` on a fresh database of kind `db` and the Redis of
/// `KOTORI_TEST_REDIS_URL` — or says that `test` was skipped when a service is not given.
pub async fn with_redis_on<F, Fut>(db: Database, test: &str, exercise: F)
where
    F: FnOnce(String, String) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(redis_url) = service_url("KOTORI_TEST_REDIS_URL", test) else {
        return;
    };
    let server = match db {
        Database::Sqlite => {
            let dir = TempDir::new("two-instances");
            let db_url = format!("sqlite://{}?mode=rwc", dir.0.join("db.sqlite").display());
            return exercise(db_url, redis_url).await;
        }
        Database::MariaDb => service_url("KOTORI_TEST_MYSQL_URL", test),
        Database::Postgres => service_url("KOTORI_TEST_POSTGRES_URL", test),
    };
    let Some(server) = server else { return };
    on_fresh_database(&server, move |db_url| exercise(db_url, redis_url)).await;
}
