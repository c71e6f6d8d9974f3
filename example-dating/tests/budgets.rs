//! Round trips per route, as budgets: the database statements and store round trips one
//! request of each hot route makes, counted (sea-orm's metric callback, a watched store) on the
//! embedded default and on PostgreSQL + Redis, and compared with the table in
//! `docs/src/dating/budgets.md`. A route that
//! grows — or shrinks — fails here until the table says so: a budget changes on purpose.
//!
//! Each request is made twice and the second one counted: caches (a token's session) are warm,
//! as they are for nearly every request in production.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::watched::Watched;
use common::{TestApp, code, data};
use example_dating::store::{MemoryStore, RedisStore, Store};
use http::Method;
use sea_orm::DatabaseConnection;

const TABLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/dating/budgets.md");

/// A request to count: its row in the table, and how to make it.
struct Case(&'static str, Method, String, Vec<(&'static str, String)>);

/// The budgets in the book: route → (statements, store commands).
fn budgets() -> BTreeMap<String, (usize, usize)> {
    let text = std::fs::read_to_string(TABLE).expect("docs/src/dating/budgets.md");
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let route = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let statements = cells.get(2)?.parse().ok()?;
            let commands = cells.get(3)?.parse().ok()?;
            Some((route.to_owned(), (statements, commands)))
        })
        .collect()
}

#[tokio::test]
async fn every_hot_route_keeps_its_round_trip_budget_on_the_embedded_default() {
    let db = example_dating::db::connect("sqlite::memory:")
        .await
        .unwrap();
    let measured = measure(db, |hook| {
        Arc::new(Watched::new(Arc::new(MemoryStore::new()), hook))
    })
    .await;
    compare(&measured);
}

#[tokio::test]
async fn every_hot_route_keeps_its_round_trip_budget_on_postgres_and_redis() {
    const TEST: &str = "every_hot_route_keeps_its_round_trip_budget_on_postgres_and_redis";
    let (Some(pg), Some(redis)) = (
        common::service_url("KOTORI_TEST_POSTGRES_URL", TEST),
        common::service_url("KOTORI_TEST_REDIS_URL", TEST),
    ) else {
        return;
    };
    common::on_fresh_database(&pg, async move |url| {
        let db = example_dating::db::connect(&url).await.unwrap();
        let prefix = format!("kotori-test-budgets-{}:", std::process::id());
        let store = RedisStore::connect(&redis, &prefix).await.unwrap();
        let measured = measure(db, move |hook| {
            Arc::new(Watched::new(Arc::new(store), hook))
        })
        .await;
        // A second connection under the same prefix cleans up after the app's.
        let cleaner = RedisStore::connect(&redis, &prefix).await.unwrap();
        cleaner.clear().await.unwrap();
        compare(&measured);
    })
    .await;
}

/// Makes each route's request twice in a little world and counts the second.
async fn measure(
    mut db: DatabaseConnection,
    store: impl FnOnce(common::watched::Hook) -> Arc<dyn Store>,
) -> BTreeMap<String, (usize, usize)> {
    let statements = Arc::new(AtomicUsize::new(0));
    let commands = Arc::new(AtomicUsize::new(0));
    let seen_sql = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = Arc::clone(&seen_sql);
    let counted = Arc::clone(&statements);
    db.set_metric_callback(move |info| {
        counted.fetch_add(1, Ordering::SeqCst);
        log.lock().unwrap().push(info.statement.sql.clone());
    });
    let counted = Arc::clone(&commands);
    let hook: common::watched::Hook = Box::new(move |_, _| {
        counted.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    let t = TestApp::quiet(common::config(), db, store(hook)).await;

    // A little world: me, someone I visit and message, a live on the air.
    let (me, me_id) = t.user("13500000001").await;
    let (them, them_id) = t.user("13500000002").await;
    let _ = them;
    t.set_vip(me_id).await;
    for (token, lat) in [(&me, "31.2"), (&them, "31.21")] {
        let placed = t
            .call(
                Method::POST,
                "/api/me/location",
                &[("lat", lat), ("lng", "121.5")],
                Some(token),
            )
            .await;
        assert_eq!(code(&placed), 0);
    }
    assert_eq!(code(&t.message(&me, them_id, "hello").await), 0);
    let host = t.operator("host", "host", &[]).await;
    let live = t.create_live(&host, "a live").await;
    example_dating::people::visibility::recount_public(&t.state.db, &*t.state.store)
        .await
        .unwrap();

    let user = format!("/api/users/{them_id}");
    let live_path = format!("/api/live/{live}");
    let mut phones = 0;
    let mut measured = BTreeMap::new();
    let routes: Vec<Case> = vec![
        Case("GET /api/me", Method::GET, "/api/me".into(), vec![]),
        Case(
            "POST /api/me/update",
            Method::POST,
            "/api/me/update".into(),
            vec![("height", "180".into())],
        ),
        Case(
            "POST /api/me/update (authority)",
            Method::POST,
            "/api/me/update".into(),
            vec![("authority", "1".into())],
        ),
        Case(
            "GET /api/user/hot/list",
            Method::GET,
            "/api/user/hot/list".into(),
            vec![],
        ),
        Case(
            "GET /api/user/nearby/list",
            Method::GET,
            "/api/user/nearby/list".into(),
            vec![],
        ),
        Case(
            "GET /api/users/{user_id}/show",
            Method::GET,
            format!("{user}/show"),
            vec![],
        ),
        Case(
            "POST /api/users/{user_id}/messages",
            Method::POST,
            format!("{user}/messages"),
            vec![("msg_type", "text".into()), ("content", "hi".into())],
        ),
        Case(
            "GET /api/users/{user_id}/messages",
            Method::GET,
            format!("{user}/messages"),
            vec![],
        ),
        Case(
            "GET /api/contacts",
            Method::GET,
            "/api/contacts".into(),
            vec![],
        ),
        Case(
            "GET /api/vip/visitors",
            Method::GET,
            "/api/vip/visitors".into(),
            vec![],
        ),
        Case(
            "GET /api/live/list",
            Method::GET,
            "/api/live/list".into(),
            vec![],
        ),
        Case(
            "POST /api/live/{live_id}/danmaku",
            Method::POST,
            format!("{live_path}/danmaku"),
            vec![("content", "hello".into())],
        ),
        Case(
            "GET /api/me/blocks",
            Method::GET,
            "/api/me/blocks".into(),
            vec![],
        ),
    ];
    for Case(route, method, path, params) in &routes {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut cost = (0, 0);
        for _ in 0..2 {
            // Counted as if the last look at the ranking and the public count were more than
            // a second ago (`people::cache::GLANCE_FOR`): the cost of the request that reads
            // them, whatever the time between the two calls.
            t.state.people().forget_glances();
            statements.store(0, Ordering::SeqCst);
            commands.store(0, Ordering::SeqCst);
            seen_sql.lock().unwrap().clear();
            let res = t.call(method.clone(), path, &params, Some(&me)).await;
            assert_eq!(code(&res), 0, "{route}: {}", data(&res));
            cost = (
                statements.load(Ordering::SeqCst),
                commands.load(Ordering::SeqCst),
            );
        }
        eprintln!("{route}: {cost:?} {:#?}", seen_sql.lock().unwrap());
        measured.insert(route.to_string(), cost);
    }
    // Slow mode: a danmaku starts the viewer's interval, and one inside it is refused by the
    // store alone — a flood of refused posts never takes the database's write lock.
    let slow_mode = t
        .manage(
            Method::POST,
            &format!("/manage/dating/shops/api/live/{live}/slow_mode.json"),
            &[("seconds", "60")],
            Some(&host),
        )
        .await;
    assert_eq!(code(&slow_mode), 0, "{}", data(&slow_mode));
    for (route, expected) in [
        ("POST /api/live/{live_id}/danmaku (slow mode)", 0),
        (
            "POST /api/live/{live_id}/danmaku (slow mode, refused)",
            42901,
        ),
    ] {
        statements.store(0, Ordering::SeqCst);
        commands.store(0, Ordering::SeqCst);
        seen_sql.lock().unwrap().clear();
        let path = format!("{live_path}/danmaku");
        let res = t
            .call(Method::POST, &path, &[("content", "hello")], Some(&me))
            .await;
        assert_eq!(code(&res), expected, "{route}: {}", data(&res));
        let cost = (
            statements.load(Ordering::SeqCst),
            commands.load(Ordering::SeqCst),
        );
        eprintln!("{route}: {cost:?} {:#?}", seen_sql.lock().unwrap());
        measured.insert(route.to_string(), cost);
    }
    // The console's whole lists (everyone, every report, the whole audit log, every live) read
    // their kept counts, never count the table.
    let admin = t
        .operator(
            "root",
            "admin",
            &["users:read", "reports:read", "audit:read", "live:read"],
        )
        .await;
    use example_dating::db::entity::{rooms::live, safety::audit_log, safety::report};
    use example_dating::live::rooms::ALL_LIVES;
    use example_dating::manage::audit::WHOLE_LOG;
    use example_dating::people::visibility::EVERYONE_COUNT;
    use example_dating::safety::moderation::ALL_REPORTS;
    use sea_orm::EntityTrait;
    let (db, store) = (&t.state.db, &*t.state.store);
    let everyone = example_dating::people::visibility::everyone();
    let kept = [
        example_dating::paging::count_now(db, store, EVERYONE_COUNT, everyone).await,
        example_dating::paging::count_now(db, store, ALL_REPORTS, report::Entity::find()).await,
        example_dating::paging::count_now(db, store, WHOLE_LOG, audit_log::Entity::find()).await,
        example_dating::paging::count_now(db, store, ALL_LIVES, live::Entity::find()).await,
    ];
    assert!(kept.iter().all(Result::is_ok), "{kept:?}");
    for route in [
        "GET /manage/dating/admin/api/users/search.json",
        "GET /manage/dating/admin/api/reports/list.json",
        "GET /manage/dating/admin/api/audit/list.json",
        "GET /manage/dating/admin/api/live/list.json",
    ] {
        let mut cost = (0, 0);
        for _ in 0..2 {
            statements.store(0, Ordering::SeqCst);
            commands.store(0, Ordering::SeqCst);
            seen_sql.lock().unwrap().clear();
            let path = route.split_once(' ').unwrap().1;
            let res = t.manage(Method::GET, path, &[], Some(&admin)).await;
            assert_eq!(code(&res), 0, "{route}: {}", data(&res));
            cost = (
                statements.load(Ordering::SeqCst),
                commands.load(Ordering::SeqCst),
            );
        }
        let seen = seen_sql.lock().unwrap().clone();
        assert!(
            !seen.iter().any(|sql| sql.to_uppercase().contains("COUNT(")),
            "{route} counted: {seen:#?}"
        );
        measured.insert(route.to_string(), cost);
    }
    // Signing in: a new phone each time (its first login registers it).
    for route in ["POST /api/auth/sendsms", "POST /api/auth/login"] {
        let mut cost = (0, 0);
        for _ in 0..2 {
            phones += 1;
            let phone = format!("1350000{phones:04}");
            let code_sent = if route.ends_with("login") {
                Some(t.send_code(&phone).await)
            } else {
                None
            };
            statements.store(0, Ordering::SeqCst);
            commands.store(0, Ordering::SeqCst);
            let res = match &code_sent {
                None => {
                    t.call(
                        Method::POST,
                        "/api/auth/sendsms",
                        &[("phone", &phone)],
                        None,
                    )
                    .await
                }
                Some(sms) => {
                    let params = [("phone", phone.as_str()), ("code", sms.as_str())];
                    t.call(Method::POST, "/api/auth/login", &params, None).await
                }
            };
            assert_eq!(code(&res), 0, "{route}");
            cost = (
                statements.load(Ordering::SeqCst),
                commands.load(Ordering::SeqCst),
            );
        }
        measured.insert(route.to_string(), cost);
    }
    measured
}

/// Fails unless `measured` is the table, row for row.
fn compare(measured: &BTreeMap<String, (usize, usize)>) {
    let budgets = budgets();
    let mut wrong = Vec::new();
    for (route, cost) in measured {
        match budgets.get(route) {
            Some(budget) if budget == cost => {}
            Some(budget) => wrong.push(format!(
                "{route}: budget {budget:?}, measured {cost:?} (statements, store round trips)"
            )),
            None => wrong.push(format!("{route}: no budget; measured {cost:?}")),
        }
    }
    for route in budgets.keys() {
        if !measured.contains_key(route) {
            wrong.push(format!("{route}: in the table, not measured here"));
        }
    }
    assert!(
        wrong.is_empty(),
        "round trips differ from docs/src/dating/budgets.md — change the code or, on purpose, \
         the table:\n{}",
        wrong.join("\n")
    );
}
