//! docs/src/dating/api/safety.md, the data half of trust and safety: account deletion (table by table, no orphans,
//! on SQLite, MariaDB and PostgreSQL), export (every table that holds a user's data), and the
//! invariants of reports and blocks under concurrency on the three databases.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{TestApp, code, data};
use http::Method as M;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::Value;

const ADMIN: &str = "/manage/dating/admin/api";

/// A user with a row in every table that can hold their data, and what it takes to check it.
struct Populated {
    alice: String,
    alice_id: i64,
    bob: String,
    bob_id: i64,
}

async fn populate(t: &TestApp) -> Populated {
    let (alice, alice_id) = t.user("18900000001").await;
    let (bob, bob_id) = t.user("18900000002").await;
    let (_, carol_id) = t.user("18900000003").await;
    #[track_caller]
    fn ok(res: kotori::test::TestResponse) {
        assert_eq!(code(&res), 0, "{}", res.text());
    }
    ok(t.call(
        M::POST,
        "/api/me/update",
        &[("email", "a@b.cn"), ("birthday", "1990-01-02")],
        Some(&alice),
    )
    .await);
    ok(t.call(
        M::POST,
        "/api/me/album/add",
        &[("photo", "https://img.example.com/a.jpg")],
        Some(&alice),
    )
    .await);
    ok(t.call(
        M::POST,
        "/api/me/labels",
        &[("label_ids", "1,2")],
        Some(&alice),
    )
    .await);
    ok(t.call(
        M::POST,
        "/api/me/location",
        &[("lat", "22.5"), ("lng", "114.0")],
        Some(&alice),
    )
    .await);
    ok(t.call(
        M::GET,
        &format!("/api/users/{bob_id}/show"),
        &[],
        Some(&alice),
    )
    .await);
    ok(t.call(
        M::GET,
        &format!("/api/users/{alice_id}/show"),
        &[],
        Some(&bob),
    )
    .await);
    for (who, whom) in [(&alice, bob_id), (&bob, alice_id)] {
        ok(t.message(who, whom, "hello").await);
    }
    ok(t.call(
        M::POST,
        "/api/me/blocks/add",
        &[("user_id", &carol_id.to_string())],
        Some(&alice),
    )
    .await);
    // Twice: the second block is a no-op and a second open report 40901, on every backend.
    ok(t.call(
        M::POST,
        "/api/me/blocks/add",
        &[("user_id", &carol_id.to_string())],
        Some(&alice),
    )
    .await);
    let report = [
        ("user_id", carol_id.to_string()),
        ("reason", "fake".to_owned()),
    ];
    let report: Vec<(&str, &str)> = report.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ok(t.call(M::POST, "/api/reports", &report, Some(&alice)).await);
    let twice = t.call(M::POST, "/api/reports", &report, Some(&alice)).await;
    assert_eq!(code(&twice), 40901);
    ok(
        t.call(M::POST, "/api/orders", &[("product_id", "1")], Some(&alice))
            .await,
    );
    t.set_vip(alice_id).await;
    let host = t.operator("host", "host", &[]).await;
    let live = t.create_live(&host, "Live").await;
    ok(t.call(
        M::POST,
        &format!("/api/live/{live}/danmaku"),
        &[("content", "hi all")],
        Some(&alice),
    )
    .await);
    let console = format!("/manage/dating/shops/api/live/{live}");
    ok(t.manage(
        M::POST,
        &format!("{console}/forbid_send_msg.json"),
        &[("user_id", &alice_id.to_string())],
        Some(&host),
    )
    .await);
    Populated {
        alice,
        alice_id,
        bob,
        bob_id,
    }
}

/// Where each table's rows about a user go in the export — or why they do not. A table the
/// app adds later fails [`every_table_that_holds_user_data_is_in_the_export`] until it is
/// classified here.
fn export_key(table: &str) -> Option<Result<&'static str, &'static str>> {
    Some(match table {
        "user_info" | "user_auth" | "vip_info" => Ok("profile"),
        "user_album" => Ok("album"),
        "user_label" => Ok("labels"),
        "location" => Ok("location"),
        "visitor" => Ok("visits_made"),
        "message" => Ok("messages_sent"),
        "contacts" => Ok("contacts"),
        "user_order" => Ok("orders"),
        "block" => Ok("blocks"),
        "report" => Ok("reports_made"),
        "danmaku" => Ok("danmaku_sent"),
        "live_mute" => Ok("mutes"),
        "user_token" => Err("session credentials: never exported"),
        "label" | "product" | "live" => Err("the app's catalogue, not a user's"),
        "operator" | "operator_token" => Err("console staff, not users"),
        "audit_log" => Err("the staff's record of what operators did: theirs, not the user's"),
        "seaql_migrations" => Err("the schema's version"),
        _ => return None,
    })
}

async fn tables(db: &impl ConnectionTrait) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        DatabaseBackend::MySql => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
        _ => "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect()
}

#[tokio::test]
async fn every_table_that_holds_user_data_is_in_the_export_and_exports_are_hourly() {
    let t = TestApp::new().await;
    let p = populate(&t).await;
    let res = t.call(M::GET, "/api/me/export", &[], Some(&p.alice)).await;
    let export = data(&res);
    for table in tables(&t.state.db).await {
        match export_key(&table) {
            None => panic!("table `{table}` is new: say in export_key where its rows go"),
            Some(Err(_)) => {}
            Some(Ok(key)) => {
                let part = &export[key];
                let present = match part {
                    Value::Array(items) => !items.is_empty(),
                    Value::Object(fields) => !fields.is_empty(),
                    _ => false,
                };
                assert!(present, "`{table}` → `{key}` is empty: {export}");
            }
        }
    }
    assert_eq!(export["profile"]["phone"], "+8618900000001");
    assert_eq!(export["profile"]["email"], "a@b.cn");
    assert!(export["profile"]["vip_deadline"].is_string());
    assert_eq!(export["visits_received"][0]["user_id"], p.bob_id);
    assert_eq!(export["messages_received"][0]["from_uid"], p.bob_id);

    let again = t.call(M::GET, "/api/me/export", &[], Some(&p.alice)).await;
    assert_eq!(code(&again), 42901);
    let retry: u64 = again.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
}

/// Deletes the populated user and checks every table: nothing personal left, no orphan rows,
/// what others hold kept. Runs on any database.
async fn deletion_leaves_nothing_personal(t: &TestApp) {
    let p = populate(t).await;
    let id = p.alice_id;
    let res = t.call(M::POST, "/api/me/delete", &[], Some(&p.alice)).await;
    assert_eq!(code(&res), 0, "{}", res.text());
    assert_eq!(
        code(&t.call(M::GET, "/api/me", &[], Some(&p.alice)).await),
        40105
    );

    let db = &t.state.db;
    let count = |sql: String| async move {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    // Table by table: rows that must be gone, and rows others keep.
    let gone: BTreeMap<&str, String> = [
        ("user_auth", format!("user_id = {id}")),
        ("user_token", format!("user_id = {id}")),
        ("user_album", format!("user_id = {id}")),
        ("user_label", format!("user_id = {id}")),
        ("location", format!("user_id = {id}")),
        ("visitor", format!("viewer_id = {id} OR viewed_id = {id}")),
        ("contacts", format!("user_id = {id}")),
        ("block", format!("blocker_id = {id} OR blocked_id = {id}")),
        ("report", format!("reporter_id = {id}")),
        ("live_mute", format!("user_id = {id}")),
        ("vip_info", format!("user_id = {id}")),
    ]
    .into_iter()
    .collect();
    let kept: BTreeMap<&str, String> = [
        ("message", format!("from_uid = {id}")),
        ("user_order", format!("user_id = {id}")),
        ("danmaku", format!("user_id = {id}")),
        ("contacts", format!("peer_id = {id}")),
    ]
    .into_iter()
    .collect();
    for (table, filter) in &gone {
        let n = count(format!("SELECT COUNT(*) AS n FROM {table} WHERE {filter}")).await;
        assert_eq!(n, 0, "`{table}` still holds the erased user's rows");
    }
    for (table, filter) in &kept {
        let n = count(format!("SELECT COUNT(*) AS n FROM {table} WHERE {filter}")).await;
        assert!(n > 0, "`{table}` lost rows others hold");
    }
    // Every table is accounted for.
    for table in tables(db).await {
        assert!(
            gone.contains_key(table.as_str())
                || kept.contains_key(table.as_str())
                || matches!(
                    table.as_str(),
                    "user_info"
                        | "label"
                        | "product"
                        | "live"
                        | "operator"
                        | "operator_token"
                        | "audit_log"
                        | "seaql_migrations"
                        | "message"
                        | "report"
                ),
            "table `{table}` is not checked by the deletion test"
        );
    }
    // The tombstone carries nothing personal.
    let n = count(format!(
        "SELECT COUNT(*) AS n FROM user_info WHERE user_id = {id} AND phone = '' AND email IS NULL \
         AND birthday IS NULL AND avatar IS NULL AND nickname = 'deleted user' AND deleted_at IS NOT NULL"
    ))
    .await;
    assert_eq!(n, 1);
    // No orphans: no row of a per-user table points at a user who does not exist.
    for (table, column) in [
        ("user_album", "user_id"),
        ("user_label", "user_id"),
        ("location", "user_id"),
        ("visitor", "viewer_id"),
        ("visitor", "viewed_id"),
        ("contacts", "user_id"),
        ("contacts", "peer_id"),
        ("block", "blocker_id"),
        ("block", "blocked_id"),
        ("user_token", "user_id"),
        ("user_auth", "user_id"),
    ] {
        let n = count(format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE {column} NOT IN (SELECT user_id FROM user_info)"
        ))
        .await;
        assert_eq!(n, 0, "orphans in {table}.{column}");
    }

    // Bob still sees the conversation, from "deleted user"; routes naming Alice are 40401.
    let contacts = data(&t.call(M::GET, "/api/contacts", &[], Some(&p.bob)).await);
    assert_eq!(contacts["list"][0]["peer"]["nickname"], "deleted user");
    assert!(contacts["list"][0]["peer"]["avatar"].is_null());
    for path in [
        format!("/api/users/{id}/show"),
        format!("/api/users/{id}/messages"),
    ] {
        assert_eq!(
            code(&t.call(M::GET, &path, &[], Some(&p.bob)).await),
            40401,
            "{path}"
        );
    }
    let admin = t.operator("admin", "admin", &["users:read"]).await;
    let show = format!("{ADMIN}/users/{id}/show.json");
    assert_eq!(
        code(&t.manage(M::GET, &show, &[], Some(&admin)).await),
        40401
    );
    // The phone registers anew, as a new user.
    let (_, again) = t.login("18900000001").await;
    assert_ne!(again, id);
}

#[tokio::test]
async fn deletion_leaves_nothing_personal_on_sqlite() {
    deletion_leaves_nothing_personal(&TestApp::new().await).await;
}

/// Ten concurrent reports of one user by one reporter, and ten concurrent blocks: one report
/// is taken (the others 40901), one block row exists.
async fn concurrent_reports_and_blocks_keep_their_invariants(t: Arc<TestApp>) {
    let (reporter, _) = t.user("18900000011").await;
    let (_, target) = t.user("18900000012").await;
    let target = target.to_string();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (t, reporter, target) = (Arc::clone(&t), reporter.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            let (path, params) = if i % 2 == 0 {
                (
                    "/api/reports",
                    vec![("user_id", target.as_str()), ("reason", "spam")],
                )
            } else {
                ("/api/me/blocks/add", vec![("user_id", target.as_str())])
            };
            (
                path,
                code(&t.call(M::POST, path, &params, Some(&reporter)).await),
            )
        }));
    }
    let mut taken = 0;
    for task in tasks {
        match task.await.unwrap() {
            ("/api/reports", 0) => taken += 1,
            ("/api/reports", code) => assert_eq!(code, 40901),
            (_, code) => assert_eq!(code, 0, "blocking is idempotent"),
        }
    }
    assert_eq!(taken, 1, "exactly one open report");
    let db = &t.state.db;
    let sql = format!("SELECT COUNT(*) AS n FROM block WHERE blocked_id = {target}");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1);
}

#[tokio::test]
async fn concurrent_reports_and_blocks_keep_their_invariants_on_sqlite() {
    concurrent_reports_and_blocks_keep_their_invariants(Arc::new(TestApp::new().await)).await;
}

async fn on(url: String) {
    let store = Arc::new(example_dating::store::MemoryStore::new());
    let t = Arc::new(TestApp::with(common::config(), &url, store).await);
    concurrent_reports_and_blocks_keep_their_invariants(Arc::clone(&t)).await;
    deletion_leaves_nothing_personal(&t).await;
    t.state.db.clone().close().await.unwrap();
}

#[tokio::test]
async fn deletion_leaves_nothing_personal_on_mariadb() {
    let name = "deletion_leaves_nothing_personal_on_mariadb";
    common::on_database_server(common::MARIADB, name, on).await;
}

#[tokio::test]
async fn deletion_leaves_nothing_personal_on_postgres() {
    let name = "deletion_leaves_nothing_personal_on_postgres";
    common::on_database_server(common::POSTGRES, name, on).await;
}

/// An erased account is nobody to ban or to unban: 40401 either way, and its tombstone stays
/// as the erasure left it.
#[tokio::test]
async fn an_erased_account_cannot_be_banned_or_unbanned() {
    let t = TestApp::new().await;
    let admin = t.operator("banner", "admin", &["users:ban"]).await;
    let (token, user) = t.login("13800000009").await;
    assert_eq!(
        code(&t.call(M::POST, "/api/me/delete", &[], Some(&token)).await),
        0
    );
    for action in ["ban", "unban"] {
        let res = t
            .manage(
                M::POST,
                &format!("/manage/dating/admin/api/users/{user}/{action}.json"),
                &[("reason", "spam")],
                Some(&admin),
            )
            .await;
        assert_eq!(code(&res), 40401, "{action}: {}", res.text());
    }
    // Under the console's loader, which refuses the erased already, the ban itself says so
    // too: a report's resolution reaches it by the reported user's id.
    use example_dating::people::account;
    let refused = account::ban(&t.state, user, "spam").await.unwrap_err();
    assert_eq!(refused.code(), 40401);
    let txn = example_dating::db::begin(&t.state.db).await.unwrap();
    let refused = account::unban_in(&txn, user).await.unwrap_err();
    assert_eq!(refused.code(), 40401);
    drop(txn);
    let banned = t
        .state
        .db
        .query_one_raw(Statement::from_string(
            t.state.db.get_database_backend(),
            format!("SELECT banned FROM user_info WHERE user_id = {user}"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<bool>(0)
        .unwrap();
    assert!(!banned, "the tombstone was not banned");
}
