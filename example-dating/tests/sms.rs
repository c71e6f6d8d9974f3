//! SMS codes (docs/src/dating/api/auth.md): the limits per phone and per client address (behind a trusted proxy
//! too), and delivery through the configured gateway.

mod common;

use std::sync::Arc;

use common::{TestApp, code};
use http::Method;

const PHONE: &str = "18922986865";

/// An app whose codes go to the gateway at `url`, not echoed.
async fn with_gateway(url: &str) -> TestApp {
    let mut config = common::config();
    config.sms.echo_code = false;
    config.sms.webhook_url = Some(url.to_owned());
    let sms = example_dating::startup::sms_sender(&config).unwrap();
    let store = Arc::new(example_dating::store::MemoryStore::new());
    TestApp::with_sms(config, "sqlite::memory:", store, sms).await
}

#[tokio::test]
async fn five_sends_an_hour_and_ten_a_day_per_phone() {
    let t = TestApp::new().await;
    let send = async || {
        code(
            &t.call(Method::POST, "/api/auth/sendsms", &[("phone", PHONE)], None)
                .await,
        )
    };
    for i in 0..5 {
        assert_eq!(send().await, 0, "send {i} in the hour");
        t.a_minute_passes(PHONE).await;
    }
    assert_eq!(send().await, 42901, "the sixth in an hour");
    // An hour passes: five more make ten today; after another hour, the day refuses.
    t.state
        .store
        .del(&example_dating::auth::sms::window_key(
            &format!("+86{PHONE}"),
            "hour",
        ))
        .await
        .unwrap();
    t.a_minute_passes(PHONE).await;
    for i in 0..5 {
        assert_eq!(send().await, 0, "send {} in the day", i + 6);
        t.a_minute_passes(PHONE).await;
    }
    t.state
        .store
        .del(&example_dating::auth::sms::window_key(
            &format!("+86{PHONE}"),
            "hour",
        ))
        .await
        .unwrap();
    let res = t
        .call(Method::POST, "/api/auth/sendsms", &[("phone", PHONE)], None)
        .await;
    assert_eq!(code(&res), 42901, "the eleventh in a day");
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 3600, "Retry-After is the day window's ({retry})");
}

/// Behind nginx every client connects from nginx's address: a trusted proxy's
/// `X-Forwarded-For` names the client for the per-client SMS limit; anyone else's is ignored.
#[tokio::test]
async fn the_per_client_limit_sees_clients_behind_a_trusted_proxy_and_ignores_spoofing() {
    let mut config = common::config();
    config.sms.per_client_daily = 2;
    config.trusted_proxies =
        example_dating::client_ip::TrustedProxies::parse(["127.0.0.1"]).unwrap();
    let t = TestApp::with(
        config,
        "sqlite::memory:",
        std::sync::Arc::new(example_dating::store::MemoryStore::new()),
    )
    .await;
    let mut phone = 0;
    let mut send = async |peer: &str, forwarded: Option<&str>| {
        phone += 1;
        let params = t.signer.sign(
            &Method::POST,
            "/api/auth/sendsms",
            &[("phone".into(), format!("1370000{phone:04}"))],
            None,
        );
        let mut req = t
            .app
            .client()
            .post("/api/auth/sendsms")
            .peer(peer.parse().unwrap())
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(forwarded) = forwarded {
            req = req.header("x-forwarded-for", forwarded);
        }
        code(
            &req.body(example_dating::client::encode(&params))
                .send()
                .await,
        )
    };
    // Through nginx: three clients, two sends each, all within their own limit.
    for client in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        for _ in 0..2 {
            assert_eq!(send("127.0.0.1:40000", Some(client)).await, 0, "{client}");
        }
        assert_eq!(
            send("127.0.0.1:40000", Some(client)).await,
            42901,
            "{client}'s third"
        );
    }
    // Directly, a client cannot claim to be someone else to get a fresh limit.
    assert_eq!(send("203.0.113.5:1", Some("192.0.2.1")).await, 0);
    assert_eq!(send("203.0.113.5:1", Some("192.0.2.2")).await, 0);
    assert_eq!(send("203.0.113.5:1", Some("192.0.2.3")).await, 42901);
    // An IPv6 client picks any address of its /64: the network is the client, directly or
    // through nginx, and another /64 is another client.
    assert_eq!(send("[2001:db8:0:1::1]:1", None).await, 0);
    assert_eq!(send("[2001:db8:0:1::2]:1", None).await, 0);
    assert_eq!(send("[2001:db8:0:1:ffff::3]:1", None).await, 42901);
    assert_eq!(
        send("127.0.0.1:40000", Some("2001:db8:0:1::4")).await,
        42901
    );
    assert_eq!(send("127.0.0.1:40000", Some("2001:db8:0:2::1")).await, 0);
    // An IPv4 client seen through an IPv6 socket is the same client.
    assert_eq!(send("[::ffff:198.51.100.1]:1", None).await, 42901);
}

/// The configured gateway gets each code (and the log never does); a gateway that is down is
/// 50301 and leaves nothing behind: no code, no try spent.
#[tokio::test]
async fn codes_go_to_the_configured_sms_gateway() {
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = listener.local_addr().unwrap();
    let (got, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let got = got.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let got = got.clone();
                    async move {
                        use http_body_util::BodyExt;
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        got.send(String::from_utf8(body.to_vec()).unwrap()).unwrap();
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from_static(b"queued")),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let t = with_gateway(&format!("http://{gateway}/sms/send")).await;
    let res = t
        .call(Method::POST, "/api/auth/sendsms", &[("phone", PHONE)], None)
        .await;
    assert_eq!(code(&res), 0);
    assert!(
        res.text().contains(PHONE) && !res.text().contains("\"code\":\""),
        "no echo: {}",
        res.text()
    );
    let form = received.recv().await.unwrap();
    let pairs: std::collections::HashMap<String, String> = form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        pairs["phone"],
        format!("+86{PHONE}"),
        "the gateway gets E.164"
    );
    let code_sent = pairs["code"].clone();
    assert_eq!(code_sent.len(), 6);
    let res = t
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", PHONE), ("code", &code_sent)],
            None,
        )
        .await;
    assert_eq!(code(&res), 0, "the gateway's code logs in");

    // A gateway that is down: 50301, and nothing is left behind — no code to guess, no try of
    // the phone's or the client's spent, so sending again is not 42901 but another 50301.
    let t = with_gateway("http://127.0.0.1:9/sms").await;
    for _ in 0..3 {
        let res = t
            .call(Method::POST, "/api/auth/sendsms", &[("phone", PHONE)], None)
            .await;
        assert_eq!(code(&res), 50301);
    }
    let e164 = format!("+86{PHONE}");
    for window in ["minute", "hour", "day"] {
        let key = example_dating::auth::sms::window_key(&e164, window);
        let spent = t.state.store.get(&key).await;
        assert!(
            matches!(spent.unwrap().as_deref(), None | Some("0")),
            "{window}"
        );
    }
    let res = t
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", PHONE), ("code", "000000")],
            None,
        )
        .await;
    assert_eq!(code(&res), 40106, "no code is waiting");
}

/// A flood of sends refused by the per-client limit leaves the store as it was: the limit is
/// checked first and counts nothing, and no phone's counters or code are written. On both
/// stores, by counting their SMS keys (each signed request leaves its replay records, which
/// last two signing windows: that is the signature's cost, not the SMS limit's).
#[tokio::test]
async fn refused_sends_write_nothing_on_either_store() {
    async fn flood(store: Arc<dyn example_dating::store::Store>, count: impl AsyncFn() -> usize) {
        let mut config = common::config();
        config.sms.per_client_daily = 3;
        let t = TestApp::with(config, "sqlite::memory:", store).await;
        let send = async |n: u32| {
            code(
                &t.call(
                    Method::POST,
                    "/api/auth/sendsms",
                    &[("phone", &format!("1360000{n:04}"))],
                    None,
                )
                .await,
            )
        };
        for n in 0..3 {
            assert_eq!(send(n).await, 0);
        }
        let before = count().await;
        assert!(before > 0, "the three sends wrote their counters and codes");
        for n in 3..203 {
            assert_eq!(send(n).await, 42901, "send {n}");
        }
        assert_eq!(count().await, before, "200 refused sends wrote no key");
    }
    let memory = Arc::new(example_dating::store::MemoryStore::new());
    flood(memory.clone(), async || memory.key_count("sms:")).await;
    let Ok(url) = std::env::var("KOTORI_TEST_REDIS_URL") else {
        eprintln!("skipped the Redis half: KOTORI_TEST_REDIS_URL is not set");
        return;
    };
    let prefix = format!(
        "kotori-test:{}:{}:sms-flood:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let redis = Arc::new(
        example_dating::store::RedisStore::connect(&url, &prefix)
            .await
            .unwrap(),
    );
    flood(redis.clone(), async || {
        redis.key_count("sms:").await.unwrap()
    })
    .await;
    redis.clear().await.unwrap();
    redis.quit().await;
}
