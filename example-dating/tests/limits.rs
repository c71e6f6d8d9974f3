//! The per-person rate limits (`limits.rs`): messages (30 a minute, 1,000 a day, across all
//! peers) and reports (10 an hour, 30 a day). A refused try answers 42901 with `Retry-After`
//! and writes nothing — no message, no report, no counter.

mod common;

use std::time::Duration;

use common::{TestApp, code, data};
use example_dating::limits::{MESSAGES, REPORTS};
use http::Method;

/// A window of `limit` passes, as if its time had run out.
async fn window_passes(t: &TestApp, key: String) {
    t.state.store.del(&key).await.unwrap();
}

#[tokio::test]
async fn a_sender_gets_thirty_messages_a_minute_and_a_thousand_a_day() {
    let t = TestApp::new().await;
    let (me, my_id) = t.user("13700000001").await;
    let (_, a) = t.user("13700000002").await;
    let (_, b) = t.user("13700000003").await;
    // Across peers: 15 to each, 30 in all.
    for i in 0..30 {
        let to = if i % 2 == 0 { a } else { b };
        assert_eq!(
            code(&t.message(&me, to, &format!("hi {i}")).await),
            0,
            "message {i}"
        );
    }
    let refused = t.message(&me, a, "one too many").await;
    assert_eq!(code(&refused), 42901);
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Nothing was written for it: the conversation holds 15 messages.
    let history = t
        .call(
            Method::GET,
            &format!("/api/users/{a}/messages"),
            &[("limit", "100")],
            Some(&me),
        )
        .await;
    assert_eq!(data(&history)["list"].as_array().unwrap().len(), 15);
    assert_eq!(
        t.state
            .store
            .get(&MESSAGES.key(&my_id.to_string(), "day"))
            .await
            .unwrap()
            .as_deref(),
        Some("30"),
        "the refused message counted nowhere"
    );

    // A minute later the sender goes on, until the day's thousand.
    window_passes(&t, MESSAGES.key(&my_id.to_string(), "minute")).await;
    assert_eq!(code(&t.message(&me, a, "a minute later").await), 0);
    t.state
        .store
        .set(
            &MESSAGES.key(&my_id.to_string(), "day"),
            "1000",
            Duration::from_secs(20_000),
        )
        .await
        .unwrap();
    window_passes(&t, MESSAGES.key(&my_id.to_string(), "minute")).await;
    let refused = t.message(&me, b, "the day is spent").await;
    assert_eq!(code(&refused), 42901);
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 3600, "the day window's time left: {retry}");
}

#[tokio::test]
async fn a_reporter_files_ten_reports_an_hour_and_thirty_a_day() {
    let t = TestApp::new().await;
    let (me, my_id) = t.user("13700000010").await;
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(t.user(&format!("137000001{i:02}")).await.1);
    }
    let report = async |user: i64| {
        let user = user.to_string();
        let params = [
            ("user_id", user.as_str()),
            ("reason", "spam"),
            ("detail", "x"),
        ];
        t.call(Method::POST, "/api/reports", &params, Some(&me))
            .await
    };
    for (i, user) in people.iter().take(10).enumerate() {
        assert_eq!(code(&report(*user).await), 0, "report {i}");
    }
    let refused = report(people[10]).await;
    assert_eq!(code(&refused), 42901);
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((3000..=3600).contains(&retry), "{retry}");
    // The refused report was not filed.
    let admin = t.operator("mod", "admin", &["reports:read"]).await;
    let open = t
        .manage(
            Method::GET,
            "/manage/dating/admin/api/reports/list.json",
            &[("pageCount", "50")],
            Some(&admin),
        )
        .await;
    assert_eq!(data(&open)["total"], 10);
    // An hour later: twenty more make thirty today; the thirty-first waits for tomorrow.
    window_passes(&t, REPORTS.key(&my_id.to_string(), "hour")).await;
    assert_eq!(code(&report(people[10]).await), 0);
    t.state
        .store
        .set(
            &REPORTS.key(&my_id.to_string(), "day"),
            "30",
            Duration::from_secs(20_000),
        )
        .await
        .unwrap();
    window_passes(&t, REPORTS.key(&my_id.to_string(), "hour")).await;
    let refused = report(people[11]).await;
    assert_eq!(code(&refused), 42901);
}
