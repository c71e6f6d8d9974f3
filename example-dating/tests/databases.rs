//! Against real databases: the schema, the login flow and every backend-sensitive query on
//! MariaDB and PostgreSQL, each on a database of its own that is dropped afterwards. Each test
//! needs its service's URL in the environment and says so when it skips.

mod common;

use std::sync::Arc;

use common::{TestApp, code, data};
use http::Method;
use sea_orm::{EntityTrait, PaginatorTrait};

/// The login flow and the seed data, on a database at `url`.
async fn exercise(url: String) {
    let t = TestApp::on(&url).await;
    // Migrating again changes nothing.
    example_dating::db::migrate(&t.state.db).await.unwrap();
    use example_dating::db::entity::commerce::product;
    assert_eq!(product::Entity::find().count(&t.state.db).await.unwrap(), 3);
    let (token, user) = t.login("18922986865").await;
    assert!(user > 0);
    t.a_minute_passes("18922986865").await;
    let (_, again) = t.login("18922986865").await;
    assert_eq!(user, again);
    assert_eq!(
        code(
            &t.call(Method::POST, "/api/auth/logout", &[], Some(&token))
                .await
        ),
        0
    );

    // The backend-sensitive queries: upserts, the hot list's joins, concurrent payments.
    let t = Arc::new(t);
    let (alice, alice_id) = t.user("18900000001").await;
    let (bob, bob_id) = t.user("18900000002").await;
    for (from, to) in [(&alice, bob_id), (&alice, bob_id), (&bob, alice_id)] {
        let res = t.message(from, to, "hi").await;
        assert_eq!(code(&res), 0);
    }
    // A NUL is malformed input on every database: PostgreSQL's text refuses it, which
    // answered 50301 ("database unavailable") there when it reached the write.
    let res = t.message(&alice, bob_id, "a\0b").await;
    assert_eq!(code(&res), 40002, "{}", res.text());
    let report = [
        ("user_id", bob_id.to_string()),
        ("reason", "spam".into()),
        ("detail", "x\0".into()),
    ];
    let report: Vec<(&str, &str)> = report.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = t
        .call(Method::POST, "/api/reports", &report, Some(&alice))
        .await;
    assert_eq!(code(&res), 40002, "{}", res.text());
    let contacts = data(&t.call(Method::GET, "/api/contacts", &[], Some(&bob)).await);
    assert_eq!(
        (
            contacts["total"].as_i64(),
            contacts["list"][0]["unread"].as_i64()
        ),
        (Some(1), Some(2))
    );
    // Second visits, second locations, second payments: every upsert's conflict branch.
    for _ in 0..2 {
        assert_eq!(
            code(
                &t.call(
                    Method::GET,
                    &format!("/api/users/{alice_id}/show"),
                    &[],
                    Some(&bob)
                )
                .await
            ),
            0
        );
        assert_eq!(
            code(
                &t.call(
                    Method::POST,
                    "/api/me/location",
                    &[("lat", "22.5"), ("lng", "114")],
                    Some(&bob)
                )
                .await
            ),
            0
        );
    }
    // Ten first visits of one viewer at once: one footprint, counted once (the losers of the
    // unique index update it instead). Alice and Carol then have two viewers each and Carol,
    // newer, lists first: Alice would lead had Dave's ten visits counted more than once.
    let (carol, carol_id) = t.user("18900000003").await;
    let (dave, _) = t.user("18900000004").await;
    let visits = (0..10).map(|_| {
        let (t, dave) = (t.clone(), dave.clone());
        tokio::spawn(async move {
            let path = format!("/api/users/{alice_id}/show");
            code(&t.call(Method::GET, &path, &[], Some(&dave)).await)
        })
    });
    for visit in visits {
        assert_eq!(visit.await.unwrap(), 0);
    }
    for viewer in [&bob, &dave] {
        let path = format!("/api/users/{carol_id}/show");
        assert_eq!(
            code(&t.call(Method::GET, &path, &[], Some(viewer)).await),
            0
        );
    }
    let hot = data(
        &t.call(
            Method::GET,
            "/api/user/hot/list",
            &[("pageCount", "2")],
            Some(&carol),
        )
        .await,
    );
    assert_eq!(
        hot["list"][0]["user_id"], alice_id,
        "the caller is left out: {hot}"
    );
    let hot = data(
        &t.call(
            Method::GET,
            "/api/user/hot/list",
            &[("pageCount", "2")],
            Some(&bob),
        )
        .await,
    );
    assert_eq!(hot["list"][0]["user_id"], carol_id, "{hot}");
    assert_eq!(hot["list"][1]["user_id"], alice_id, "{hot}");
    // The rebuild's grouped count reads the same from the table on every backend.
    assert!(
        example_dating::users::hot::rebuild(&t.state.db, &*t.state.store)
            .await
            .unwrap()
    );
    let rebuilt = data(
        &t.call(
            Method::GET,
            "/api/user/hot/list",
            &[("pageCount", "2")],
            Some(&bob),
        )
        .await,
    );
    assert_eq!(rebuilt["list"], hot["list"]);
    let order = data(
        &t.call(
            Method::POST,
            "/api/orders",
            &[("product_id", "1")],
            Some(&alice),
        )
        .await,
    );
    let trade_no = order["trade_no"].as_str().unwrap().to_owned();
    let mut notices = Vec::new();
    for _ in 0..10 {
        let (t, trade_no) = (t.clone(), trade_no.clone());
        notices.push(tokio::spawn(async move {
            code(
                &t.pay(&[
                    ("trade_no", &trade_no),
                    ("fee", "30.00"),
                    ("status", "SUCCESS"),
                ])
                .await,
            )
        }));
    }
    for notice in notices {
        assert_eq!(notice.await.unwrap(), 0);
    }
    let deadline = example_dating::commerce::vip::deadline(&t.state.db, alice_id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        (deadline - (example_dating::clock::now() + 30 * 86_400)).abs() <= 5,
        "extended exactly once"
    );
    let renewal = data(
        &t.call(
            Method::POST,
            "/api/orders",
            &[("product_id", "1")],
            Some(&alice),
        )
        .await,
    );
    assert_eq!(
        code(
            &t.pay(&[
                ("trade_no", renewal["trade_no"].as_str().unwrap()),
                ("fee", "30"),
                ("status", "SUCCESS")
            ])
            .await
        ),
        0
    );
    let renewed = example_dating::commerce::vip::deadline(&t.state.db, alice_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        renewed,
        deadline + 30 * 86_400,
        "a renewal extends from the current deadline"
    );

    // The console and live rooms: operator login, a live, a mute set twice, danmaku, finish.
    let host = t.operator("host1", "host", &[]).await;
    let live = data(
        &t.manage(
            Method::POST,
            "/manage/dating/shops/api/live/create.json",
            &[("title", "on air")],
            Some(&host),
        )
        .await,
    );
    let console = format!("/manage/dating/shops/api/live/{}", live["live_id"]);
    let uid = bob_id.to_string();
    for minutes in ["5", "10"] {
        assert_eq!(
            code(
                &t.manage(
                    Method::POST,
                    &format!("{console}/forbid_send_msg.json"),
                    &[("user_id", &uid), ("minutes", minutes)],
                    Some(&host)
                )
                .await
            ),
            0
        );
    }
    let front = format!("/api/live/{}/danmaku", live["live_id"]);
    assert_eq!(
        code(
            &t.call(Method::POST, &front, &[("content", "hi")], Some(&bob))
                .await
        ),
        40304
    );
    assert_eq!(
        code(
            &t.call(Method::POST, &front, &[("content", "hi")], Some(&alice))
                .await
        ),
        0
    );
    assert_eq!(
        data(
            &t.manage(
                Method::GET,
                &format!("{console}/group_shutted_user.json"),
                &[],
                Some(&host)
            )
            .await
        )["list"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        code(
            &t.manage(
                Method::POST,
                &format!("{console}/finish.json"),
                &[],
                Some(&host)
            )
            .await
        ),
        0
    );
    a_profile_reads_its_showcase_and_vip_in_two_statements(&t).await;
}

/// `GET /api/me` reads the row with the VIP deadline as a subquery and the labels and album
/// as one `UNION ALL`: the same answer on every backend, labels and photos each in id order.
async fn a_profile_reads_its_showcase_and_vip_in_two_statements(t: &TestApp) {
    let (me, me_id) = t.user("18900000041").await;
    let bare = data(&t.call(Method::GET, "/api/me", &[], Some(&me)).await);
    assert_eq!(
        (&bare["labels"], &bare["album"], &bare["vip_deadline"]),
        (
            &serde_json::json!([]),
            &serde_json::json!([]),
            &serde_json::Value::Null
        )
    );
    for photo in ["https://p.example/1.jpg", "https://p.example/2.jpg"] {
        let res = t
            .call(
                Method::POST,
                "/api/me/album/add",
                &[("photo", photo)],
                Some(&me),
            )
            .await;
        assert_eq!(code(&res), 0);
    }
    let res = t
        .call(
            Method::POST,
            "/api/me/labels",
            &[("label_ids", "3,1")],
            Some(&me),
        )
        .await;
    assert_eq!(code(&res), 0, "{}", res.text());
    t.set_vip(me_id).await;
    let full = data(&t.call(Method::GET, "/api/me", &[], Some(&me)).await);
    let ids = |list: &serde_json::Value, key: &str| -> Vec<i64> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|item| item[key].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&full["labels"], "label_id"), vec![1, 3]);
    assert!(full["labels"][0]["meaning"].is_string(), "{full}");
    assert!(full["labels"][0]["gender"].is_i64(), "{full}");
    let photos = ids(&full["album"], "photo_id");
    assert_eq!(photos.len(), 2);
    assert!(photos[0] < photos[1]);
    assert_eq!(full["album"][0]["photo"], "https://p.example/1.jpg");
    assert!(full["vip_deadline"].is_string(), "{full}");
    // Someone else sees the same showcase on the user's page.
    let (other, _) = t.user("18900000042").await;
    let page = data(
        &t.call(
            Method::GET,
            &format!("/api/users/{me_id}/show"),
            &[],
            Some(&other),
        )
        .await,
    );
    assert_eq!(page["labels"], full["labels"]);
    assert_eq!(page["album"], full["album"]);
}

#[tokio::test]
async fn the_schema_and_login_work_on_mariadb() {
    common::on_database_server(
        common::MARIADB,
        "the_schema_and_login_work_on_mariadb",
        exercise,
    )
    .await;
}

#[tokio::test]
async fn the_schema_and_login_work_on_postgres() {
    common::on_database_server(
        common::POSTGRES,
        "the_schema_and_login_work_on_postgres",
        exercise,
    )
    .await;
}

#[tokio::test]
async fn the_schema_and_login_work_on_sqlite() {
    exercise("sqlite::memory:".to_owned()).await;
}

#[tokio::test]
async fn the_embedded_sqlite_file_runs_in_wal_mode_with_normal_sync() {
    use sea_orm::{ConnectionTrait, Statement};
    let dir = common::TempDir::new("wal");
    let db = example_dating::db::connect(&dir.sqlite_url())
        .await
        .unwrap();
    let pragma = |name: &str| {
        let db = &db;
        let sql = format!("PRAGMA {name}");
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("synchronous").await, "1", "NORMAL");
    assert_eq!(pragma("busy_timeout").await, "5000");
    let mut conn = db.get_sqlite_connection_pool().acquire().await.unwrap();
    assert!(
        example_dating::db::plan_stability(&mut conn, -1)
            .await
            .unwrap(),
        "the query-planner stability guarantee is on"
    );
    drop(conn);
    db.close().await.unwrap();
}

/// Each new SQLite connection, in memory too, plans without looking at bound values: cached
/// statements are not re-planned when a `LIMIT ?` changes (db::plan_stability).
#[tokio::test]
async fn every_sqlite_connection_keeps_its_plans() {
    use sea_orm::{ConnectionTrait, Statement};
    let db = example_dating::db::connect("sqlite::memory:")
        .await
        .unwrap();
    let mut conn = db.get_sqlite_connection_pool().acquire().await.unwrap();
    assert!(
        example_dating::db::plan_stability(&mut conn, -1)
            .await
            .unwrap()
    );
    // Turned off, the setting reads back off: the check above can fail.
    assert!(
        !example_dating::db::plan_stability(&mut conn, 0)
            .await
            .unwrap()
    );
    assert!(
        example_dating::db::plan_stability(&mut conn, 1)
            .await
            .unwrap()
    );
    drop(conn);
    // Statements whose LIMIT changes still answer by their new value.
    db.execute_unprepared("CREATE TABLE t (n INTEGER)")
        .await
        .unwrap();
    db.execute_unprepared("INSERT INTO t VALUES (1), (2), (3)")
        .await
        .unwrap();
    for limit in [1i64, 3, 2] {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT n FROM t ORDER BY n LIMIT ?",
                [limit.into()],
            ))
            .await
            .unwrap();
        assert_eq!(rows.len() as i64, limit);
    }
}
