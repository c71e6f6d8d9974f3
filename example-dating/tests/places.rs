//! Where people are (`people::geo`, docs/src/dating/people.md): every instance keeps its own
//! index of places, and a move made on one instance reaches the others through the hub. A load
//! of the index from the rows racing a move never undoes the move — 200 rounds, on one
//! instance and across two sharing Redis, on SQLite, MariaDB and PostgreSQL.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, code, data};
use example_dating::realtime::Route;
use http::Method;
use serde_json::Value;
use tokio::sync::watch;

const ROUNDS: u64 = 200;
const HERE: [(&str, &str); 2] = [("lat", "22.5"), ("lng", "114.0")];
/// 1,700 km north of HERE: outside every radius nearby allows.
const AWAY: [(&str, &str); 2] = [("lat", "38.0"), ("lng", "114.0")];

/// The people `token`'s owner finds nearby on `t`.
async fn ids_nearby(t: &TestApp, token: &str) -> Vec<i64> {
    let res = t
        .call(Method::GET, "/api/user/nearby/list", &HERE, Some(token))
        .await;
    assert_eq!(code(&res), 0, "{}", res.text());
    data(&res)["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_i64().unwrap())
        .collect()
}

async fn locate(t: &TestApp, token: &str, at: &[(&str, &str)]) {
    let res = t
        .call(Method::POST, "/api/me/location", at, Some(token))
        .await;
    assert_eq!(code(&res), 0, "{}", res.text());
}

/// Counts the moves `t`'s index applied, and waits for the next ones.
struct Moves {
    rx: watch::Receiver<u64>,
    seen: u64,
}

impl Moves {
    fn of(t: &TestApp) -> Moves {
        let rx = t.state.places().moves();
        let seen = *rx.borrow();
        Moves { rx, seen }
    }

    /// Waits until `n` more moves were applied (one per move made on the other instance).
    async fn arrive(&mut self, n: u64) {
        self.seen += n;
        let want = self.seen;
        tokio::time::timeout(Duration::from_secs(10), self.rx.wait_for(|&k| k >= want))
            .await
            .expect("the move reached the other instance within 10 s")
            .unwrap();
    }
}

/// On one instance a move is in the index when its request answers, and a load racing it
/// (a restored hub subscription has the task reload) never puts the person back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_racing_a_move_on_one_instance_never_undoes_it() {
    let t = Arc::new(TestApp::new().await);
    let (me, _) = t.user("18900000401").await;
    let (bob_token, bob) = t.user("18900000402").await;
    locate(&t, &me, &HERE).await;
    for round in 0..ROUNDS {
        let here = round % 2 == 0;
        let load = {
            let t = Arc::clone(&t);
            tokio::spawn(async move { t.state.places().load(&t.state.db).await.unwrap() })
        };
        for _ in 0..round % 6 {
            tokio::task::yield_now().await;
        }
        locate(&t, &bob_token, if here { &HERE } else { &AWAY }).await;
        load.await.unwrap();
        assert_eq!(
            ids_nearby(&t, &me).await.contains(&bob),
            here,
            "round {round}"
        );
    }
}

/// Two instances on one database and one Redis, hearing each other.
async fn two_instances(db_url: &str, redis_url: &str) -> (TestApp, TestApp, String) {
    let prefix = format!(
        "kotori-test:{}:{}:places:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let instance = async || TestApp::on_redis(redis_url, &prefix, db_url).await;
    let (one, two) = (instance().await, instance().await);
    // The subscriptions settle in the background: publish until the second hears the first
    // (a move of nobody: user 0 has no row and is in no list).
    let mut heard = two.state.places().moves();
    let settled = async {
        loop {
            let nobody = Route::Moved(0, 0.0, 0.0);
            one.state.hub.publish(nobody, Value::Null, None).await;
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

/// A move and an erasure made on one instance reach the other's index; a load there racing
/// moves made on the first never undoes one.
async fn moves_reach_the_other_instance(db_url: String, redis_url: String) {
    let (one, two, prefix) = two_instances(&db_url, &redis_url).await;
    let two = Arc::new(two);
    let mut moves = Moves::of(&two);
    let (me, _) = one.user("18900000411").await;
    let (bob_token, bob) = one.user("18900000412").await;
    let (carol_token, carol) = one.user("18900000413").await;
    for token in [&me, &bob_token, &carol_token] {
        locate(&one, token, &HERE).await;
    }
    moves.arrive(3).await;
    let mut both = ids_nearby(&two, &me).await;
    both.sort();
    assert_eq!(both, [bob, carol]);

    // Carol leaves: gone from both instances' nearby once the move arrived.
    locate(&one, &carol_token, &AWAY).await;
    assert!(!ids_nearby(&one, &me).await.contains(&carol));
    moves.arrive(1).await;
    assert!(!ids_nearby(&two, &me).await.contains(&carol));
    // Carol erases her account: out of every index (the card alone would hide her; the index
    // must not keep her place either).
    let placed = two.state.places().len();
    let erased = one
        .call(Method::POST, "/api/me/delete", &[], Some(&carol_token))
        .await;
    assert_eq!(code(&erased), 0, "{}", erased.text());
    moves.arrive(1).await;
    assert_eq!(two.state.places().len(), placed - 1);

    // The race: instance two loads its index from the rows while instance one moves Bob,
    // 200 rounds; once the move arrived, two finds Bob where he last went.
    for round in 0..ROUNDS {
        let here = round % 2 == 0;
        let load = {
            let two = Arc::clone(&two);
            tokio::spawn(async move { two.state.places().load(&two.state.db).await.unwrap() })
        };
        for _ in 0..round % 6 {
            tokio::task::yield_now().await;
        }
        locate(&one, &bob_token, if here { &HERE } else { &AWAY }).await;
        load.await.unwrap();
        moves.arrive(1).await;
        assert_eq!(
            ids_nearby(&two, &me).await.contains(&bob),
            here,
            "round {round}"
        );
    }
    let store = example_dating::store::RedisStore::connect(&redis_url, &prefix)
        .await
        .unwrap();
    store.clear().await.unwrap();
    store.quit().await;
}

fn redis(test: &str) -> Option<String> {
    common::service_url("KOTORI_TEST_REDIS_URL", test)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_reach_the_other_instance_on_sqlite() {
    let Some(redis_url) = redis("moves_reach_the_other_instance_on_sqlite") else {
        return;
    };
    let dir = common::TempDir::new("places");
    let db_url = format!("sqlite://{}?mode=rwc", dir.0.join("db.sqlite").display());
    moves_reach_the_other_instance(db_url, redis_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_reach_the_other_instance_on_mariadb() {
    let test = "moves_reach_the_other_instance_on_mariadb";
    let (Some(redis_url), Some(server)) = (
        redis(test),
        common::service_url("KOTORI_TEST_MYSQL_URL", test),
    ) else {
        return;
    };
    common::on_fresh_database(&server, move |db_url| {
        moves_reach_the_other_instance(db_url, redis_url)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_reach_the_other_instance_on_postgres() {
    let test = "moves_reach_the_other_instance_on_postgres";
    let (Some(redis_url), Some(server)) = (
        redis(test),
        common::service_url("KOTORI_TEST_POSTGRES_URL", test),
    ) else {
        return;
    };
    common::on_fresh_database(&server, move |db_url| {
        moves_reach_the_other_instance(db_url, redis_url)
    })
    .await;
}
