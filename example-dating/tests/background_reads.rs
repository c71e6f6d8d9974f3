//! The embedded database's second connection (`db::background`): the full counts of big lists
//! and the loads of the indexes run on it, beside the server's one connection, never in front
//! of it — and it cannot write.

mod common;

use common::{TempDir, TestApp};
use example_dating::db::entity::commerce::product;
use example_dating::paging;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, TransactionTrait};

/// While a write transaction holds the server's one connection (a request that writes, or
/// waits to), a background count still runs — on the other connection — and sees what is
/// committed, not what the transaction has not committed yet.
#[tokio::test]
async fn a_background_count_runs_while_the_servers_connection_is_held() {
    let dir = TempDir::new("background");
    let t = TestApp::on(&dir.sqlite_url()).await;
    let seeded = product::Entity::find().count(&t.state.db).await.unwrap();
    assert!(seeded > 0, "the seed has products");
    let count = || async {
        paging::count_now(
            &t.state.background_db,
            &*t.state.store,
            "test:background:products",
            product::Entity::find(),
        )
        .await
        .unwrap()
    };

    // The transaction takes the pool's only connection and SQLite's write lock (IMMEDIATE):
    // a statement on `db` would wait for it, five seconds, then fail.
    let tx = example_dating::db::begin(&t.state.db).await.unwrap();
    tx.execute_unprepared("DELETE FROM product WHERE id = (SELECT MIN(id) FROM product)")
        .await
        .unwrap();
    assert_eq!(count().await, seeded, "the uncommitted delete is not seen");
    tx.commit().await.unwrap();
    assert_eq!(count().await, seeded - 1, "the committed one is");
}

/// The background connection is read-only: a statement that writes fails and changes nothing.
#[tokio::test]
async fn the_background_connection_cannot_write() {
    let dir = TempDir::new("background");
    let t = TestApp::on(&dir.sqlite_url()).await;
    let before = product::Entity::find().count(&t.state.db).await.unwrap();
    let refused = t
        .state
        .background_db
        .execute_unprepared("DELETE FROM product")
        .await;
    assert!(refused.is_err(), "a write on the background connection");
    let refused = t.state.background_db.begin().await;
    if let Ok(tx) = refused {
        assert!(
            tx.execute_unprepared("DELETE FROM product").await.is_err(),
            "a write in a transaction on the background connection"
        );
    }
    assert_eq!(
        product::Entity::find().count(&t.state.db).await.unwrap(),
        before
    );
}

/// In memory there is one database per connection: the background reads use the server's.
#[tokio::test]
async fn in_memory_the_background_reads_share_the_servers_connection() {
    let t = TestApp::on("sqlite::memory:").await;
    let seeded = product::Entity::find().count(&t.state.db).await.unwrap();
    assert_eq!(
        product::Entity::find()
            .count(&t.state.background_db)
            .await
            .unwrap(),
        seeded
    );
}
