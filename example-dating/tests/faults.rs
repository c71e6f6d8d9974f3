//! Faults under load: Redis killed and restarted, the database's connections terminated, while
//! workers keep sending messages. Every answer is code 0 or 50301 within a bound (never a 500,
//! never a hang, never an unchecked request let through), nothing is half-written (every stored
//! message has its contact rows, unread counts match the messages), and service resumes by
//! itself.
//!
//! Needs `KOTORI_TEST_REDIS_URL` (for redis-server), `KOTORI_TEST_POSTGRES_URL` and
//! `KOTORI_TEST_MYSQL_URL`; each test says so when it skips.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{OwnRedis, TestApp, code, free_port};
use example_dating::store::{MemoryStore, RedisStore};
use http::Method;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

/// How long one request may take, even while a dependency is down.
const BOUND: Duration = Duration::from_secs(10);
const WORKERS: usize = 6;

/// Counts of what the load got, and the messages acknowledged.
#[derive(Default)]
struct Load {
    ok: AtomicUsize,
    unavailable: AtomicUsize,
    stop: AtomicBool,
    acked: std::sync::Mutex<Vec<String>>,
}

impl Load {
    fn ok(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }
    fn unavailable(&self) -> usize {
        self.unavailable.load(Ordering::Relaxed)
    }
    /// Waits until `done` holds (the workers make progress meanwhile).
    async fn until(&self, done: impl Fn(&Load) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no progress: {} ok, {} unavailable",
                self.ok(),
                self.unavailable()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Workers sending messages in a ring until `load.stop`; each answer must be 0 or 50301.
fn start_load(
    t: &Arc<TestApp>,
    users: &Arc<Vec<(String, i64)>>,
    load: &Arc<Load>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..WORKERS)
        .map(|w| {
            let (t, users, load) = (t.clone(), users.clone(), load.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !load.stop.load(Ordering::Relaxed) {
                    n += 1;
                    let content = format!("w{w}m{n}");
                    let to = users[(w + 1) % users.len()].1;
                    let res = tokio::time::timeout(BOUND, t.message(&users[w].0, to, &content))
                        .await
                        .unwrap_or_else(|_| panic!("a request hung for {BOUND:?}"));
                    match code(&res) {
                        0 => {
                            load.ok.fetch_add(1, Ordering::Relaxed);
                            load.acked.lock().unwrap().push(content);
                        }
                        50301 => {
                            load.unavailable.fetch_add(1, Ordering::Relaxed);
                        }
                        // A worker past a person's rate (30 a minute; a Redis that restarted
                        // forgot the room `users` made): refused, and nothing written.
                        42901 => {}
                        other => panic!("answer {other} ({}) under a fault", res.status()),
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect()
}

async fn stop(load: &Load, workers: Vec<tokio::task::JoinHandle<()>>) {
    load.stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("a worker failed");
    }
}

async fn users(t: &TestApp) -> Arc<Vec<(String, i64)>> {
    let mut users = Vec::new();
    for w in 0..WORKERS {
        let user = t.user(&format!("1370000{w:04}")).await;
        t.lift_message_limit(user.1).await;
        users.push(user);
    }
    Arc::new(users)
}

async fn scalar(db: &DatabaseConnection, sql: String) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Nothing half-written: every acknowledged message is stored, and each receiver's unread count
/// (an increment in the message's transaction) equals the messages stored for it.
async fn check_whole(db: &DatabaseConnection, load: &Load, users: &[(String, i64)]) {
    let acked = load.acked.lock().unwrap().clone();
    for content in &acked {
        let n = scalar(
            db,
            format!("SELECT COUNT(*) FROM message WHERE content = '{content}'"),
        )
        .await;
        assert_eq!(n, 1, "acknowledged `{content}`");
    }
    for w in 0..users.len() {
        let (from, to) = (users[w].1, users[(w + 1) % users.len()].1);
        let messages = scalar(
            db,
            format!("SELECT COUNT(*) FROM message WHERE from_uid = {from} AND to_uid = {to}"),
        )
        .await;
        // SUM is DECIMAL on MariaDB, BIGINT on PostgreSQL: cast to each one's 64-bit integer.
        let int64 = if db.get_database_backend() == sea_orm::DatabaseBackend::MySql {
            "SIGNED"
        } else {
            "BIGINT"
        };
        let unread = scalar(
            db,
            format!(
                "SELECT CAST(COALESCE(SUM(unread), 0) AS {int64}) FROM contacts \
                 WHERE user_id = {to} AND peer_id = {from}"
            ),
        )
        .await;
        assert_eq!(unread, messages, "unread of {to} from {from}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_load() {
    if common::service_url("KOTORI_TEST_REDIS_URL", "redis_killed_and_restarted...").is_none() {
        return;
    }
    let port = free_port();
    let mut redis = OwnRedis::start(port).expect("redis-server starts");
    let url = format!("redis://127.0.0.1:{port}");
    let store = Arc::new(
        RedisStore::connect(&url, "kotori-test:faults:")
            .await
            .unwrap(),
    );
    let dir = common::TempDir::new("faults");
    let db_url = dir.sqlite_url();
    let t = Arc::new(TestApp::with(common::config(), &db_url, store.clone()).await);
    let users = users(&t).await;
    // A request accepted before the fault, to replay during it.
    let path = format!("/api/users/{}/messages", users[1].1);
    let signed = t.signer.sign(
        &Method::POST,
        &path,
        &[
            ("msg_type".into(), "text".into()),
            ("content".into(), "once".into()),
        ],
        Some(&users[0].0),
    );
    assert_eq!(code(&t.send(Method::POST, &path, &signed).await), 0);

    let load = Arc::new(Load::default());
    let workers = start_load(&t, &users, &load);
    load.until(|l| l.ok() >= 30).await;
    redis.stop();
    load.until(|l| l.unavailable() >= 30).await;
    // Fail closed: the replay cannot be checked, so it is not let through.
    assert_eq!(code(&t.send(Method::POST, &path, &signed).await), 50301);
    let _redis = OwnRedis::start(port).expect("redis-server restarts");
    let resumed_at = load.ok();
    load.until(|l| l.ok() >= resumed_at + 30).await;
    stop(&load, workers).await;
    eprintln!(
        "redis fault: {} ok, {} answered 50301",
        load.ok(),
        load.unavailable()
    );
    // The replay during the outage wrote nothing: the message is stored once.
    let db = Database::connect(&db_url).await.unwrap();
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM message WHERE content = 'once'".into()
        )
        .await,
        1
    );
    check_whole(&db, &load, &users).await;
    store.quit().await;
    drop(t);
}

/// The connections of the app's database, terminated from outside (an administrator, a
/// failover, a proxy restarting).
async fn terminate_connections(server: &DatabaseConnection, database: &str) -> usize {
    let backend = server.get_database_backend();
    let sql = if backend == sea_orm::DatabaseBackend::Postgres {
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        )
    } else {
        format!(
            "SELECT id FROM information_schema.processlist WHERE db = '{database}' \
             AND id <> CONNECTION_ID()"
        )
    };
    let rows = server
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
    if backend != sea_orm::DatabaseBackend::Postgres {
        for row in &rows {
            let id: i64 = row.try_get_by_index(0).unwrap();
            // The connection may have ended meanwhile.
            let _ = server
                .execute_unprepared(&format!("KILL CONNECTION {id}"))
                .await;
        }
    }
    rows.len()
}

async fn connections_terminated_under_load(server_url: String) {
    let admin_url = server_url.clone();
    common::on_fresh_database(&server_url, move |db_url| async move {
        let server_url = admin_url;
        let database = db_url.rsplit('/').next().unwrap().to_owned();
        let store = Arc::new(MemoryStore::new());
        let t = Arc::new(TestApp::with(common::config(), &db_url, store).await);
        let users = users(&t).await;
        let admin = Database::connect(&server_url).await.unwrap();
        let load = Arc::new(Load::default());
        let workers = start_load(&t, &users, &load);
        let mut terminated = 0;
        for round in 1..=3 {
            load.until(|l| l.ok() >= round * 30).await;
            terminated += terminate_connections(&admin, &database).await;
        }
        let resumed_at = load.ok();
        load.until(|l| l.ok() >= resumed_at + 30).await;
        stop(&load, workers).await;
        eprintln!(
            "database fault ({server_url}): {terminated} connections terminated; {} ok, {} \
             answered 50301",
            load.ok(),
            load.unavailable()
        );
        assert!(terminated > 0, "the app's connections were found");
        check_whole(&t.state.db, &load, &users).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_terminated_under_load() {
    if let Some(url) = common::service_url("KOTORI_TEST_POSTGRES_URL", "postgres_connections...") {
        connections_terminated_under_load(url).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_connections_terminated_under_load() {
    if let Some(url) = common::service_url("KOTORI_TEST_MYSQL_URL", "mariadb_connections...") {
        connections_terminated_under_load(url).await;
    }
}
