//! Against a real Redis: two instances sharing one (and sharing a Redis Cluster), a Redis that
//! goes away and comes back, one that is down at start, and the login flow over a real socket.
//! Each test needs `KOTORI_TEST_REDIS_URL` (or `KOTORI_TEST_REDIS_CLUSTER_URL`) and says so
//! when it skips.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{OwnRedis, TestApp, code, data, free_port};
use example_dating::random::hex_token;
use example_dating::store::{RedisStore, Store};
use http::Method;

#[tokio::test]
async fn two_instances_share_codes_tokens_and_replay_protection_through_redis() {
    if let Some(url) = common::service_url("KOTORI_TEST_REDIS_URL", "two_instances_share_...") {
        two_instances_share_codes_tokens_and_replay_protection(url).await;
    }
}

/// The same on a Redis Cluster, where the keys spread over three primaries.
#[tokio::test]
async fn two_instances_share_codes_tokens_and_replay_protection_through_a_redis_cluster() {
    if let Some(url) = common::service_url(
        "KOTORI_TEST_REDIS_CLUSTER_URL",
        "two_instances_share_..._cluster",
    ) {
        two_instances_share_codes_tokens_and_replay_protection(url).await;
    }
}

async fn two_instances_share_codes_tokens_and_replay_protection(redis_url: String) {
    let prefix = format!(
        "kotori-test:{}:{}:instances:",
        std::process::id(),
        hex_token(4)
    );
    let dir = common::TempDir::new("redis");
    let db_url = dir.sqlite_url();
    let store_a = Arc::new(RedisStore::connect(&redis_url, &prefix).await.unwrap());
    let store_b = Arc::new(RedisStore::connect(&redis_url, &prefix).await.unwrap());
    let a = TestApp::with(common::config(), &db_url, store_a.clone()).await;
    let b = TestApp::with(common::config(), &db_url, store_b.clone()).await;

    // A code sent through one instance verifies on the other.
    let sms = a.send_code("18922986865").await;
    let res = b
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", "18922986865"), ("code", &sms)],
            None,
        )
        .await;
    let token = data(&res)["token"].as_str().unwrap().to_owned();

    // A request replayed to the other instance is refused.
    let params = a.signer.sign(
        &Method::POST,
        "/api/auth/sendsms",
        &[("phone".into(), "13800000000".into())],
        None,
    );
    assert_eq!(
        code(&a.send(Method::POST, "/api/auth/sendsms", &params).await),
        0
    );
    assert_eq!(
        code(&b.send(Method::POST, "/api/auth/sendsms", &params).await),
        40103
    );

    // A token from one works on the other; logging out on one ends it on both.
    assert_eq!(
        code(
            &a.call(Method::POST, "/api/auth/logout", &[], Some(&token))
                .await
        ),
        0
    );
    assert_eq!(
        code(
            &b.call(Method::POST, "/api/auth/logout", &[], Some(&token))
                .await
        ),
        40105
    );

    store_a.clear().await.unwrap();
    store_a.quit().await;
    store_b.quit().await;
    drop((a, b));
}

/// Signed sendsms calls until one gets `want` (bounded: the store reconnects on its own time).
async fn until_code(t: &TestApp, want: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut phone = 13_700_000_000u64;
    loop {
        phone += 1;
        let res = t
            .call(
                Method::POST,
                "/api/auth/sendsms",
                &[("phone", &phone.to_string())],
                None,
            )
            .await;
        let got = code(&res);
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {got}, expected {want}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_redis_that_goes_away_gives_50301_and_the_server_recovers() {
    if common::service_url("KOTORI_TEST_REDIS_URL", "a_redis_that_goes_away...").is_none() {
        return;
    }
    let port = free_port();
    let mut redis = match OwnRedis::start(port) {
        Ok(redis) => redis,
        Err(e) => panic!("KOTORI_TEST_REDIS_URL is set but redis-server cannot be started: {e}"),
    };
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let store = Arc::new(RedisStore::connect(&url, "kotori-test:").await.unwrap());
    let t = TestApp::with(common::config(), "sqlite::memory:", store.clone()).await;
    until_code(&t, 0).await;

    redis.stop();
    until_code(&t, 50301).await;

    let _redis = OwnRedis::start(port).unwrap();
    until_code(&t, 0).await;
    store.quit().await;
}

#[tokio::test]
async fn the_login_flow_over_a_real_socket() {
    let t = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(std::future::IntoFuture::into_future(
        kotori::serve(listener, t.app).with_graceful_shutdown(async {
            let _ = stopped.await;
        }),
    ));
    let send = async |method: Method, path: &str, params: &[(&str, &str)], token: Option<&str>| {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let signed = t.signer.sign(&method, path, &params, token);
        let (status, body) = example_dating::client::send(
            &addr,
            example_dating::client::request(method, path, &signed),
        )
        .await
        .unwrap();
        (
            status,
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        )
    };
    let (_, sent) = send(
        Method::POST,
        "/api/auth/sendsms",
        &[("phone", "18922986865")],
        None,
    )
    .await;
    let sms = sent["data"]["code"].as_str().unwrap().to_owned();
    let (status, session) = send(
        Method::POST,
        "/api/auth/login",
        &[("phone", "18922986865"), ("code", &sms)],
        None,
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let token = session["data"]["token"].as_str().unwrap().to_owned();
    let (status, body) = send(Method::POST, "/api/auth/logout", &[], Some(&token)).await;
    assert_eq!((status.as_u16(), body["code"].as_i64()), (200, Some(0)));
    // A method the path does not have: the token guard of its node answers before the 405.
    let (status, body) = send(Method::GET, "/api/auth/logout", &[], Some(&token)).await;
    assert_eq!((status.as_u16(), body["code"].as_i64()), (401, Some(40105)));
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_redis_that_is_down_at_start_is_used_once_it_comes() {
    if common::service_url("KOTORI_TEST_REDIS_URL", "a_redis_that_is_down_at_start...").is_none() {
        return;
    }
    let port = free_port();
    let store = Arc::new(
        RedisStore::connect(&format!("redis://127.0.0.1:{port}"), "kotori-test:")
            .await
            .unwrap(),
    );
    let t = TestApp::with(common::config(), "sqlite::memory:", store.clone()).await;
    until_code(&t, 50301).await;
    let _redis = OwnRedis::start(port).unwrap();
    until_code(&t, 0).await;
    store.quit().await;
}

/// While Redis is known to be down, a command fails at once — it does not wait out the
/// configured timeout — and the request answers 50301.
#[tokio::test]
async fn a_store_known_to_be_down_fails_fast_with_50301() {
    if common::service_url("KOTORI_TEST_REDIS_URL", "a_store_known_to_be_down...").is_none() {
        return;
    }
    let port = free_port();
    let store = RedisStore::connect_with(
        &format!("redis://127.0.0.1:{port}"),
        "kotori-test:",
        std::time::Duration::from_millis(100),
        1,
    )
    .await
    .unwrap();
    let err = store.get("anything").await.unwrap_err();
    assert!(err.to_string().contains("reconnecting"), "{err}");
    let t = TestApp::with(common::config(), "sqlite::memory:", Arc::new(store)).await;
    let res = t
        .call(
            Method::POST,
            "/api/auth/sendsms",
            &[("phone", "18922986865")],
            None,
        )
        .await;
    assert_eq!(code(&res), 50301);
}

/// A plain `redis://` URL to a cluster node would answer MOVED to most keys: the store refuses
/// it at start and names the URL to use instead.
#[tokio::test]
async fn a_plain_url_to_a_cluster_node_is_refused_with_the_cluster_url_to_use() {
    let Some(cluster) = common::service_url(
        "KOTORI_TEST_REDIS_CLUSTER_URL",
        "a_plain_url_to_a_cluster...",
    ) else {
        return;
    };
    // The first node of the cluster URL, as a plain URL.
    let node = cluster
        .trim_start_matches("redis-cluster://")
        .split(['?', '/'])
        .next()
        .unwrap()
        .to_owned();
    let err = match RedisStore::connect(&format!("redis://{node}"), "kotori-test:plain:").await {
        Ok(_) => panic!("a plain URL to a cluster node was accepted"),
        Err(e) => e.0,
    };
    assert!(
        err.contains(&format!("use redis-cluster://{node}")),
        "{err}"
    );
}

/// On Redis every key the app writes expires, but the hot list's ranking (bounded: one member
/// per user visited in the window, one per VIP, one day set per day of the window): nonces,
/// signatures, codes, counters, sessions, rate limits. Locations are not in Redis at all (each
/// instance keeps its own index of them, `people::geo`).
#[tokio::test]
async fn every_key_the_app_writes_to_redis_expires_but_the_ranking() {
    let Some(url) = common::service_url("KOTORI_TEST_REDIS_URL", "every_key_the_app_writes...")
    else {
        return;
    };
    let prefix = format!("kotori-test:{}:{}:ttl:", std::process::id(), hex_token(4));
    let store = Arc::new(RedisStore::connect(&url, &prefix).await.unwrap());
    let t = TestApp::with(common::config(), "sqlite::memory:", store.clone()).await;
    // Codes, per-client counters, sessions, nonces and signatures, a location, an export's
    // rate limit, an operator's failed logins, a replay.
    let (token, _) = t.login("18900000001").await;
    let located = t
        .call(
            Method::POST,
            "/api/me/location",
            &[("lat", "22.5"), ("lng", "114.0")],
            Some(&token),
        )
        .await;
    assert_eq!(code(&located), 0);
    // A visit and a membership: the ranking's sets.
    let (viewer, _) = t.login("18900000002").await;
    let user = data(&t.call(Method::GET, "/api/me", &[], Some(&token)).await)["user_id"].clone();
    let path = format!("/api/users/{user}/show");
    assert_eq!(
        code(&t.call(Method::GET, &path, &[], Some(&viewer)).await),
        0
    );
    t.buy_vip(&token).await;
    assert_eq!(
        code(
            &t.call(Method::GET, "/api/me/export", &[], Some(&token))
                .await
        ),
        0
    );
    let failed = t
        .app
        .client()
        .post("/manage/login.json")
        .form(&[("name", "nobody"), ("password", "wrong-password")])
        .send()
        .await;
    assert_eq!(code(&failed), 40105);
    let cli = |args: &[&str]| {
        let out = std::process::Command::new("redis-cli")
            .args(["-u", &url])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8(out.stdout).unwrap()
    };
    let keys: Vec<String> = cli(&["--scan", "--pattern", &format!("{prefix}*")])
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(keys.len() >= 8, "{keys:?}");
    for set in ["rank", "raw", "days", "boost"] {
        let key = format!("{prefix}{{hot}}:{set}");
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    for key in &keys {
        let ttl: i64 = cli(&["pttl", key]).trim().parse().unwrap();
        assert!(
            !key.contains("geo:"),
            "{key}: locations are not kept in Redis"
        );
        if key.contains("{hot}:") {
            assert_eq!(ttl, -1, "{key} is bounded, not expiring");
        } else {
            // -2 is a key gone since the scan: it expired (a minute's SMS window can, when
            // the test runs slowly), which is what this checks. -1 is a key without expiry.
            assert!(ttl > 0 || ttl == -2, "{key} has no expiry ({ttl})");
        }
    }
    store.clear().await.unwrap();
    store.quit().await;
}
