//! docs/src/dating/api/people.md: `GET /api/me` and `POST /api/me/update` — every field, its
//! rule, and a field sent empty.

mod common;

use common::{TestApp, code, data};
use http::Method;
use serde_json::Value;

const GET: Method = Method::GET;
const POST: Method = Method::POST;

#[tokio::test]
async fn me_shows_the_private_fields_and_update_applies_every_field() {
    let t = TestApp::new().await;
    let (token, id) = t.user("18900000001").await;
    let me = data(&t.call(GET, "/api/me", &[], Some(&token)).await);
    assert_eq!(
        (me["user_id"].as_i64(), me["phone"].as_str()),
        (Some(id), Some("+8618900000001"))
    );
    assert_eq!(me["labels"], serde_json::json!([]));
    assert_eq!(me["vip_deadline"], Value::Null);

    let fields = [
        ("nickname", "小明同学"),
        ("email", "ming@example.com"),
        ("gender", "1"),
        ("birthday", "1995-06-15"),
        ("height", "178"),
        ("emotion", "0"),
        ("sexual", "2"),
        ("education", "4"),
        ("salary", "3"),
        ("avatar", "https://img.example.com/a.jpg"),
        ("authority", "2"),
    ];
    let updated = data(&t.call(POST, "/api/me/update", &fields, Some(&token)).await);
    assert_eq!(updated["nickname"], "小明同学");
    assert_eq!(updated["email"], "ming@example.com");
    assert_eq!(
        (
            updated["height"].as_i64(),
            updated["salary"].as_i64(),
            updated["authority"].as_i64()
        ),
        (Some(178), Some(3), Some(2))
    );
    assert_eq!(
        data(&t.call(GET, "/api/me", &[], Some(&token)).await)["birthday"],
        "1995-06-15"
    );
}

#[tokio::test]
async fn every_profile_rule_is_a_40002_naming_the_field() {
    let t = TestApp::new().await;
    let (token, _) = t.user("18900000001").await;
    assert_eq!(
        code(&t.call(POST, "/api/me/update", &[], Some(&token)).await),
        40001
    );
    let bad = [
        ("nickname", "x"),
        ("nickname", &"长".repeat(33)),
        ("email", "not-an-email"),
        ("gender", "3"),
        ("birthday", "1995-13-01"),
        ("birthday", "2015-01-01"),
        ("height", "99"),
        ("height", "251"),
        ("emotion", "4"),
        ("sexual", "0"),
        ("education", "6"),
        ("salary", "0"),
        ("salary", "7"),
        ("authority", "3"),
        ("avatar", "ftp://x/y.jpg"),
        ("height", "tall"),
        // Sent empty: every profile has these three, so empty is a value outside the rule.
        ("nickname", ""),
        ("gender", ""),
        ("authority", ""),
    ];
    for (field, value) in bad {
        let res = t
            .call(POST, "/api/me/update", &[(field, value)], Some(&token))
            .await;
        assert_eq!(code(&res), 40002, "{field}={value}");
        assert!(
            res.json::<Value>()["msg"].as_str().unwrap().contains(field),
            "{field}"
        );
    }
    for (lat, lng) in [("91", "0"), ("0", "181"), ("x", "0")] {
        let res = t
            .call(
                POST,
                "/api/me/location",
                &[("lat", lat), ("lng", lng)],
                Some(&token),
            )
            .await;
        assert_eq!(code(&res), 40002, "{lat},{lng}");
    }
    assert_eq!(
        code(
            &t.call(POST, "/api/me/location", &[("lat", "1")], Some(&token))
                .await
        ),
        40001
    );
}

#[tokio::test]
async fn a_field_sent_empty_is_cleared_where_a_profile_may_lack_it() {
    let t = TestApp::new().await;
    let (token, id) = t.user("18900000002").await;
    let set = [
        ("email", "ming@example.com"),
        ("birthday", "1995-06-15"),
        ("avatar", "https://img.example.com/a.jpg"),
        ("height", "178"),
        ("emotion", "1"),
        ("sexual", "2"),
        ("education", "4"),
        ("salary", "3"),
    ];
    let updated = data(&t.call(POST, "/api/me/update", &set, Some(&token)).await);
    for (field, _) in set {
        assert!(!updated[field].is_null(), "{field} was set");
    }
    // One at a time, each answer shows that field cleared and the others kept.
    for (i, (field, _)) in set.iter().enumerate() {
        let updated = data(
            &t.call(POST, "/api/me/update", &[(*field, "")], Some(&token))
                .await,
        );
        assert!(updated[*field].is_null(), "{field} is cleared: {updated}");
        for (later, value) in &set[i + 1..] {
            assert_eq!(
                updated[*later].to_string().trim_matches('"'),
                *value,
                "{later} is kept when {field} is cleared"
            );
        }
    }
    let me = data(&t.call(GET, "/api/me", &[], Some(&token)).await);
    for (field, _) in set {
        assert!(me[field].is_null(), "{field} stays cleared: {me}");
    }
    // What others see follows: the public profile has no avatar, height or birthday now.
    let (viewer, _) = t.user("18900000003").await;
    let card = data(
        &t.call(GET, &format!("/api/users/{id}/show"), &[], Some(&viewer))
            .await,
    );
    for field in ["avatar", "height", "birthday"] {
        assert!(
            card[field].is_null(),
            "{field} in the public profile: {card}"
        );
    }
    // The fields every profile has keep theirs: an empty one is refused and changes nothing.
    for field in ["nickname", "gender", "authority"] {
        let res = t
            .call(
                POST,
                "/api/me/update",
                &[(field, ""), ("height", "170")],
                Some(&token),
            )
            .await;
        assert_eq!(code(&res), 40002, "{field}=");
    }
    let me = data(&t.call(GET, "/api/me", &[], Some(&token)).await);
    assert!(me["height"].is_null(), "a refused update wrote nothing");
    assert_eq!(me["nickname"], "u-18900000002");
}
