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

/// The limits count reports filed: a report of someone the reporter already has an open
/// report of is 40901 and spends nothing — one at a time (the check before the count) and
/// twenty at once (the losers of the unique key give their tries back) — so a client that
/// retries cannot lock itself out of reporting anyone else.
#[tokio::test]
async fn a_refused_duplicate_report_spends_nothing() {
    let t = TestApp::new().await;
    let (me, my_id) = t.user("13700000020").await;
    let mut people = Vec::new();
    for i in 0..10 {
        people.push(t.user(&format!("137000002{i:02}")).await.1.to_string());
    }
    let report = async |user: &str| {
        let params = [("user_id", user), ("reason", "spam")];
        code(
            &t.call(Method::POST, "/api/reports", &params, Some(&me))
                .await,
        )
    };
    let spent = async || {
        let key = REPORTS.key(&my_id.to_string(), "hour");
        t.state.store.get(&key).await.unwrap()
    };
    let burst = futures_util::future::join_all((0..20).map(|_| report(&people[0]))).await;
    assert_eq!(burst.iter().filter(|&&c| c == 0).count(), 1, "{burst:?}");
    assert!(burst.iter().all(|&c| c == 0 || c == 40901), "{burst:?}");
    assert_eq!(
        spent().await.as_deref(),
        Some("1"),
        "one report filed, one try spent"
    );
    for _ in 0..15 {
        assert_eq!(report(&people[0]).await, 40901);
    }
    assert_eq!(spent().await.as_deref(), Some("1"));
    // The nine other reports of the hour are all still there.
    for user in &people[1..] {
        assert_eq!(report(user).await, 0);
    }
    assert_eq!(spent().await.as_deref(), Some("10"));
}

/// Reports racing for the last two of the hour, 30 rounds: ten copies of one report and one
/// report each of five other people at once. Exactly two are filed, the count of the hour is
/// exactly ten, every other answer is 40901 or 42901, and no copy of one report is filed twice.
async fn reports_race_for_the_last_tries(url: String) {
    use example_dating::db::entity::safety::report;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use std::sync::Arc;
    let store = Arc::new(example_dating::store::MemoryStore::new());
    let t = Arc::new(TestApp::with(common::config(), &url, store).await);
    let (me, my_id) = t.user("13700000040").await;
    let mut people = Vec::new();
    for i in 0..6 {
        people.push(t.user(&format!("137000004{i:02}")).await.1);
    }
    let hour = REPORTS.key(&my_id.to_string(), "hour");
    let day = REPORTS.key(&my_id.to_string(), "day");
    for round in 0..30 {
        report::Entity::delete_many()
            .filter(report::Column::ReporterId.eq(my_id))
            .exec(&t.state.db)
            .await
            .unwrap();
        let store = &t.state.store;
        store
            .set(&hour, "8", Duration::from_secs(3600))
            .await
            .unwrap();
        store.del(&day).await.unwrap();
        let targets = std::iter::repeat_n(people[0], 10).chain(people[1..].iter().copied());
        let racing: Vec<_> = targets
            .map(|whom| {
                let (t, me) = (Arc::clone(&t), me.clone());
                tokio::spawn(async move {
                    let whom = whom.to_string();
                    let params = [("user_id", whom.as_str()), ("reason", "spam")];
                    code(
                        &t.call(Method::POST, "/api/reports", &params, Some(&me))
                            .await,
                    )
                })
            })
            .collect();
        let mut codes = Vec::new();
        for answer in racing {
            codes.push(answer.await.unwrap());
        }
        let filed = report::Entity::find()
            .filter(report::Column::ReporterId.eq(my_id))
            .count(&t.state.db)
            .await
            .unwrap();
        assert_eq!(filed, 2, "round {round}: {codes:?}");
        assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 2, "{codes:?}");
        assert!(
            codes[..10].iter().filter(|&&c| c == 0).count() <= 1,
            "{codes:?}"
        );
        assert!(
            codes.iter().all(|c| [0, 40901, 42901].contains(c)),
            "{codes:?}"
        );
        let spent = t.state.store.get(&hour).await.unwrap();
        assert_eq!(spent.as_deref(), Some("10"), "round {round}: {codes:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_race_for_the_last_tries_on_sqlite() {
    let dir = common::TempDir::new("report-race");
    reports_race_for_the_last_tries(dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_race_for_the_last_tries_on_mariadb() {
    let test = "reports_race_for_the_last_tries_on_mariadb";
    common::on_database_server(common::MARIADB, test, reports_race_for_the_last_tries).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_race_for_the_last_tries_on_postgres() {
    let test = "reports_race_for_the_last_tries_on_postgres";
    common::on_database_server(common::POSTGRES, test, reports_race_for_the_last_tries).await;
}
