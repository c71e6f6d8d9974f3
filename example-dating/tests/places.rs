//! Where people are (`people::geo`, docs/src/dating/people.md): every instance keeps its own
//! index of places, and a move made on one instance reaches the others through the hub. A load
//! of the index from the rows racing a move never undoes the move — 200 rounds, on one
//! instance and across two sharing Redis, on SQLite, MariaDB and PostgreSQL.

mod common;

use std::sync::Arc;

use common::instances::{Arrivals, Database, drop_keys, two_instances, with_redis_on};
use common::{TestApp, code, data};
use http::Method;

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

/// A move and an erasure made on one instance reach the other's index; a load there racing
/// moves made on the first never undoes one.
async fn moves_reach_the_other_instance(db_url: String, redis_url: String) {
    let (one, two, prefix) = two_instances(&db_url, &redis_url).await;
    let two = Arc::new(two);
    let mut moves = Arrivals::from(two.state.places().moves());
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
    // The instances first: their background tasks write to the store while they live.
    drop((one, two));
    drop_keys(&redis_url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_reach_the_other_instance_on_sqlite() {
    let test = "moves_reach_the_other_instance_on_sqlite";
    with_redis_on(Database::Sqlite, test, moves_reach_the_other_instance).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_reach_the_other_instance_on_mariadb() {
    let test = "moves_reach_the_other_instance_on_mariadb";
    with_redis_on(Database::MariaDb, test, moves_reach_the_other_instance).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_reach_the_other_instance_on_postgres() {
    let test = "moves_reach_the_other_instance_on_postgres";
    with_redis_on(Database::Postgres, test, moves_reach_the_other_instance).await;
}
