//! Concurrent requests keep the invariants on SQLite, MariaDB and PostgreSQL: logins written in
//! groups, nine photos, one live on the air per host, a label set replaced whole, chat without
//! deadlocks, unread counts that do not drift. Each checks the stored state, not only the answers.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{TestApp, code, data};
use example_dating::db::entity::chat::{contacts, message};
use example_dating::db::entity::rooms::live;
use example_dating::db::entity::users::{user_album, user_label};
use http::Method as M;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

async fn all<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

async fn invariants_hold(t: Arc<TestApp>) {
    logins_in_groups(Arc::clone(&t)).await;
    let db = &t.state.db;
    let (alice, alice_id) = t.user("18900000051").await;
    let (bob, bob_id) = t.user("18900000052").await;

    // Nine photos, however many try at once.
    let adds = (0..16)
        .map(|i| {
            let (t, alice) = (Arc::clone(&t), alice.clone());
            tokio::spawn(async move {
                let photo = format!("https://img.example.com/{i}.jpg");
                code(
                    &t.call(
                        M::POST,
                        "/api/me/album/add",
                        &[("photo", &photo)],
                        Some(&alice),
                    )
                    .await,
                )
            })
        })
        .collect();
    let codes = all(adds).await;
    assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 9, "{codes:?}");
    assert!(codes.iter().all(|&c| c == 0 || c == 40901), "{codes:?}");
    let photos = user_album::Entity::find()
        .filter(user_album::Column::UserId.eq(alice_id))
        .count(db)
        .await
        .unwrap();
    assert_eq!(photos, 9);

    // One live on the air per host.
    let host = t.operator("racer", "host", &[]).await;
    let creates = (0..8)
        .map(|_| {
            let (t, host) = (Arc::clone(&t), host.clone());
            tokio::spawn(async move {
                let res = t
                    .manage(
                        M::POST,
                        "/manage/dating/shops/api/live/create.json",
                        &[("title", "race")],
                        Some(&host),
                    )
                    .await;
                code(&res)
            })
        })
        .collect();
    let codes = all(creates).await;
    assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 1, "{codes:?}");
    let on_air = live::Entity::find()
        .filter(live::Column::Status.eq("on_air"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(on_air, 1);

    // A label set is replaced whole: the result is one of the sets sent, never a union.
    let sets: Vec<Vec<i64>> = (0..8)
        .map(|i| (1..=12).filter(|l| (l + i) % 2 == 0).take(6).collect())
        .collect();
    let replaces = sets
        .iter()
        .map(|set| {
            let (t, alice) = (Arc::clone(&t), alice.clone());
            let ids = set.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            tokio::spawn(async move {
                code(
                    &t.call(
                        M::POST,
                        "/api/me/labels",
                        &[("label_ids", &ids)],
                        Some(&alice),
                    )
                    .await,
                )
            })
        })
        .collect();
    assert!(all(replaces).await.iter().all(|&c| c == 0));
    let worn: BTreeSet<i64> = user_label::Entity::find()
        .filter(user_label::Column::UserId.eq(alice_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.label_id)
        .collect();
    assert!(
        sets.iter()
            .any(|s| s.iter().copied().collect::<BTreeSet<_>>() == worn),
        "{worn:?} is none of the sets sent"
    );

    // Two-way chat at once: no deadlock, every message stored, counts right.
    let sends = (0..20)
        .map(|i| {
            let t = Arc::clone(&t);
            let (from, to) = if i % 2 == 0 {
                (alice.clone(), bob_id)
            } else {
                (bob.clone(), alice_id)
            };
            tokio::spawn(async move {
                let path = format!("/api/users/{to}/messages");
                code(
                    &t.call(
                        M::POST,
                        &path,
                        &[("msg_type", "text"), ("content", "hi")],
                        Some(&from),
                    )
                    .await,
                )
            })
        })
        .collect();
    let codes = all(sends).await;
    assert!(codes.iter().all(|&c| c == 0), "{codes:?}");
    assert_eq!(message::Entity::find().count(db).await.unwrap(), 20);

    // Reading while messages arrive: the unread count ends equal to what is unread.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let t = Arc::clone(&t);
        let (alice, bob) = (alice.clone(), bob.clone());
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                let path = format!("/api/users/{alice_id}/messages");
                data(&t.call(M::GET, &path, &[], Some(&bob)).await);
            } else {
                let path = format!("/api/users/{bob_id}/messages");
                let res = t
                    .call(
                        M::POST,
                        &path,
                        &[("msg_type", "text"), ("content", "yo")],
                        Some(&alice),
                    )
                    .await;
                assert_eq!(code(&res), 0);
            }
        }));
    }
    all(tasks).await;
    let unread_messages = message::Entity::find()
        .filter(message::Column::FromUid.eq(alice_id))
        .filter(message::Column::ToUid.eq(bob_id))
        .filter(message::Column::Read.eq(false))
        .count(db)
        .await
        .unwrap();
    let row = contacts::Entity::find()
        .filter(contacts::Column::UserId.eq(bob_id))
        .filter(contacts::Column::PeerId.eq(alice_id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        i64::from(row.unread),
        unread_messages as i64,
        "the count drifted"
    );
}

/// Logs each (instance, phone, SMS code) in, all at once: (phone, business code, data).
async fn log_in_at_once(codes: Vec<(Arc<TestApp>, String, String)>) -> Vec<(String, i64, Value)> {
    let logins = codes
        .into_iter()
        .map(|(t, phone, sms)| {
            tokio::spawn(async move {
                let params = [("phone", phone.as_str()), ("code", sms.as_str())];
                let res = t.call(M::POST, "/api/auth/login", &params, None).await;
                let answer = code(&res);
                (phone, answer, res.json::<Value>()["data"].clone())
            })
        })
        .collect();
    all(logins).await
}

/// Checks that `phone` has exactly one user and that the session a login answered (`data`)
/// is that user's; returns the user.
async fn the_session_is_the_phones_user(
    db: &sea_orm::DatabaseConnection,
    phone: &str,
    data: &Value,
) -> i64 {
    use example_dating::db::entity::users::{user_auth, user_token};
    let e164 = example_dating::people::phone::canonical(phone).unwrap();
    let identity = user_auth::Entity::find()
        .filter(user_auth::Column::Identifier.eq(e164))
        .all(db)
        .await
        .unwrap();
    assert_eq!(identity.len(), 1, "one user for {phone}");
    let user = identity[0].user_id;
    assert_eq!(Some(user), data["user_id"].as_i64(), "{phone}: {data}");
    let token = data["token"].as_str().unwrap().to_owned();
    let session = user_token::Entity::find_by_id(token)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.user_id, user);
    user
}

/// Logins at once are written in groups (auth::logins): each answered, one user per phone,
/// every session its phone's user's, a banned user refused.
async fn logins_in_groups(t: Arc<TestApp>) {
    use example_dating::db::entity::users::{user_info, user_token};
    let db = &t.state.db;
    let phones: Vec<String> = (0..12).map(|i| format!("1890000{i:04}")).collect();
    let (_, known) = t.user(&phones[0]).await;
    let (_, banned) = t.user(&phones[1]).await;
    let ban = user_info::ActiveModel {
        user_id: sea_orm::ActiveValue::Unchanged(banned),
        banned: sea_orm::Set(true),
        ..Default::default()
    };
    sea_orm::ActiveModelTrait::update(ban, db).await.unwrap();
    let mut codes = Vec::new();
    for phone in &phones {
        codes.push((Arc::clone(&t), phone.clone(), t.send_code(phone).await));
    }
    for (phone, answer, data) in log_in_at_once(codes).await {
        if phone == phones[1] {
            assert_eq!(answer, 40303, "banned");
            continue;
        }
        assert_eq!(answer, 0, "{phone}: {data}");
        let user = the_session_is_the_phones_user(db, &phone, &data).await;
        if phone == phones[0] {
            assert_eq!(user, known);
        }
    }
    let users = user_info::Entity::find()
        .filter(
            user_info::Column::Phone.is_in(
                phones
                    .iter()
                    .map(|phone| example_dating::people::phone::canonical(phone).unwrap()),
            ),
        )
        .count(db)
        .await
        .unwrap();
    assert_eq!(users, 12);
    let banned_sessions = user_token::Entity::find()
        .filter(user_token::Column::UserId.eq(banned))
        .count(db)
        .await
        .unwrap();
    assert_eq!(banned_sessions, 1, "only the one made before the ban");
}

/// Two instances on one database (each its own store, so each sends its own code) log the
/// same new phones in at once: their login groups race for each registration, the unique
/// identity index refuses the losers' groups, which are written again and find the winners —
/// one user per phone, every login answered with a session of that user.
async fn first_logins_on_two_instances(url: String) {
    let instance = || async {
        let store = Arc::new(example_dating::store::MemoryStore::new());
        Arc::new(TestApp::with(common::config(), &url, store).await)
    };
    let (a, b) = (instance().await, instance().await);
    // Every code first, so that the logins go at once.
    let mut codes = Vec::new();
    for phone in (0..8).map(|i| format!("1890001{i:04}")) {
        for t in [&a, &b] {
            let sms = t.send_code(&phone).await;
            codes.push((Arc::clone(t), phone.clone(), sms));
        }
    }
    let db = &a.state.db;
    for (phone, answer, data) in log_in_at_once(codes).await {
        assert_eq!(answer, 0, "{phone}: {data}");
        the_session_is_the_phones_user(db, &phone, &data).await;
    }
    let users = example_dating::db::entity::users::user_info::Entity::find()
        .count(db)
        .await
        .unwrap();
    assert_eq!(users, 8, "no profile left behind by a refused group");
    for t in [a, b] {
        t.state.db.clone().close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_logins_race_across_instances_on_a_sqlite_file() {
    let dir = common::TempDir::new("instances");
    first_logins_on_two_instances(dir.sqlite_url()).await;
}

#[tokio::test]
async fn first_logins_race_across_instances_on_mariadb() {
    let name = "first_logins_race_across_instances_on_mariadb";
    common::on_database_server(common::MARIADB, name, first_logins_on_two_instances).await;
}

#[tokio::test]
async fn first_logins_race_across_instances_on_postgres() {
    let name = "first_logins_race_across_instances_on_postgres";
    common::on_database_server(common::POSTGRES, name, first_logins_on_two_instances).await;
}

#[tokio::test]
async fn invariants_hold_under_concurrency_on_sqlite() {
    invariants_hold(Arc::new(TestApp::new().await)).await;
}

/// The embedded default: a SQLite file in WAL mode, transactions `IMMEDIATE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invariants_hold_under_concurrency_on_a_sqlite_file() {
    let dir = common::TempDir::new("concurrency");
    on(dir.sqlite_url()).await;
}

async fn on(url: String) {
    let store = Arc::new(example_dating::store::MemoryStore::new());
    let t = Arc::new(TestApp::with(common::config(), &url, store).await);
    invariants_hold(Arc::clone(&t)).await;
    t.state.db.clone().close().await.unwrap();
}

#[tokio::test]
async fn invariants_hold_under_concurrency_on_mariadb() {
    let name = "invariants_hold_under_concurrency_on_mariadb";
    common::on_database_server(common::MARIADB, name, on).await;
}

#[tokio::test]
async fn invariants_hold_under_concurrency_on_postgres() {
    let name = "invariants_hold_under_concurrency_on_postgres";
    common::on_database_server(common::POSTGRES, name, on).await;
}
