//! A request waits on MariaDB or PostgreSQL no longer than the configured bound
//! (`DATABASE_TIMEOUT_MS`, here 1 s): a row or a table that someone else holds — an
//! administrator's session, a stuck job — gets 50301, writes nothing, and the same request is
//! served once the lock is gone. Without the bound PostgreSQL waits for the lock as long as it
//! is held, MariaDB 50 s a try; each of the tests below then fails at its guard instead.
//! Each server backend on a database of its own, dropped afterwards; skipped, and said so,
//! without its URL.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, code};
use example_dating::db;
use example_dating::store::MemoryStore;
use http::Method;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement, TransactionTrait};

/// The bound the app is given.
const BOUND: Duration = Duration::from_secs(1);
/// How long a test waits for an answer before it fails: far past the bound, far below
/// MariaDB's 50 s default (PostgreSQL has none).
const GUARD: Duration = Duration::from_secs(20);

async fn exercise(db_url: String) {
    let requests = db::connect_with(&db_url, BOUND).await.unwrap();
    let t = TestApp::quiet(common::config(), requests, Arc::new(MemoryStore::new())).await;
    let (token, user) = t.login("13800000001").await;
    let side = Database::connect(&db_url).await.unwrap();
    let backend = side.get_database_backend();

    // A row lock held by another session: the profile edit takes the user's row.
    let holder = side.begin().await.unwrap();
    holder
        .execute_unprepared(&format!(
            "SELECT user_id FROM user_info WHERE user_id = {user} FOR UPDATE"
        ))
        .await
        .unwrap();
    let edit = || {
        t.call(
            Method::POST,
            "/api/me/update",
            &[("nickname", "held row")],
            Some(&token),
        )
    };
    let refused = tokio::time::timeout(GUARD, edit())
        .await
        .expect("the edit answered within the guard, not when the lock went");
    assert_eq!(code(&refused), 50301, "{:?}", refused.text());
    holder.rollback().await.unwrap();
    let nickname = |side: &sea_orm::DatabaseConnection| {
        let sql = format!("SELECT nickname FROM user_info WHERE user_id = {user}");
        let side = side.clone();
        async move {
            let row = side
                .query_one_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0).unwrap()
        }
    };
    assert_eq!(nickname(&side).await, "u-13800000001", "nothing written");
    let served = edit().await;
    assert_eq!(code(&served), 0, "{:?}", served.text());
    assert_eq!(nickname(&side).await, "held row");

    // A table held whole (DDL, `LOCK TABLE`): a plain read waits for a lock too.
    let order_id = t.order(&token).await["order_id"].as_i64().unwrap();
    let path = format!("/api/orders/{order_id}/show");
    let show = || t.call(Method::GET, &path, &[], Some(&token));
    let holder = side.begin().await.unwrap();
    let (lock, unlock) = match backend {
        DatabaseBackend::Postgres => ("LOCK TABLE user_order IN ACCESS EXCLUSIVE MODE", None),
        _ => ("LOCK TABLES user_order WRITE", Some("UNLOCK TABLES")),
    };
    holder.execute_unprepared(lock).await.unwrap();
    let refused = tokio::time::timeout(GUARD, show())
        .await
        .expect("the read answered within the guard, not when the table was let go");
    assert_eq!(code(&refused), 50301, "{:?}", refused.text());
    if let Some(unlock) = unlock {
        holder.execute_unprepared(unlock).await.unwrap();
    }
    holder.rollback().await.unwrap();
    let served = show().await;
    assert_eq!(code(&served), 0, "{:?}", served.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lock_waits_are_bounded() {
    common::on_database_server(
        common::POSTGRES,
        "postgres_lock_waits_are_bounded",
        exercise,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_lock_waits_are_bounded() {
    common::on_database_server(common::MARIADB, "mariadb_lock_waits_are_bounded", exercise).await;
}
