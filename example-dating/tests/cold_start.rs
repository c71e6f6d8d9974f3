//! A cold start serves at once: with Redis down the server starts (nothing waits on it),
//! `/healthz` answers, `/readyz` says not ready and nearby answers 50301; once Redis is there
//! the indexes are loaded in the background and the instance becomes ready. When the store
//! later loses the ranking (a flushed Redis), it comes back by itself; nearby never needed the
//! store (each instance keeps its own index of places), and a hub that may have lost moves has
//! that index loaded again.

mod common;

use std::time::Duration;

use common::{OwnRedis, TestApp, code, data, free_port};
use example_dating::client::Signer;
use example_dating::realtime::Listener;
use example_dating::users::hot;
use http::Method;

const BOUND: Duration = Duration::from_secs(30);

/// Waits (bounded) until `ready` holds, looking every 100 ms.
async fn until(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    tokio::time::timeout(BOUND, async {
        while !ready().await {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} within {BOUND:?}"));
}

async fn nearby_ids(t: &TestApp, token: &str) -> (i64, Vec<i64>) {
    let res = t
        .call(
            Method::GET,
            "/api/user/nearby/list",
            &[("lat", "31.2"), ("lng", "121.5")],
            Some(token),
        )
        .await;
    let ids = if code(&res) == 0 {
        data(&res)["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user_id"].as_i64().unwrap())
            .collect()
    } else {
        Vec::new()
    };
    (code(&res), ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_starts_without_redis_and_is_ready_once_its_indexes_are_loaded() {
    if common::service_url("KOTORI_TEST_REDIS_URL", "cold start").is_none() {
        return;
    }
    let port = free_port();
    let mut config = common::config();
    config.database_url = "sqlite::memory:".to_owned();
    config.redis_url = Some(format!("redis://127.0.0.1:{port}"));
    config.store_prefix = format!(
        "kotori-test:{}:{}:cold:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let signer = Signer::new(config.apps[0].clone());
    let state = tokio::time::timeout(BOUND, example_dating::startup::state(config))
        .await
        .expect("the server starts while Redis is down")
        .unwrap();
    let app = example_dating::app::build(state.clone()).unwrap();
    let t = TestApp { app, state, signer };

    let health = t.app.client().get("/healthz").send().await;
    assert_eq!(health.status(), 200);
    let ready = t.app.client().get("/readyz").send().await;
    assert_eq!((ready.status().as_u16(), code(&ready)), (503, 50301));

    let _redis = OwnRedis::start(port).expect("redis-server starts");
    until("ready once Redis is there", async || {
        t.app.client().get("/readyz").send().await.status() == 200
    })
    .await;

    let (me, _) = t.user("13800000201").await;
    let (them, their_id) = t.user("13800000202").await;
    let placed = t
        .call(
            Method::POST,
            "/api/me/location",
            &[("lat", "31.2"), ("lng", "121.5")],
            Some(&them),
        )
        .await;
    assert_eq!(code(&placed), 0);
    assert_eq!(nearby_ids(&t, &me).await, (0, vec![their_id]));

    // The store loses everything: nearby still answers from this instance's index, and the
    // task notices the ranking's missing marker and loads it again — nobody restarted anything.
    t.state.store.del(hot::BUILT).await.unwrap();
    assert_eq!(nearby_ids(&t, &me).await, (0, vec![their_id]));
    until("the ranking reloaded", async || {
        t.state.store.get(hot::BUILT).await.ok().flatten().is_some()
    })
    .await;

    // A move this instance never heard of (made while its hub's subscription was down): the
    // hub says deliveries may have been lost, and the task loads the index from the rows.
    let (_, missed_id) = t.user("13800000203").await;
    use example_dating::db::entity::users::location;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    location::Entity::insert(location::ActiveModel {
        user_id: Set(missed_id),
        lat: Set(31.2),
        lng: Set(121.5),
        updated_at: Set(0),
    })
    .exec_without_returning(&t.state.db)
    .await
    .unwrap();
    assert_eq!(nearby_ids(&t, &me).await, (0, vec![their_id]));
    t.state.places().missed();
    until("the geo index reloaded", async || {
        let (code, mut ids) = nearby_ids(&t, &me).await;
        ids.sort();
        code == 0 && ids == [their_id, missed_id]
    })
    .await;
}

/// `url` with its host and port replaced by `127.0.0.1:port`, and the address it named.
fn via_port(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(c, r)| (c, r));
    let (address, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let at = if credentials.is_empty() { "" } else { "@" };
    (
        format!("{scheme}://{credentials}{at}127.0.0.1:{port}/{path}"),
        address.to_owned(),
    )
}

/// From now on, connections to `port` reach `target`: a database that comes back.
async fn forward(port: u16, target: String) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })
}

/// An instance of the database at `url` started while nothing listens where it is told to
/// look (a port of its own, not forwarded yet), and that port: `forward` opens it.
async fn started_before_its_database(url: &str) -> (TestApp, u16, String) {
    let port = free_port();
    let (unanswered, server) = via_port(url, port);
    let mut config = common::config();
    config.database_url = unanswered;
    config.database_timeout = Duration::from_millis(500);
    let signer = Signer::new(config.apps[0].clone());
    let state = tokio::time::timeout(BOUND, example_dating::startup::state(config))
        .await
        .expect("the server starts while its database is down")
        .unwrap();
    assert!(!state.schema().is_ready());
    let app = example_dating::app::build(state.clone()).unwrap();
    (TestApp { app, state, signer }, port, server)
}

/// A signed sendsms (which needs the database only for the guard that waits for its schema).
async fn send_code(t: &TestApp, phone: &str) -> kotori::test::TestResponse {
    t.call(Method::POST, "/api/auth/sendsms", &[("phone", phone)], None)
        .await
}

/// A server whose database does not answer at start (nothing listens where it was told to
/// look) waits for it as long as for a connection, then listens anyway: `/healthz` answers,
/// `/readyz` names the database, and every route that needs it answers 50301 without waiting.
/// Once the database answers, the schema is migrated in the background and the instance serves.
async fn the_server_listens_while_its_database_is_down(url: String) {
    let (t, port, server) = started_before_its_database(&url).await;

    assert_eq!(t.app.client().get("/healthz").send().await.status(), 200);
    let ready = t.app.client().get("/readyz").send().await;
    assert_eq!((ready.status().as_u16(), code(&ready)), (503, 50301));
    assert!(ready.text().contains("database"), "{}", ready.text());
    let sent = send_code(&t, "13800000301").await;
    assert_eq!((sent.status().as_u16(), code(&sent)), (503, 50301));
    let console = t.app.client().get("/manage/login").send().await;
    assert_eq!(console.status(), 503);

    let _database = forward(port, server).await;
    // (`until` borrows across its awaits in a way a spawned test cannot send.)
    tokio::time::timeout(BOUND, async {
        while t.app.client().get("/readyz").send().await.status() != 200 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("ready once the database answers");
    assert!(t.state.schema().is_ready());
    // Migrated and seeded: a new user logs in, and the seeded products are on sale.
    let (token, user_id) = t.user("13800000301").await;
    let me = t.call(Method::GET, "/api/me", &[], Some(&token)).await;
    assert_eq!(data(&me)["user_id"], user_id);
    let products = t
        .call(Method::GET, "/api/products", &[], Some(&token))
        .await;
    assert_eq!(data(&products)["list"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_listens_while_postgres_is_down() {
    common::on_database_server(
        common::POSTGRES,
        "the server listens while PostgreSQL is down",
        the_server_listens_while_its_database_is_down,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_listens_while_mariadb_is_down() {
    common::on_database_server(
        common::MARIADB,
        "the server listens while MariaDB is down",
        the_server_listens_while_its_database_is_down,
    )
    .await;
}

/// A database that answers, once it does, with a schema this build cannot migrate (here a
/// `seaql_migrations` table of someone else's making): the instance gives up instead of
/// retrying for ever, stays unready, and `/readyz` says the migration failed — an operator's
/// problem, which the log details — while every route that uses the database stays 50301.
async fn a_migration_the_database_refuses_leaves_the_instance_unready(url: String) {
    use sea_orm::{ConnectionTrait, Database};
    let foreign = Database::connect(&url).await.unwrap();
    foreign
        .execute_unprepared("CREATE TABLE seaql_migrations (nonsense INT)")
        .await
        .unwrap();
    drop(foreign);
    let (t, port, server) = started_before_its_database(&url).await;

    let _database = forward(port, server).await;
    tokio::time::timeout(BOUND, async {
        while !t.state.schema().gave_up() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the migration is given up");
    let ready = t.app.client().get("/readyz").send().await;
    assert_eq!((ready.status().as_u16(), code(&ready)), (503, 50301));
    assert!(
        ready.text().contains("migration failed"),
        "{}",
        ready.text()
    );
    assert_eq!(code(&send_code(&t, "13800000302").await), 50301);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_postgres_refuses_leaves_the_instance_unready() {
    common::on_database_server(
        common::POSTGRES,
        "a migration PostgreSQL refuses",
        a_migration_the_database_refuses_leaves_the_instance_unready,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_mariadb_refuses_leaves_the_instance_unready() {
    common::on_database_server(
        common::MARIADB,
        "a migration MariaDB refuses",
        a_migration_the_database_refuses_leaves_the_instance_unready,
    )
    .await;
}
