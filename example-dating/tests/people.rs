//! The people layer through the API: a phone is one number however it is written (one account,
//! one set of SMS limits, old rows migrated), a report's ban needs the ban privilege, and an
//! export names others only where the owner may see them.

mod common;

use common::{TestApp, code, data};
use example_dating::db::entity::users::{user_auth, user_info};
use http::Method;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sea_orm_migration::MigratorTrait;

async fn login(t: &TestApp, phone: &str) -> i64 {
    t.a_minute_passes(phone).await;
    let code_sent = t.send_code(phone).await;
    let res = t
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", phone), ("code", &code_sent)],
            None,
        )
        .await;
    data(&res)["user_id"].as_i64().unwrap()
}

#[tokio::test]
async fn one_number_however_written_is_one_account_with_one_set_of_limits() {
    let t = TestApp::new().await;
    let spellings = [
        "13380107582",
        "8613380107582",
        "+8613380107582",
        "008613380107582",
    ];
    let first = login(&t, spellings[0]).await;
    for spelling in &spellings[1..] {
        assert_eq!(login(&t, spelling).await, first, "{spelling}");
    }
    let row = user_info::Entity::find_by_id(first)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.phone, "+8613380107582", "stored in E.164");

    // The per-phone minute limit counts the number: another spelling is refused too.
    t.a_minute_passes(spellings[0]).await;
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                "/api/auth/sendsms",
                &[("phone", "13380107582")],
                None
            )
            .await
        ),
        0
    );
    let again = t
        .call(
            Method::POST,
            "/api/auth/sendsms",
            &[("phone", "+8613380107582")],
            None,
        )
        .await;
    assert_eq!(code(&again), 42901);

    // An operator finds the user by any spelling.
    let admin = t.operator("root", "admin", &["users:read"]).await;
    for spelling in ["008613380107582", "13380107582"] {
        let res = t
            .manage(
                Method::GET,
                "/manage/dating/admin/api/users/search.json",
                &[("q", spelling)],
                Some(&admin),
            )
            .await;
        let found = data(&res);
        assert_eq!(found["list"][0]["user_id"], first, "{found}");
    }

    for bad in ["12345", "1338010758a", "+86 13380107582"] {
        let res = t
            .call(Method::POST, "/api/auth/sendsms", &[("phone", bad)], None)
            .await;
        assert_eq!(code(&res), 40002, "{bad}");
    }
    // Six digits are a phone by the contract, though no country's rules know them; its
    // spellings are one number, which the per-minute limit counts.
    let res = t
        .call(
            Method::POST,
            "/api/auth/sendsms",
            &[("phone", "123456")],
            None,
        )
        .await;
    assert_eq!(code(&res), 0);
    for spelling in ["+86123456", "0086123456"] {
        let res = t
            .call(
                Method::POST,
                "/api/auth/sendsms",
                &[("phone", spelling)],
                None,
            )
            .await;
        assert_eq!(code(&res), 42901, "{spelling}");
    }
}

/// Rows written before phones had one form: each becomes E.164, and of spellings of one
/// number that became separate accounts the one already in that form keeps it.
async fn old_phone_rows_are_migrated(url: String) {
    let db = example_dating::db::connect(&url).await.unwrap();
    example_dating::db::Migrator::up(&db, Some(4))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for phone in [
        "8613380107582",
        "+8613380107582",
        "008613380107582",
        "18922986865",
        "12ab",
    ] {
        let user = user_info::ActiveModel {
            nickname: Set(format!("u-{phone}")),
            phone: Set(phone.into()),
            gender: Set(0),
            authority: Set(example_dating::people::Authority::Everyone),
            banned: Set(false),
            created_at: Set(0),
            updated_at: Set(0),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        user_auth::ActiveModel {
            user_id: Set(user.user_id),
            login_type: Set("phone".into()),
            identifier: Set(phone.into()),
            created_at: Set(0),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        ids.push(user.user_id);
    }
    example_dating::db::migrate(&db).await.unwrap();
    let identity = |user_id: i64| {
        let db = &db;
        async move {
            let row = user_auth::Entity::find()
                .filter(user_auth::Column::UserId.eq(user_id))
                .one(db)
                .await
                .unwrap()
                .unwrap();
            (row.login_type, row.identifier)
        }
    };
    // `+8613380107582` was already in its final form: it keeps the number.
    assert_eq!(
        identity(ids[1]).await,
        ("phone".into(), "+8613380107582".into())
    );
    assert_eq!(
        identity(ids[0]).await,
        ("phone_legacy".into(), "8613380107582".into())
    );
    assert_eq!(
        identity(ids[2]).await,
        ("phone_legacy".into(), "008613380107582".into())
    );
    assert_eq!(
        identity(ids[3]).await,
        ("phone".into(), "+8618922986865".into())
    );
    assert_eq!(
        identity(ids[4]).await,
        ("phone".into(), "12ab".into()),
        "not a number: left"
    );
    let phones: Vec<String> = user_info::Entity::find()
        .order_by_asc(user_info::Column::UserId)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.phone)
        .collect();
    assert_eq!(
        phones,
        [
            "+8613380107582",
            "+8613380107582",
            "+8613380107582",
            "+8618922986865",
            "12ab"
        ]
    );
}

#[tokio::test]
async fn old_phone_rows_are_migrated_on_sqlite() {
    old_phone_rows_are_migrated("sqlite::memory:".into()).await;
}

#[tokio::test]
async fn old_phone_rows_are_migrated_on_mariadb() {
    if let Some(server) = common::service_url(
        "KOTORI_TEST_MYSQL_URL",
        "old_phone_rows_are_migrated_on_mariadb",
    ) {
        common::on_fresh_database(&server, old_phone_rows_are_migrated).await;
    }
}

#[tokio::test]
async fn old_phone_rows_are_migrated_on_postgres() {
    if let Some(server) = common::service_url(
        "KOTORI_TEST_POSTGRES_URL",
        "old_phone_rows_are_migrated_on_postgres",
    ) {
        common::on_fresh_database(&server, old_phone_rows_are_migrated).await;
    }
}

#[tokio::test]
async fn resolving_a_report_with_a_ban_needs_the_ban_privilege() {
    let t = TestApp::new().await;
    let (alice, _) = t.user("18900000001").await;
    let (_, spammer) = t.user("18900000003").await;
    let report = t
        .call(
            Method::POST,
            "/api/reports",
            &[("user_id", &spammer.to_string()), ("reason", "spam")],
            Some(&alice),
        )
        .await;
    let report_id = data(&report)["report_id"].as_i64().unwrap();
    let moderator = t
        .operator("mod", "admin", &["reports:read", "reports:write"])
        .await;
    let resolve = format!("/manage/dating/admin/api/reports/{report_id}/resolve.json");
    let res = t
        .manage(
            Method::POST,
            &resolve,
            &[("action", "ban")],
            Some(&moderator),
        )
        .await;
    assert_eq!(code(&res), 40301);
    let user = user_info::Entity::find_by_id(spammer)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!user.banned, "nothing changed");
    let res = t
        .manage(
            Method::POST,
            &resolve,
            &[("action", "dismiss")],
            Some(&moderator),
        )
        .await;
    assert_eq!(code(&res), 0, "dismissing needs only reports:write");
}

/// A visit by someone the owner may not see is in the export — the owner's data is complete —
/// without who it was.
#[tokio::test]
async fn an_export_counts_visits_it_does_not_name() {
    let t = TestApp::new().await;
    let (owner, owner_id) = t.user("18900000001").await;
    let (hidden, hidden_id) = t.user("18900000002").await;
    let (blocked, blocked_id) = t.user("18900000003").await;
    let (friend, friend_id) = t.user("18900000004").await;
    for visitor in [&hidden, &blocked, &friend] {
        let res = t
            .call(
                Method::GET,
                &format!("/api/users/{owner_id}/show"),
                &[],
                Some(visitor),
            )
            .await;
        assert_eq!(code(&res), 0);
    }
    t.set_profile(hidden_id, |u| {
        u.authority = Set(example_dating::people::Authority::Hidden)
    })
    .await;
    let res = t
        .call(
            Method::POST,
            "/api/me/blocks/add",
            &[("user_id", &blocked_id.to_string())],
            Some(&owner),
        )
        .await;
    assert_eq!(code(&res), 0);
    let all = data(
        &t.call(Method::GET, "/api/me/export", &[], Some(&owner))
            .await,
    );
    let named: Vec<serde_json::Value> = all["visits_received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["user_id"].clone())
        .collect();
    assert_eq!(
        named,
        [
            serde_json::Value::Null,
            serde_json::Value::Null,
            friend_id.into()
        ],
        "{all}"
    );
}
