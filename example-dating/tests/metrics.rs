//! `GET /metrics`: behind an operator's bearer token with `metrics:read`, kotori's measurements
//! by route template, refusing step and business code.

mod common;

use common::{TestApp, code};
use http::Method;

#[tokio::test]
async fn metrics_need_an_operator_holding_metrics_read() {
    let t = TestApp::new().await;
    let anyone = t.app.client().get("/metrics").send().await;
    assert_eq!(
        (anyone.status(), code(&anyone)),
        (http::StatusCode::UNAUTHORIZED, 40105)
    );
    let reader = t.operator("ops", "admin", &["users:read"]).await;
    let without = t.manage(Method::GET, "/metrics", &[], Some(&reader)).await;
    assert_eq!(
        (without.status(), code(&without)),
        (http::StatusCode::FORBIDDEN, 40301)
    );
    let scraper = t.operator("prometheus", "admin", &["metrics:read"]).await;
    let res = t.manage(Method::GET, "/metrics", &[], Some(&scraper)).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        res.header("content-type")
    );
}

#[tokio::test]
async fn refusals_are_counted_under_their_route_step_and_code() {
    let t = TestApp::new().await;
    let (token, _) = t.user("13900000001").await;
    let scraper = t.operator("prometheus", "admin", &["metrics:read"]).await;
    // Before any request of theirs, the VIP refusal is listed by the tree but not on the page:
    // a series appears once it has counted something.
    let listed = t.app.metrics().series().into_iter().any(|s| {
        s.label("http.route") == Some("/api/vip/visitors")
            && s.label("kotori.code") == Some("40302")
    });
    assert!(listed);
    let before = t.manage(Method::GET, "/metrics", &[], Some(&scraper)).await;
    assert!(
        !before.text().contains(r#"kotori_code="40302""#),
        "{}",
        before.text()
    );

    // Three replays of a signed GET /api/me, and two VIP refusals.
    for _ in 0..3 {
        let signed = t.signer.sign(&Method::GET, "/api/me", &[], Some(&token));
        let first = t.send(Method::GET, "/api/me", &signed).await;
        assert_eq!(code(&first), 0);
        let again = t.send(Method::GET, "/api/me", &signed).await;
        assert_eq!(code(&again), 40103);
    }
    for _ in 0..2 {
        let res = t
            .call(Method::GET, "/api/vip/visitors", &[], Some(&token))
            .await;
        assert_eq!(code(&res), 40302);
    }
    let res = t.manage(Method::GET, "/metrics", &[], Some(&scraper)).await;
    let text = res.text();
    let line = |labels: &str| {
        let start = format!("http_server_request_duration_seconds_count{{{labels}}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&start))
            .unwrap_or_else(|| panic!("no series {labels} in\n{text}"))
            .to_owned()
    };
    assert_eq!(
        line(
            r#"http_request_method="GET",http_route="/api/me",http_response_status_code="401",kotori_step="example_dating::auth::signature::verify_client_signature",kotori_code="40103""#
        ),
        "3"
    );
    assert_eq!(
        line(
            r#"http_request_method="GET",http_route="/api/vip/visitors",http_response_status_code="403",kotori_step="example_dating::commerce::vip::require_vip",kotori_code="40302""#
        ),
        "2"
    );
    assert_eq!(
        line(r#"http_request_method="GET",http_route="/api/me",http_response_status_code="200""#),
        "3"
    );
    // Awaited steps, by outcome; the app's round trips per request.
    assert!(text.contains(
        r#"kotori_step_duration_seconds_count{kotori_step="example_dating::commerce::vip::require_vip",kotori_outcome="refuse"} 2"#
    ));
    assert!(text.contains("# TYPE dating_round_trips_per_request histogram"));
}

/// The label sets are bounded by the tree: every request-duration series `/metrics` shows
/// after a varied run names a route the tree has (never a raw path) and a step on that route's
/// chain; most are the ones listed at build, and nothing was dropped.
#[tokio::test]
async fn every_series_a_run_produces_is_bounded_by_the_tree() {
    let t = TestApp::new().await;
    let (token, me) = t.user("13900000002").await;
    let (_, other) = t.user("13900000003").await;
    for (method, path) in [
        (Method::GET, "/api/me".to_owned()),
        (Method::GET, format!("/api/users/{other}/show")),
        (Method::GET, "/api/users/99999/show".to_owned()),
        (Method::GET, format!("/api/users/{me}/messages")),
        (Method::GET, "/api/vip/visitors".to_owned()),
        (Method::GET, "/api/user/hot/list".to_owned()),
        (Method::POST, "/api/me/update".to_owned()),
    ] {
        t.call(method.clone(), &path, &[], Some(&token)).await;
        t.call(method, &path, &[], None).await;
    }
    let metrics = t.app.metrics();
    let listed = metrics.series();
    let seen: Vec<_> = metrics
        .observed()
        .into_iter()
        .filter(|(s, v)| {
            s.instrument == kotori::metrics::Instrument::RequestDuration
                && v.count().is_some_and(|n| n > 0)
        })
        .map(|(s, _)| s)
        .collect();
    assert!(seen.len() >= 10, "a varied run: {seen:#?}");
    for series in &seen {
        let route = series
            .label("http.route")
            .expect("every request matched a route");
        let info = t
            .app
            .routes()
            .iter()
            .find(|r| r.path() == route)
            .unwrap_or_else(|| panic!("{route} is not a route of the tree"));
        if let Some(step) = series.label("kotori.step") {
            assert!(
                info.chain().iter().any(|s| s.name() == step),
                "{step} is not on {route}'s chain"
            );
        }
    }
    let listed_seen = seen.iter().filter(|s| listed.contains(s)).count();
    assert!(listed_seen * 2 > seen.len(), "most were made at build");
    assert_eq!(metrics.dropped(), 0);
}
