//! API.md §11, trust and safety: blocks (both ways, everywhere), reports and the moderation
//! queue, account deletion (table by table, on SQLite, MariaDB and PostgreSQL), export (every
//! table that holds a user's data), danmaku moderation.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{TestApp, code, data};
use http::Method;
use http::Method as M;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::Value;

const ADMIN: &str = "/manage/dating/admin/api";

fn ids(list: &Value) -> Vec<i64> {
    list["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_block_hides_each_side_from_the_other_everywhere() {
    let t = TestApp::new().await;
    let (alice, alice_id) = t.user("18900000001").await;
    let (bob, bob_id) = t.user("18900000002").await;
    let (carol, _) = t.user("18900000003").await;
    let block = |who: &str, whom: i64| {
        let who = who.to_owned();
        let t = &t;
        async move {
            t.call(
                M::POST,
                "/api/me/blocks/add",
                &[("user_id", &whom.to_string())],
                Some(&who),
            )
            .await
        }
    };
    // Visits, locations and a conversation exist before the block.
    for (who, whom) in [(&alice, bob_id), (&bob, alice_id)] {
        let res = t
            .call(M::GET, &format!("/api/users/{whom}/show"), &[], Some(who))
            .await;
        assert_eq!(code(&res), 0);
        let res = t
            .call(
                M::POST,
                "/api/me/location",
                &[("lat", "22.5"), ("lng", "114.0")],
                Some(who),
            )
            .await;
        assert_eq!(code(&res), 0);
        let res = t
            .call(
                M::POST,
                &format!("/api/users/{whom}/messages"),
                &[("msg_type", "text"), ("content", "hi")],
                Some(who),
            )
            .await;
        assert_eq!(code(&res), 0);
    }
    // Bob is VIP, so he can list his visitors.
    t.set_vip(bob_id).await;
    assert_eq!(
        ids(&data(
            &t.call(M::GET, "/api/vip/visitors", &[], Some(&bob)).await
        )),
        [alice_id]
    );

    assert_eq!(
        code(&block(&alice, alice_id).await),
        40002,
        "blocking yourself"
    );
    assert_eq!(
        code(&block(&alice, 999_999).await),
        40401,
        "an unknown user"
    );
    assert_eq!(code(&block(&alice, bob_id).await), 0);
    assert_eq!(
        code(&block(&alice, bob_id).await),
        0,
        "blocking twice is still {{}}"
    );

    // Both ways: Alice blocked, and Bob (who blocked no one) is hidden from her as she from him.
    for (who, other) in [(&alice, bob_id), (&bob, alice_id)] {
        for path in [
            format!("/api/users/{other}/show"),
            format!("/api/users/{other}/messages"),
        ] {
            assert_eq!(
                code(&t.call(M::GET, &path, &[], Some(who)).await),
                40401,
                "{path}"
            );
        }
        let send = t
            .call(
                M::POST,
                &format!("/api/users/{other}/messages"),
                &[("msg_type", "text"), ("content", "still there?")],
                Some(who),
            )
            .await;
        assert_eq!(code(&send), 40401, "no message passes");
        let hot = data(&t.call(M::GET, "/api/user/hot/list", &[], Some(who)).await);
        assert!(!ids(&hot).contains(&other), "hot: {hot}");
        assert_eq!(hot["total"], 1, "only Carol is left: {hot}");
        let near = data(
            &t.call(M::GET, "/api/user/nearby/list", &[], Some(who))
                .await,
        );
        assert!(!ids(&near).contains(&other), "nearby: {near}");
        let contacts = data(&t.call(M::GET, "/api/contacts", &[], Some(who)).await);
        assert_eq!(contacts["total"], 0, "contacts: {contacts}");
    }
    assert!(
        ids(&data(
            &t.call(M::GET, "/api/vip/visitors", &[], Some(&bob)).await
        ))
        .is_empty()
    );
    // Carol is not concerned.
    assert_eq!(
        code(
            &t.call(
                M::GET,
                &format!("/api/users/{bob_id}/show"),
                &[],
                Some(&carol)
            )
            .await
        ),
        0
    );

    let blocks = data(&t.call(M::GET, "/api/me/blocks", &[], Some(&alice)).await);
    assert_eq!(
        (ids(&blocks), blocks["total"].as_i64()),
        (vec![bob_id], Some(1))
    );
    assert!(
        blocks["list"][0].get("phone").is_none(),
        "public profiles only"
    );
    let unblock = format!("/api/me/blocks/{bob_id}/delete");
    assert_eq!(
        code(&t.call(M::POST, &unblock, &[], Some(&bob)).await),
        40401,
        "Bob blocked no one"
    );
    assert_eq!(code(&t.call(M::POST, &unblock, &[], Some(&alice)).await), 0);
    assert_eq!(
        code(&t.call(M::POST, &unblock, &[], Some(&alice)).await),
        40401
    );
    assert_eq!(
        code(
            &t.call(
                M::GET,
                &format!("/api/users/{alice_id}/show"),
                &[],
                Some(&bob)
            )
            .await
        ),
        0,
        "visible again"
    );
}

#[tokio::test]
async fn reports_queue_up_and_a_ban_resolves_every_open_report_of_the_user_at_once() {
    let t = TestApp::new().await;
    let (alice, alice_id) = t.user("18900000001").await;
    let (bob, bob_id) = t.user("18900000002").await;
    let (spammer, spammer_id) = t.user("18900000003").await;
    let sent = t
        .call(
            M::POST,
            &format!("/api/users/{alice_id}/messages"),
            &[("msg_type", "text"), ("content", "buy now")],
            Some(&spammer),
        )
        .await;
    let msg_id = data(&sent)["msg_id"].as_i64().unwrap().to_string();
    let report = |who: &str, params: Vec<(&'static str, String)>| {
        let who = who.to_owned();
        let t = &t;
        async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            t.call(M::POST, "/api/reports", &params, Some(&who)).await
        }
    };
    let spam = |extra: Vec<(&'static str, String)>| {
        let mut p = vec![
            ("user_id", spammer_id.to_string()),
            ("reason", "spam".to_owned()),
        ];
        p.extend(extra);
        p
    };
    assert_eq!(
        code(&report(&alice, spam(vec![("reason", "boring".into())])).await),
        40002
    );
    assert_eq!(
        code(&report(&alice, spam(vec![("detail", "x".repeat(501))])).await),
        40002
    );
    assert_eq!(
        code(&report(&bob, spam(vec![("msg_id", msg_id.clone())])).await),
        40002,
        "the message is not between Bob and the spammer"
    );
    let first = report(
        &alice,
        spam(vec![("msg_id", msg_id), ("detail", "ads".into())]),
    )
    .await;
    let first = data(&first)["report_id"].as_i64().unwrap();
    assert_eq!(
        code(&report(&alice, spam(vec![])).await),
        40901,
        "one open report per pair"
    );
    let second = data(&report(&bob, spam(vec![])).await)["report_id"]
        .as_i64()
        .unwrap();
    // A blocked user may still be reported.
    t.call(
        M::POST,
        "/api/me/blocks/add",
        &[("user_id", &bob_id.to_string())],
        Some(&alice),
    )
    .await;
    let third = report(
        &alice,
        vec![("user_id", bob_id.to_string()), ("reason", "fake".into())],
    )
    .await;
    assert_eq!(code(&third), 0);

    let reader = t.operator("reader", "admin", &["reports:read"]).await;
    let judge = t
        .operator("judge", "admin", &["reports:read", "reports:write"])
        .await;
    let nobody = t.operator("nobody", "admin", &["users:read"]).await;
    let list = format!("{ADMIN}/reports/list.json");
    assert_eq!(
        code(&t.manage(M::GET, &list, &[], Some(&nobody)).await),
        40301
    );
    let open = data(
        &t.manage(
            M::GET,
            &list,
            &[("status", "open"), ("user_id", &spammer_id.to_string())],
            Some(&reader),
        )
        .await,
    );
    assert_eq!(open["total"], 2, "{open}");
    let show = data(
        &t.manage(
            M::GET,
            &format!("{ADMIN}/reports/{first}/show.json"),
            &[],
            Some(&reader),
        )
        .await,
    );
    assert_eq!(show["message"]["content"], "buy now");
    assert_eq!(show["user"]["user_id"], spammer_id);
    let resolve = format!("{ADMIN}/reports/{first}/resolve.json");
    assert_eq!(
        code(
            &t.manage(M::POST, &resolve, &[("action", "ban")], Some(&reader))
                .await
        ),
        40301,
        "resolving needs reports:write"
    );
    let resolved = t
        .manage(
            M::POST,
            &resolve,
            &[("action", "ban"), ("note", "spam ring")],
            Some(&judge),
        )
        .await;
    assert_eq!(data(&resolved)["status"], "resolved");
    assert_eq!(
        code(
            &t.manage(M::POST, &resolve, &[("action", "dismiss")], Some(&judge))
                .await
        ),
        40901
    );

    // The ban: sessions end, login is refused, and both reports of the spammer are resolved.
    assert_eq!(
        code(&t.call(M::GET, "/api/me", &[], Some(&spammer)).await),
        40105
    );
    let other = data(
        &t.manage(
            M::GET,
            &format!("{ADMIN}/reports/{second}/show.json"),
            &[],
            Some(&reader),
        )
        .await,
    );
    assert_eq!(
        (other["status"].as_str(), other["action"].as_str()),
        (Some("resolved"), Some("ban"))
    );
    let still_open = data(
        &t.manage(M::GET, &list, &[("status", "open")], Some(&reader))
            .await,
    );
    assert_eq!(
        still_open["total"], 1,
        "only Alice's report of Bob: {still_open}"
    );
    let user = data(
        &t.manage(
            M::GET,
            &format!("{ADMIN}/users/{spammer_id}/show.json"),
            &[],
            Some(&t.operator("looker", "admin", &["users:read"]).await),
        )
        .await,
    );
    assert_eq!(user["banned"], true);
    assert_eq!(
        code(
            &t.manage(
                M::GET,
                &format!("{ADMIN}/reports/999/show.json"),
                &[],
                Some(&reader)
            )
            .await
        ),
        40401
    );
}

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
        ok(t.call(
            M::POST,
            &format!("/api/users/{whom}/messages"),
            &[("msg_type", "text"), ("content", "hello")],
            Some(who),
        )
        .await);
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
    assert_eq!(export["profile"]["phone"], "18900000001");
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
    let Some(url) = common::service_url("KOTORI_TEST_MYSQL_URL", name) else {
        return;
    };
    common::on_fresh_database(&url, on).await;
}

#[tokio::test]
async fn deletion_leaves_nothing_personal_on_postgres() {
    let name = "deletion_leaves_nothing_personal_on_postgres";
    let Some(url) = common::service_url("KOTORI_TEST_POSTGRES_URL", name) else {
        return;
    };
    common::on_fresh_database(&url, on).await;
}

#[tokio::test]
async fn moderators_hide_danmaku_and_slow_the_room_down_under_admin_and_shops_alike() {
    let t = TestApp::new().await;
    let host = t.operator("host", "host", &[]).await;
    let admin = t
        .operator("admin", "admin", &["live:read", "live:write"])
        .await;
    let reader = t.operator("reader", "admin", &["live:read"]).await;
    let (viewer, _) = t.user("18900000001").await;
    let live = t.create_live(&host, "Live").await;
    let other = t
        .create_live(&t.operator("host2", "host", &[]).await, "Other")
        .await;
    let front = format!("/api/live/{live}/danmaku");
    let post = |text: &'static str| {
        let (t, viewer, front) = (&t, viewer.clone(), front.clone());
        async move {
            t.call(M::POST, &front, &[("content", text)], Some(&viewer))
                .await
        }
    };
    let first = data(&post("first").await)["danmaku_id"].as_i64().unwrap();
    let second = data(&post("second").await)["danmaku_id"].as_i64().unwrap();
    let elsewhere = t
        .call(
            M::POST,
            &format!("/api/live/{other}/danmaku"),
            &[("content", "x")],
            Some(&viewer),
        )
        .await;
    let elsewhere = data(&elsewhere)["danmaku_id"].as_i64().unwrap();

    let shops = format!("/manage/dating/shops/api/live/{live}");
    let admins = format!("{ADMIN}/live/{live}");
    let delete = |base: &str, id: i64| format!("{base}/danmaku/{id}/delete.json");
    assert_eq!(
        code(
            &t.manage(M::POST, &delete(&shops, elsewhere), &[], Some(&host))
                .await
        ),
        40401
    );
    assert_eq!(
        code(
            &t.manage(M::POST, &delete(&admins, first), &[], Some(&reader))
                .await
        ),
        40301
    );
    assert_eq!(
        code(
            &t.manage(M::POST, &delete(&shops, first), &[], Some(&host))
                .await
        ),
        0
    );
    assert_eq!(
        code(
            &t.manage(M::POST, &delete(&admins, second), &[], Some(&admin))
                .await
        ),
        0
    );
    let listed = data(&t.call(M::GET, &front, &[], Some(&viewer)).await);
    assert!(
        listed["list"].as_array().unwrap().is_empty(),
        "hidden from the front: {listed}"
    );
    let console = data(
        &t.manage(M::GET, &format!("{shops}/danmaku.json"), &[], Some(&host))
            .await,
    );
    assert!(console["list"].as_array().unwrap().is_empty());

    let slow = format!("{shops}/slow_mode.json");
    assert_eq!(
        code(
            &t.manage(M::POST, &slow, &[("seconds", "301")], Some(&host))
                .await
        ),
        40002
    );
    assert_eq!(
        code(
            &t.manage(M::POST, &slow, &[("seconds", "30")], Some(&host))
                .await
        ),
        0
    );
    assert_eq!(code(&post("one").await), 0);
    let again = post("two").await;
    assert_eq!(code(&again), 42901);
    let retry: u64 = again.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    let off = format!("{admins}/slow_mode.json");
    assert_eq!(
        code(
            &t.manage(M::POST, &off, &[("seconds", "0")], Some(&admin))
                .await
        ),
        0
    );
    assert_eq!(code(&post("three").await), 0, "slow mode off");
}

#[tokio::test]
async fn the_new_routes_sit_behind_their_guards() {
    let t = TestApp::new().await;
    for path in [
        "/api/me/delete",
        "/api/me/export",
        "/api/me/blocks",
        "/api/reports",
    ] {
        t.app.audit().under(path).require("load_caller").unwrap();
        t.app
            .audit()
            .under(path)
            .require("verify_client_signature")
            .unwrap();
    }
    let reports = format!("{ADMIN}/reports");
    t.app
        .audit()
        .under(&reports)
        .require("require_role(admin)")
        .unwrap();
    t.app
        .audit()
        .under(&reports)
        .filter(|r| r.method() == Method::GET)
        .require("require_privilege(reports:read)")
        .unwrap();
    t.app
        .audit()
        .under(&reports)
        .filter(|r| r.method() == Method::POST)
        .require("require_privilege(reports:write)")
        .unwrap();
    for base in [
        format!("{ADMIN}/live/{{live_id}}"),
        "/manage/dating/shops/api/live/{live_id}".to_owned(),
    ] {
        t.app
            .audit()
            .under(&format!("{base}/danmaku/{{danmaku_id}}"))
            .require("load_live_danmaku")
            .unwrap();
    }
    t.app
        .audit()
        .under(&format!("{ADMIN}/live/{{live_id}}/slow_mode.json"))
        .require("require_privilege(live:write)")
        .unwrap();
}
