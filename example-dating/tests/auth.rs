//! The login flow and every error code of docs/src/dating/api/conventions.md and docs/src/dating/signing.md and docs/src/dating/api/auth.md, through the full dispatch.

mod common;

use std::sync::Arc;

use common::{TestApp, code, data};
use http::Method;
use serde_json::Value;

const PHONE: &str = "18922986865";

#[tokio::test]
async fn the_full_login_flow() {
    let t = TestApp::new().await;
    let res = t
        .call(Method::POST, "/api/auth/sendsms", &[("phone", PHONE)], None)
        .await;
    let sent = data(&res);
    assert_eq!(sent["phone"], PHONE);
    let code_sent = sent["code"].as_str().unwrap().to_owned();
    assert!(code_sent.len() == 6 && code_sent.bytes().all(|b| b.is_ascii_digit()));

    let res = t
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", PHONE), ("code", &code_sent)],
            None,
        )
        .await;
    let session = data(&res);
    let token = session["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 32);
    assert!(session["user_id"].as_i64().unwrap() > 0);
    assert_eq!(
        session["expire_time"].as_str().unwrap().len(),
        "2026-11-28 12:00:00".len()
    );
    assert!(
        res.header("x-request-id").is_some(),
        "every response carries a request id"
    );

    // The code works once.
    let again = t
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", PHONE), ("code", &code_sent)],
            None,
        )
        .await;
    assert_eq!(code(&again), 40106);

    let res = t
        .call(Method::POST, "/api/auth/logout", &[], Some(&token))
        .await;
    assert_eq!(data(&res), serde_json::json!({}));
    let res = t
        .call(Method::POST, "/api/auth/logout", &[], Some(&token))
        .await;
    assert_eq!(code(&res), 40105, "the token stopped working at once");
}

#[tokio::test]
async fn first_login_registers_and_later_logins_keep_other_devices_tokens() {
    let t = TestApp::new().await;
    let (first, user) = t.login(PHONE).await;
    t.a_minute_passes(PHONE).await;
    let (second, same_user) = t.login(PHONE).await;
    assert_eq!(user, same_user);
    assert_ne!(first, second);
    for token in [&first, &second] {
        let res = t
            .call(Method::POST, "/api/auth/logout", &[], Some(token))
            .await;
        assert_eq!(code(&res), 0, "both devices' tokens work");
    }
    use example_dating::db::entity::users::user_info;
    use sea_orm::EntityTrait;
    let profile = user_info::Entity::find_by_id(user)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.nickname, format!("u-{PHONE}"));
    assert_eq!(
        profile.authority,
        example_dating::people::Authority::Everyone,
        "visible to all"
    );
}

#[tokio::test]
async fn two_concurrent_first_logins_make_one_user() {
    let t = Arc::new(TestApp::new().await);
    let mut codes = Vec::new();
    // Two codes cannot coexist for one phone; send one, and let both logins race with it and
    // a second phone's code — the race that matters is the registration itself.
    for phone in ["13800000001", "13800000002"] {
        let res = t
            .call(Method::POST, "/api/auth/sendsms", &[("phone", phone)], None)
            .await;
        codes.push((phone, data(&res)["code"].as_str().unwrap().to_owned()));
    }
    let (phone, code_sent) = codes[0].clone();
    let a = {
        let t = t.clone();
        let c = code_sent.clone();
        tokio::spawn(async move {
            t.call(
                Method::POST,
                "/api/auth/login",
                &[("phone", phone), ("code", &c)],
                None,
            )
            .await
        })
    };
    let b = {
        let t = t.clone();
        tokio::spawn(async move {
            t.call(
                Method::POST,
                "/api/auth/login",
                &[("phone", phone), ("code", &code_sent)],
                None,
            )
            .await
        })
    };
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    // Exactly one redeems the code; whatever happens, one user exists for the phone.
    assert_eq!([code(&a), code(&b)].iter().filter(|c| **c == 0).count(), 1);
    use example_dating::db::entity::users::{user_auth, user_info};
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        user_auth::Entity::find().count(&t.state.db).await.unwrap(),
        1
    );
    assert_eq!(
        user_info::Entity::find().count(&t.state.db).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn parameter_errors() {
    let t = TestApp::new().await;
    let res = t.call(Method::POST, "/api/auth/sendsms", &[], None).await;
    assert_eq!(code(&res), 40001);
    assert!(
        res.json::<Value>()["msg"]
            .as_str()
            .unwrap()
            .contains("phone")
    );
    for bad in ["12345", "phone", "+86 189", "1234567890123456"] {
        let res = t
            .call(Method::POST, "/api/auth/sendsms", &[("phone", bad)], None)
            .await;
        assert_eq!(code(&res), 40002, "{bad}");
    }
    let res = t
        .call(Method::POST, "/api/auth/login", &[("phone", PHONE)], None)
        .await;
    assert_eq!(code(&res), 40001, "code missing");
    // A key twice: once in the query, once in the body.
    let signed = t.signer.sign(
        &Method::POST,
        "/api/auth/sendsms",
        &[("phone".into(), PHONE.into())],
        None,
    );
    let res = t
        .app
        .client()
        .post("/api/auth/sendsms?phone=1")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(example_dating::client::encode(&signed))
        .send()
        .await;
    assert_eq!(code(&res), 40002);
    // A compressed form is not read as a form: the answer says what to send instead.
    let res = t
        .app
        .client()
        .post("/api/auth/sendsms")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-encoding", "gzip")
        .body(example_dating::client::encode(&signed))
        .send()
        .await;
    assert_eq!(code(&res), 40002);
    let msg = res.json::<Value>()["msg"].as_str().unwrap().to_owned();
    assert!(msg.contains("uncompressed"), "{msg}");
}

#[tokio::test]
async fn token_errors() {
    let t = TestApp::new().await;
    assert_eq!(
        code(&t.call(Method::POST, "/api/auth/logout", &[], None).await),
        40105,
        "missing"
    );
    let bogus = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        code(
            &t.call(Method::POST, "/api/auth/logout", &[], Some(bogus))
                .await
        ),
        40105,
        "unknown"
    );
    assert_eq!(
        code(
            &t.call(Method::POST, "/api/auth/logout", &[], Some("short"))
                .await
        ),
        40105,
        "malformed"
    );
}

#[tokio::test]
async fn sms_code_errors() {
    let t = TestApp::new().await;
    let res = t
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", PHONE), ("code", "123456")],
            None,
        )
        .await;
    assert_eq!(code(&res), 40106, "no code was sent");
    t.call(Method::POST, "/api/auth/sendsms", &[("phone", PHONE)], None)
        .await;
    let res = t
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", PHONE), ("code", "000000x")],
            None,
        )
        .await;
    assert_eq!(code(&res), 40106, "wrong code");
}

#[tokio::test]
async fn sms_sends_are_rate_limited_with_retry_after() {
    let t = TestApp::new().await;
    assert_eq!(
        code(
            &t.call(Method::POST, "/api/auth/sendsms", &[("phone", PHONE)], None)
                .await
        ),
        0
    );
    let res = t
        .call(Method::POST, "/api/auth/sendsms", &[("phone", PHONE)], None)
        .await;
    assert_eq!(code(&res), 42901);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");

    // 20 per day per client address: distinct phones, one address.
    let peer: std::net::SocketAddr = "203.0.113.9:5000".parse().unwrap();
    let mut last = 0;
    for i in 0..21 {
        let phone = format!("1390000{i:04}");
        let params = t.signer.sign(
            &Method::POST,
            "/api/auth/sendsms",
            &[("phone".into(), phone)],
            None,
        );
        let res = t
            .app
            .client()
            .post("/api/auth/sendsms")
            .peer(peer)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(example_dating::client::encode(&params))
            .send()
            .await;
        last = code(&res);
        if i < 20 {
            assert_eq!(last, 0, "send {i}");
        }
    }
    assert_eq!(last, 42901, "the 21st send from one address");
}

#[tokio::test]
async fn a_banned_user_cannot_log_in_and_their_tokens_die() {
    let t = TestApp::new().await;
    let (token, user) = t.login(PHONE).await;
    example_dating::people::account::ban(&t.state, user, "spam")
        .await
        .unwrap();

    assert_eq!(
        code(
            &t.call(Method::POST, "/api/auth/logout", &[], Some(&token))
                .await
        ),
        40105
    );
    t.a_minute_passes(PHONE).await;
    let sms = t.send_code(PHONE).await;
    let res = t
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", PHONE), ("code", &sms)],
            None,
        )
        .await;
    assert_eq!(code(&res), 40303);
}

#[tokio::test]
async fn unknown_paths_methods_and_oversize_bodies_wear_the_envelope() {
    let t = TestApp::new().await;
    let res = t.call(Method::GET, "/api/nothing", &[], None).await;
    assert_eq!(code(&res), 40401);
    assert_eq!(msg(&res), "not found");
    let res = t.call(Method::GET, "/api/auth/login", &[], None).await;
    assert_eq!(code(&res), 40501);
    assert_eq!(msg(&res), "method not allowed");
    assert_eq!(res.header("allow"), Some("POST"));
    // kotori refuses an id that is not a number, the app an unknown one: one answer, so
    // neither tells a client which refused.
    let (token, _) = t.user(PHONE).await;
    let unparsable = t
        .call(Method::GET, "/api/users/abc/show", &[], Some(&token))
        .await;
    let unknown = t
        .call(Method::GET, "/api/users/987654/show", &[], Some(&token))
        .await;
    assert_eq!(unparsable.status(), unknown.status());
    assert_eq!(unparsable.text(), unknown.text());
    assert_eq!(msg(&unknown), "not found");
    // Unsigned requests to unknown paths learn nothing: the signature guard answers first.
    let res = t.app.client().get("/api/nothing").send().await;
    assert_eq!(code(&res), 40101);
    let huge = "x".repeat(70 * 1024);
    let res = t
        .call(
            Method::POST,
            "/api/auth/sendsms",
            &[("phone", PHONE), ("pad", &huge)],
            None,
        )
        .await;
    assert_eq!(code(&res), 41301);
    assert!(msg(&res).contains("larger than"), "{}", msg(&res));
}

/// The `msg` of an envelope.
fn msg(res: &kotori::test::TestResponse) -> String {
    let body: Value = res.json();
    body["msg"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn health_and_readiness() {
    let t = TestApp::new().await;
    let res = t.app.client().get("/healthz").send().await;
    assert_eq!(code(&res), 0);
    let res = t.app.client().get("/readyz").send().await;
    assert_eq!(data(&res)["store"], "memory");
}
