//! docs/src/dating/api/chat.md: messages, cursors, read marks, contact rows on both sides.

mod common;

use common::{TestApp, code, data};
use http::Method;
use serde_json::Value;

#[tokio::test]
async fn messages_are_stored_listed_newest_first_and_marked_read() {
    let t = TestApp::new().await;
    let (alice, alice_id) = t.user("18900000001").await;
    let (bob, bob_id) = t.user("18900000002").await;
    let to_bob = format!("/api/users/{bob_id}/messages");
    let to_alice = format!("/api/users/{alice_id}/messages");

    let sent = data(
        &t.call(
            Method::POST,
            &to_bob,
            &[("msg_type", "text"), ("content", "你好 Bob")],
            Some(&alice),
        )
        .await,
    );
    assert_eq!(
        (
            sent["from_uid"].as_i64(),
            sent["to_uid"].as_i64(),
            sent["read"].as_bool()
        ),
        (Some(alice_id), Some(bob_id), Some(false))
    );
    let audio = [
        ("msg_type", "audio"),
        ("audio", "https://cdn.example.com/a.mp3"),
        ("duration", "12"),
    ];
    assert_eq!(
        code(&t.call(Method::POST, &to_bob, &audio, Some(&alice)).await),
        0
    );
    let image = [
        ("msg_type", "image"),
        ("image", "https://cdn.example.com/i.jpg"),
    ];
    assert_eq!(
        code(&t.call(Method::POST, &to_bob, &image, Some(&alice)).await),
        0
    );
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                &to_alice,
                &[("msg_type", "text"), ("content", "hi!")],
                Some(&bob)
            )
            .await
        ),
        0
    );

    // Bob's contacts: alice, 3 unread from her, her last message... then his reply.
    let contacts = data(&t.call(Method::GET, "/api/contacts", &[], Some(&bob)).await);
    let row = &contacts["list"][0];
    assert_eq!(
        (row["peer"]["user_id"].as_i64(), row["unread"].as_i64()),
        (Some(alice_id), Some(3))
    );
    assert_eq!(row["last_msg"], "hi!");
    let alice_side = data(
        &t.call(Method::GET, "/api/contacts", &[], Some(&alice))
            .await,
    );
    assert_eq!(
        (
            alice_side["list"][0]["peer"]["user_id"].as_i64(),
            alice_side["list"][0]["unread"].as_i64()
        ),
        (Some(bob_id), Some(1))
    );

    // Cursor: two at a time, newest first.
    let first = data(
        &t.call(Method::GET, &to_alice, &[("limit", "2")], Some(&bob))
            .await,
    );
    let types: Vec<&str> = first["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msg_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["text", "image"]);
    let cursor = first["next_before_id"]
        .as_i64()
        .expect("more to come")
        .to_string();
    let second = data(
        &t.call(
            Method::GET,
            &to_alice,
            &[("limit", "2"), ("before_id", &cursor)],
            Some(&bob),
        )
        .await,
    );
    let types: Vec<&str> = second["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["msg_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["audio", "text"]);
    assert_eq!(second["next_before_id"], Value::Null);
    // Everything incoming was fetched: read, and the unread count is zero.
    let again = data(&t.call(Method::GET, &to_alice, &[], Some(&bob)).await);
    assert!(
        again["list"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["to_uid"] == bob_id)
            .all(|m| m["read"] == true)
    );
    assert_eq!(
        data(&t.call(Method::GET, "/api/contacts", &[], Some(&bob)).await)["list"][0]["unread"],
        0
    );
    // Alice's message to bob is unread on her side until bob... it is: her view marks nothing.
    use example_dating::db::entity::chat::message;
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        message::Entity::find().count(&t.state.db).await.unwrap(),
        4,
        "every message that got code 0 is stored"
    );
}

#[tokio::test]
async fn message_rules() {
    let t = TestApp::new().await;
    let (alice, alice_id) = t.user("18900000001").await;
    let (_, bob_id) = t.user("18900000002").await;
    let to_bob = format!("/api/users/{bob_id}/messages");
    let long = "字".repeat(501);
    let cases: Vec<(Vec<(&str, &str)>, i64)> = vec![
        (vec![], 40001),
        (vec![("msg_type", "video")], 40002),
        (vec![("msg_type", "text")], 40001),
        (vec![("msg_type", "text"), ("content", &long)], 40002),
        (vec![("msg_type", "text"), ("content", "   ")], 40002),
        (
            vec![
                ("msg_type", "audio"),
                ("audio", "https://x.cn/a.mp3"),
                ("duration", "61"),
            ],
            40002,
        ),
        (
            vec![
                ("msg_type", "audio"),
                ("audio", "https://x.cn/a.mp3"),
                ("duration", "0"),
            ],
            40002,
        ),
        (vec![("msg_type", "audio"), ("duration", "5")], 40001),
        (
            vec![("msg_type", "image"), ("image", "file:///etc/passwd")],
            40002,
        ),
    ];
    for (params, expected) in cases {
        assert_eq!(
            code(&t.call(Method::POST, &to_bob, &params, Some(&alice)).await),
            expected,
            "{params:?}"
        );
    }
    let to_self = format!("/api/users/{alice_id}/messages");
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                &to_self,
                &[("msg_type", "text"), ("content", "me")],
                Some(&alice)
            )
            .await
        ),
        40002
    );
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                "/api/users/424242/messages",
                &[("msg_type", "text"), ("content", "x")],
                Some(&alice)
            )
            .await
        ),
        40401
    );
    for bad in [[("limit", "0")], [("limit", "101")], [("before_id", "x")]] {
        assert_eq!(
            code(&t.call(Method::GET, &to_bob, &bad, Some(&alice)).await),
            40002,
            "{bad:?}"
        );
    }
    use example_dating::db::entity::chat::{contacts, message};
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        message::Entity::find().count(&t.state.db).await.unwrap(),
        0,
        "refused messages leave nothing"
    );
    assert_eq!(
        contacts::Entity::find().count(&t.state.db).await.unwrap(),
        0
    );
}
