//! Signed requests (docs/src/dating/signing.md): appkey, timestamp, sign and nonce errors, the boundary-shift
//! replay, and a v2 app that cannot be downgraded.

mod common;

use std::sync::Arc;

use common::{TestApp, code};
use example_dating::client::Signer;
use example_dating::config::AppConfig;
use example_dating::signing::Scheme;
use http::Method;

const PHONE: &str = "18922986865";

#[tokio::test]
async fn appkey_errors() {
    let t = TestApp::new().await;
    let mut params = t.signer.sign(
        &Method::POST,
        "/api/auth/sendsms",
        &[("phone".into(), PHONE.into())],
        None,
    );
    params.retain(|(k, _)| k != "appkey");
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/sendsms", &params).await),
        40101,
        "missing"
    );

    let stranger = Signer::new(AppConfig {
        appkey: "NOPE".into(),
        secret: "x".into(),
        scheme: Scheme::V1,
        enabled: true,
    });
    let params = stranger.sign(
        &Method::POST,
        "/api/auth/sendsms",
        &[("phone".into(), PHONE.into())],
        None,
    );
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/sendsms", &params).await),
        40101,
        "unknown"
    );

    // The payment provider's app is not a client app, and a client app cannot notify payments.
    let provider = Signer::new(t.state.config.payment_apps[0].clone());
    let params = provider.sign(
        &Method::POST,
        "/api/auth/sendsms",
        &[("phone".into(), PHONE.into())],
        None,
    );
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/sendsms", &params).await),
        40101
    );
    let params = t.signer.sign(&Method::POST, "/pay/notify", &[], None);
    assert_eq!(
        code(&t.send(Method::POST, "/pay/notify", &params).await),
        40101
    );
}

fn with(params: &[(String, String)], key: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = params.iter().filter(|(k, _)| k != key).cloned().collect();
    if let Some(value) = value {
        out.push((key.into(), value.into()));
    }
    out
}

#[tokio::test]
async fn timestamp_sign_and_nonce_errors() {
    let t = TestApp::new().await;
    let base = [("phone".to_owned(), PHONE.to_owned())];
    let now = example_dating::clock::now();

    let signed = t
        .signer
        .sign(&Method::POST, "/api/auth/sendsms", &base, None);
    assert_eq!(
        code(
            &t.send(
                Method::POST,
                "/api/auth/sendsms",
                &with(&signed, "timestamp", None)
            )
            .await
        ),
        40102
    );
    for stale in [now - 61, now + 61] {
        let signed = t.signer.sign_with(
            &Method::POST,
            "/api/auth/sendsms",
            &base,
            None,
            &stale.to_string(),
            "n-stale",
        );
        assert_eq!(
            code(&t.send(Method::POST, "/api/auth/sendsms", &signed).await),
            40102,
            "{stale}"
        );
    }
    let signed = t.signer.sign_with(
        &Method::POST,
        "/api/auth/sendsms",
        &base,
        None,
        "soon",
        "n-bad",
    );
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/sendsms", &signed).await),
        40102
    );

    let signed = t
        .signer
        .sign(&Method::POST, "/api/auth/sendsms", &base, None);
    assert_eq!(
        code(
            &t.send(
                Method::POST,
                "/api/auth/sendsms",
                &with(&signed, "sign", None)
            )
            .await
        ),
        40104
    );
    let wrong = with(&signed, "sign", Some("00000000000000000000000000000000"));
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/sendsms", &wrong).await),
        40104
    );
    // A tampered parameter breaks the signature.
    let tampered = with(&signed, "phone", Some("13800000000"));
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/sendsms", &tampered).await),
        40104
    );
    // Forged requests burn no nonce: the genuine one still goes through.
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/sendsms", &signed).await),
        0
    );
    // The same request again is a replay.
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/sendsms", &signed).await),
        40103
    );

    let no_nonce = t.signer.sign_with(
        &Method::POST,
        "/api/auth/login",
        &base,
        None,
        &now.to_string(),
        "",
    );
    assert_eq!(
        code(
            &t.send(
                Method::POST,
                "/api/auth/login",
                &with(&no_nonce, "nonce", None)
            )
            .await
        ),
        40103
    );
}

#[tokio::test]
async fn a_nonce_longer_than_64_characters_is_refused_even_when_signed() {
    let t = TestApp::new().await;
    let now = example_dating::clock::now().to_string();
    let params = vec![("phone".to_owned(), "18922986865".to_owned())];
    let send = |nonce: String| {
        let signed = t.signer.sign_with(
            &Method::POST,
            "/api/auth/sendsms",
            &params,
            None,
            &now,
            &nonce,
        );
        let t = &t;
        async move { code(&t.send(Method::POST, "/api/auth/sendsms", &signed).await) }
    };
    assert_eq!(send("n".repeat(65)).await, 40103);
    assert_eq!(send("字".repeat(65)).await, 40103, "characters, not bytes");
    assert_eq!(send("字".repeat(64)).await, 0, "64 characters pass");
}

#[tokio::test]
async fn a_boundary_shift_replay_is_refused() {
    // timestamp+nonce are concatenated unseparated: `…678`+`abc` and `…`+`678abc` sign the same
    // string, both timestamps are in the window, and the nonces differ.
    let t = TestApp::new().await;
    let base = [("phone".to_owned(), PHONE.to_owned())];
    let millis = example_dating::clock::now() * 1000 + 678;
    let (ms, secs) = (millis.to_string(), (millis / 1000).to_string());
    let first = t
        .signer
        .sign_with(&Method::POST, "/api/auth/login", &base, None, &ms, "abc");
    let shifted = t.signer.sign_with(
        &Method::POST,
        "/api/auth/login",
        &base,
        None,
        &secs,
        "678abc",
    );
    let sign = |p: &[(String, String)]| p.iter().find(|(k, _)| k == "sign").unwrap().1.clone();
    assert_eq!(
        sign(&first),
        sign(&shifted),
        "the two requests really sign the same string"
    );
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/login", &first).await),
        40001,
        "code missing, but signed fine"
    );
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/login", &shifted).await),
        40103
    );
}

/// A nonce is any text: one with braces (a Redis Cluster hash tag, were it put in a key as
/// sent) and its escaped spelling are two nonces, each usable once.
#[tokio::test]
async fn nonces_with_braces_are_nonces_like_any_other() {
    let t = TestApp::new().await;
    let base = [("phone".to_owned(), PHONE.to_owned())];
    let now = example_dating::clock::now().to_string();
    for nonce in ["{n1}", "%7Bn1%7D", "%257B", "%7B"] {
        let signed = t
            .signer
            .sign_with(&Method::POST, "/api/auth/login", &base, None, &now, nonce);
        let first = t.send(Method::POST, "/api/auth/login", &signed).await;
        assert_eq!(
            code(&first),
            40001,
            "{nonce}: signed fine, the code missing"
        );
        let again = t.send(Method::POST, "/api/auth/login", &signed).await;
        assert_eq!(code(&again), 40103, "{nonce}: a replay");
    }
}

#[tokio::test]
async fn a_v2_app_signs_with_hmac_and_cannot_be_downgraded_to_v1() {
    let mut config = common::config();
    config.apps = vec![AppConfig {
        appkey: "V2KEY".into(),
        secret: "s3cr3t".into(),
        scheme: Scheme::V2,
        enabled: true,
    }];
    config.dev_app = false;
    config.sms.echo_code = true;
    let t = TestApp::with(
        config,
        "sqlite::memory:",
        Arc::new(example_dating::store::MemoryStore::new()),
    )
    .await;
    let (token, _) = t.login(PHONE).await;
    assert_eq!(
        code(
            &t.call(Method::POST, "/api/auth/logout", &[], Some(&token))
                .await
        ),
        0
    );

    let as_v1 = Signer::new(AppConfig {
        appkey: "V2KEY".into(),
        secret: "s3cr3t".into(),
        scheme: Scheme::V1,
        enabled: true,
    });
    let params = as_v1.sign(
        &Method::POST,
        "/api/auth/sendsms",
        &[("phone".into(), PHONE.into())],
        None,
    );
    assert_eq!(
        code(&t.send(Method::POST, "/api/auth/sendsms", &params).await),
        40104
    );
}
