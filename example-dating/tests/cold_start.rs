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
