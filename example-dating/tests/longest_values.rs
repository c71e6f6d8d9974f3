//! Every column holds the longest value its rule accepts, on SQLite, MariaDB and PostgreSQL
//! (docs/src/dating/decisions.md, "Every column holds the longest value its rule accepts"):
//! a rule's limit and its column's size are two statements of one limit. Each database test
//! needs its service's URL in the environment and says so when it skips.

mod common;

use common::{TestApp, code, data};
use http::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

#[tokio::test]
async fn every_text_holds_its_longest_value_on_sqlite() {
    every_text_holds_its_longest_value("sqlite::memory:".to_owned()).await;
}

#[tokio::test]
async fn every_text_holds_its_longest_value_on_mariadb() {
    common::on_database_server(
        common::MARIADB,
        "every_text_holds_its_longest_value_on_mariadb",
        every_text_holds_its_longest_value,
    )
    .await;
}

#[tokio::test]
async fn every_text_holds_its_longest_value_on_postgres() {
    common::on_database_server(
        common::POSTGRES,
        "every_text_holds_its_longest_value_on_postgres",
        every_text_holds_its_longest_value,
    )
    .await;
}

/// A MariaDB database made before report notes were `TEXT` (the column was `VARCHAR(255)`,
/// and a note of more than 255 characters failed the write) has it changed by the next start's
/// migration.
#[tokio::test]
async fn a_report_note_column_of_255_characters_is_migrated_to_text_on_mariadb() {
    use sea_orm::{ConnectionTrait, Statement};
    use sea_orm_migration::MigratorTrait;

    let Some(server) = common::service_url(
        "KOTORI_TEST_MYSQL_URL",
        "a_report_note_column_of_255_characters_is_migrated_to_text_on_mariadb",
    ) else {
        return;
    };
    common::on_fresh_database(&server, async |url: String| {
        let db = example_dating::db::connect(&url).await.unwrap();
        example_dating::db::Migrator::up(&db, Some(6)).await.unwrap();
        let run = async |sql: &str| {
            db.execute_unprepared(sql)
                .await
        };
        run("ALTER TABLE report MODIFY note VARCHAR(255) NULL")
            .await
            .unwrap();
        let long_note = format!(
            "INSERT INTO report (reporter_id, reported_id, reason, detail, status, note, created_at) \
             VALUES (1, 2, 'other', '', 'resolved', '{}', 0)",
            "注".repeat(300)
        );
        assert!(run(&long_note).await.is_err(), "the old column refuses it");
        example_dating::db::migrate(&db).await.unwrap();
        run(&long_note).await.unwrap();
        let kind = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                 AND TABLE_NAME = 'report' AND COLUMN_NAME = 'note'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap();
        assert_eq!(kind, "text");
        db.close().await.unwrap();
    })
    .await;
}

/// Every text a client or an operator writes, at the longest its rule accepts and in four-byte
/// characters (an operator's name, 64 bytes, in three-byte ones), is stored and read back whole: no column is shorter than its rule on any
/// database (MariaDB's `VARCHAR(255)` is the short one), and none cuts or refuses an emoji.
async fn every_text_holds_its_longest_value(url: String) {
    let t = &TestApp::on(&url).await;
    use example_dating::db::entity::chat::message;
    use example_dating::db::entity::commerce::product;
    use example_dating::db::entity::rooms::{danmaku, live};
    use example_dating::db::entity::safety::report;
    use example_dating::db::entity::users::user_info;
    use sea_orm::{QueryOrder, QuerySelect};

    #[track_caller]
    fn ok(res: &kotori::test::TestResponse) {
        assert_eq!(code(res), 0, "{}", res.text());
    }
    let emoji = |n: usize| "😀".repeat(n);
    // 255 characters, 497 bytes.
    let url = format!("https://x.cn/{}", "相".repeat(242));
    let (writer, writer_id) = t.user("18900000041").await;
    let (reader, reader_id) = t.user("18900000042").await;

    // A nickname of 25 ten-code-point emoji: 250 code points, one character each.
    let nickname = "👩🏻\u{200D}❤\u{FE0F}\u{200D}💋\u{200D}👨🏼".repeat(25);
    let email = format!("{}@example.com", "a".repeat(243));
    let profile = [
        ("nickname", nickname.as_str()),
        ("email", &email),
        ("avatar", &url),
    ];
    ok(&t
        .call(Method::POST, "/api/me/update", &profile, Some(&writer))
        .await);
    let me = data(&t.call(Method::GET, "/api/me", &[], Some(&writer)).await);
    assert_eq!(
        (&me["nickname"], &me["email"], &me["avatar"]),
        (&json!(nickname), &json!(email), &json!(url))
    );
    let photo = t
        .call(
            Method::POST,
            "/api/me/album/add",
            &[("photo", &url)],
            Some(&writer),
        )
        .await;
    assert_eq!(data(&photo)["photo"], url.as_str());

    let text = emoji(500);
    let sends = [
        vec![("msg_type", "text"), ("content", text.as_str())],
        vec![("msg_type", "audio"), ("audio", &url), ("duration", "60")],
        vec![("msg_type", "image"), ("image", &url)],
    ];
    let path = format!("/api/users/{reader_id}/messages");
    for send in &sends {
        ok(&t.call(Method::POST, &path, send, Some(&writer)).await);
    }
    let stored = message::Entity::find()
        .filter(message::Column::FromUid.eq(writer_id))
        .order_by_asc(message::Column::Id)
        .all(&t.state.db)
        .await
        .unwrap();
    let stored: Vec<_> = stored
        .into_iter()
        .map(|m| (m.content, m.audio, m.image))
        .collect();
    assert_eq!(
        stored,
        [
            (Some(emoji(500)), None, None),
            (None, Some(url.clone()), None),
            (None, None, Some(url.clone())),
        ]
    );

    let filed = t
        .call(
            Method::POST,
            "/api/reports",
            &[
                ("user_id", &writer_id.to_string()),
                ("reason", "other"),
                ("detail", &emoji(500)),
            ],
            Some(&reader),
        )
        .await;
    ok(&filed);
    let admin = t
        .operator(
            "longest-admin",
            "admin",
            &[
                "reports:read",
                "reports:write",
                "users:ban",
                "products:write",
            ],
        )
        .await;
    let console = "/manage/dating/admin/api";
    let report_id = data(&filed)["report_id"].as_i64().unwrap();
    ok(&t
        .manage(
            Method::POST,
            &format!("{console}/reports/{report_id}/resolve.json"),
            &[("action", "dismiss"), ("note", &emoji(500))],
            Some(&admin),
        )
        .await);
    let report = report::Entity::find_by_id(report_id)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((report.detail, report.note), (emoji(500), Some(emoji(500))));

    ok(&t
        .manage(
            Method::POST,
            &format!("{console}/users/{reader_id}/ban.json"),
            &[("reason", &emoji(200))],
            Some(&admin),
        )
        .await);
    let banned = user_info::Entity::find_by_id(reader_id)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(banned.ban_reason, Some(emoji(200)));

    ok(&t
        .manage(
            Method::POST,
            &format!("{console}/products/create.json"),
            &[
                ("name", &emoji(32)),
                ("desc", &emoji(200)),
                ("vip_time", "30"),
                ("price", "9.99"),
            ],
            Some(&admin),
        )
        .await);
    let newest = product::Entity::find()
        .order_by_desc(product::Column::Id)
        .limit(1)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((newest.name, newest.description), (emoji(32), emoji(200)));

    // Every privilege, named three times over on the command line: stored once each.
    let every: Vec<String> = example_dating::manage::operators::PRIVILEGES
        .repeat(3)
        .iter()
        .map(|p| p.to_string())
        .collect();
    let added = example_dating::manage::roster::add(
        &t.state.db,
        &"管".repeat(21),
        "admin",
        &every,
        "password-123",
    )
    .await
    .unwrap();
    assert_eq!(
        added.privileges,
        example_dating::manage::operators::PRIVILEGES.join(",")
    );

    let host = t.operator("longest-host", "host", &[]).await;
    let live_id = t.create_live(&host, &emoji(64)).await;
    ok(&t
        .call(
            Method::POST,
            &format!("/api/live/{live_id}/danmaku"),
            &[("content", &emoji(100))],
            Some(&writer),
        )
        .await);
    let title = live::Entity::find_by_id(live_id)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap()
        .title;
    let said = danmaku::Entity::find()
        .filter(danmaku::Column::LiveId.eq(live_id))
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap()
        .content;
    assert_eq!((title, said), (emoji(64), emoji(100)));
}
