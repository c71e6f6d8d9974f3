//! The kept copies of people (`people::cache`, docs/src/dating/people.md): a change made on one
//! instance reaches every instance's lists and `/api/me` — a new nickname, a photo, a ban, a
//! ban lifted, a block and its end, a first message to someone shown to contacts only — and a
//! read racing a change never keeps the row from before it. The races run 200 rounds on one
//! instance (SQLite: a ban or unban, a first message) and across two instances sharing Redis
//! on SQLite, MariaDB and PostgreSQL.

mod common;

use std::sync::Arc;

use common::instances::{Arrivals, Database, drop_keys, two_instances, with_redis_on};
use common::{TestApp, code, data};
use example_dating::people::{self, Change, account};
use http::Method;
use serde_json::Value;

const ROUNDS: u64 = 200;
const HERE: [(&str, &str); 2] = [("lat", "22.5"), ("lng", "114.0")];

/// The people `token`'s owner finds nearby on `t`, as (id, nickname).
async fn nearby(t: &TestApp, token: &str) -> Vec<(i64, String)> {
    let res = t
        .call(Method::GET, "/api/user/nearby/list", &HERE, Some(token))
        .await;
    assert_eq!(code(&res), 0, "{}", res.text());
    data(&res)["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["nickname"].as_str().unwrap_or_default().to_owned();
            (p["user_id"].as_i64().unwrap(), name)
        })
        .collect()
}

/// `GET /api/me` of `token`'s owner on `t`.
async fn own(t: &TestApp, token: &str) -> Value {
    let res = t.call(Method::GET, "/api/me", &[], Some(token)).await;
    assert_eq!(code(&res), 0, "{}", res.text());
    data(&res)
}

async fn ids_nearby(t: &TestApp, token: &str) -> Vec<i64> {
    nearby(t, token)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// A user of `t` standing HERE.
async fn person(t: &TestApp, phone: &str) -> (String, i64) {
    let (token, id) = t.user(phone).await;
    let res = t
        .call(Method::POST, "/api/me/location", &HERE, Some(&token))
        .await;
    assert_eq!(code(&res), 0, "{}", res.text());
    (token, id)
}

async fn unban(t: &TestApp, user_id: i64) {
    let txn = example_dating::db::begin(&t.state.db).await.unwrap();
    let (_, moved) = account::unban_in(&txn, user_id).await.unwrap();
    txn.commit().await.unwrap();
    people::changed(&t.state, Change::Unbanned(user_id, moved)).await;
}

/// On one instance the change is forgotten before it answers: a read racing a ban or an unban
/// never keeps the row from before it, whichever commits first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_racing_a_change_on_one_instance_keeps_nothing_old() {
    let t = Arc::new(TestApp::new().await);
    let (me, _) = person(&t, "18900000301").await;
    let (_, bob) = person(&t, "18900000302").await;
    for round in 0..ROUNDS {
        let turns = round % 6;
        let list = {
            let (t, me) = (Arc::clone(&t), me.clone());
            tokio::spawn(async move { ids_nearby(&t, &me).await })
        };
        for _ in 0..turns {
            tokio::task::yield_now().await;
        }
        if round % 2 == 0 {
            account::ban(&t.state, bob, "spam").await.unwrap();
            list.await.unwrap();
            assert!(!ids_nearby(&t, &me).await.contains(&bob), "round {round}");
        } else {
            unban(&t, bob).await;
            list.await.unwrap();
            assert!(ids_nearby(&t, &me).await.contains(&bob), "round {round}");
        }
    }
}

/// A first message racing a read of nearby: once the send answered, the reader sees the
/// contacts-only sender, whatever the read under way kept — 200 rounds, a new pair each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_racing_a_first_message_keeps_no_old_contacts() {
    let t = Arc::new(TestApp::new().await);
    let (me, me_id) = person(&t, "18900000321").await;
    let to_me = format!("/api/users/{me_id}/messages");
    let hello = [("msg_type", "text"), ("content", "hello")];
    for round in 0..ROUNDS {
        let (token, sender) = person(&t, &format!("1870000{round:04}")).await;
        let contacts_only = [("authority", "2")];
        let hidden = t
            .call(Method::POST, "/api/me/update", &contacts_only, Some(&token))
            .await;
        assert_eq!(code(&hidden), 0, "{}", hidden.text());
        let list = {
            let (t, me) = (Arc::clone(&t), me.clone());
            tokio::spawn(async move { ids_nearby(&t, &me).await })
        };
        for _ in 0..round % 6 {
            tokio::task::yield_now().await;
        }
        let sent = t.call(Method::POST, &to_me, &hello, Some(&token)).await;
        assert_eq!(code(&sent), 0, "{}", sent.text());
        list.await.unwrap();
        assert!(ids_nearby(&t, &me).await.contains(&sender), "round {round}");
        // Out of sight again, so the next rounds' senders fit on the first page.
        let gone = [("authority", "0")];
        let hidden = t
            .call(Method::POST, "/api/me/update", &gone, Some(&token))
            .await;
        assert_eq!(code(&hidden), 0, "{}", hidden.text());
    }
}

/// What one instance changes, the other's lists show once the hub delivered it: a nickname,
/// a ban and its end, a block and its end.
async fn changes_reach_the_other_instance(db_url: String, redis_url: String) {
    let (one, two, prefix) = two_instances(&db_url, &redis_url).await;
    // Instance two's index of places hears of each person's move through the hub too.
    let mut moves = Arrivals::from(two.state.places().moves());
    let (me, me_id) = person(&one, "18900000311").await;
    let (bob_token, bob) = person(&one, "18900000312").await;
    let (carol_token, carol) = person(&one, "18900000313").await;
    moves.arrive(3).await;
    let mut forgets = Arrivals::from(two.state.people().forgets());
    // Instance two keeps both cards now, and Bob's own row and showcase.
    assert_eq!(ids_nearby(&two, &me).await.len(), 2);
    assert_eq!(own(&two, &bob_token).await["album"], serde_json::json!([]));

    let renamed = one
        .call(
            Method::POST,
            "/api/me/update",
            &[("nickname", "Robert")],
            Some(&bob_token),
        )
        .await;
    assert_eq!(code(&renamed), 0, "{}", renamed.text());
    forgets.arrive(1).await;
    assert!(nearby(&two, &me).await.contains(&(bob, "Robert".into())));
    assert_eq!(own(&two, &bob_token).await["nickname"], "Robert");
    let photo = [("photo", "https://example.com/bob.jpg")];
    let added = one
        .call(Method::POST, "/api/me/album/add", &photo, Some(&bob_token))
        .await;
    assert_eq!(code(&added), 0, "{}", added.text());
    forgets.arrive(1).await;
    let album = own(&two, &bob_token).await["album"].clone();
    assert_eq!(album[0]["photo"], "https://example.com/bob.jpg", "{album}");

    account::ban(&one.state, bob, "spam").await.unwrap();
    forgets.arrive(1).await;
    assert!(!ids_nearby(&two, &me).await.contains(&bob));
    unban(&one, bob).await;
    forgets.arrive(1).await;
    assert!(ids_nearby(&two, &me).await.contains(&bob));

    let me_param = me_id.to_string();
    let blocked = one
        .call(
            Method::POST,
            "/api/me/blocks/add",
            &[("user_id", me_param.as_str())],
            Some(&carol_token),
        )
        .await;
    assert_eq!(code(&blocked), 0, "{}", blocked.text());
    forgets.arrive(1).await;
    assert!(!ids_nearby(&two, &me).await.contains(&carol));
    let lifted = one
        .call(
            Method::POST,
            &format!("/api/me/blocks/{me_id}/delete"),
            &[],
            Some(&carol_token),
        )
        .await;
    assert_eq!(code(&lifted), 0, "{}", lifted.text());
    forgets.arrive(1).await;
    assert!(ids_nearby(&two, &me).await.contains(&carol));

    // Dave shows himself to his contacts only: hidden from me, until he writes to me — then
    // instance two, which kept whom I talked with (nobody), forgets it and shows him.
    let (dave_token, dave) = person(&one, "18900000314").await;
    moves.arrive(1).await;
    let contacts_only = [("authority", "2")];
    let hidden = one
        .call(
            Method::POST,
            "/api/me/update",
            &contacts_only,
            Some(&dave_token),
        )
        .await;
    assert_eq!(code(&hidden), 0, "{}", hidden.text());
    forgets.arrive(1).await;
    assert!(!ids_nearby(&two, &me).await.contains(&dave));
    let hello = [("msg_type", "text"), ("content", "hello")];
    let to_me = format!("/api/users/{me_id}/messages");
    let sent = one
        .call(Method::POST, &to_me, &hello, Some(&dave_token))
        .await;
    assert_eq!(code(&sent), 0, "{}", sent.text());
    forgets.arrive(1).await;
    assert!(ids_nearby(&two, &me).await.contains(&dave));
    assert!(ids_nearby(&one, &me).await.contains(&dave));

    // The race: instance two reads while instance one bans or lifts the ban, 200 rounds; once
    // the change arrived, two never shows what was before it.
    let two = Arc::new(two);
    for round in 0..ROUNDS {
        let list = {
            let (two, me) = (Arc::clone(&two), me.clone());
            tokio::spawn(async move { ids_nearby(&two, &me).await })
        };
        for _ in 0..round % 6 {
            tokio::task::yield_now().await;
        }
        let banning = round % 2 == 0;
        if banning {
            account::ban(&one.state, bob, "spam").await.unwrap();
        } else {
            unban(&one, bob).await;
        }
        list.await.unwrap();
        forgets.arrive(1).await;
        let shown = ids_nearby(&two, &me).await.contains(&bob);
        assert_eq!(shown, !banning, "round {round}");
    }
    // The instances first: their background tasks write to the store while they live.
    drop((one, two));
    drop_keys(&redis_url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_the_other_instance_on_sqlite() {
    let test = "changes_reach_the_other_instance_on_sqlite";
    with_redis_on(Database::Sqlite, test, changes_reach_the_other_instance).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_the_other_instance_on_mariadb() {
    let test = "changes_reach_the_other_instance_on_mariadb";
    with_redis_on(Database::MariaDb, test, changes_reach_the_other_instance).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_the_other_instance_on_postgres() {
    let test = "changes_reach_the_other_instance_on_postgres";
    with_redis_on(Database::Postgres, test, changes_reach_the_other_instance).await;
}
