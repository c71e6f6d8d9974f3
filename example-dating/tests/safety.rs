//! docs/src/dating/api/safety.md, trust and safety: blocks (both ways, everywhere), reports and the moderation
//! queue, danmaku moderation, and the guards of the new routes. Deletion and export are in
//! `erasure.rs`.

mod common;

use common::{TestApp, code, data};
use http::Method;
use http::Method as M;
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
        let res = t.message(who, whom, "hi").await;
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
        let send = t.message(who, other, "still there?").await;
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
    let sent = t.message(&spammer, alice_id, "buy now").await;
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
        .operator(
            "judge",
            "admin",
            &["reports:read", "reports:write", "users:ban"],
        )
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

/// Nobody messages, blocks or reports themselves: 40002 on `user_id`, saying what was tried.
#[tokio::test]
async fn nobody_acts_on_themselves() {
    let t = TestApp::new().await;
    let (token, me) = t.login("13800000001").await;
    let me = me.to_string();
    let tried = [
        (
            format!("/api/users/{me}/messages"),
            vec![("msg_type", "text"), ("content", "hi")],
            "message",
        ),
        (
            "/api/me/blocks/add".to_owned(),
            vec![("user_id", me.as_str())],
            "block",
        ),
        (
            "/api/reports".to_owned(),
            vec![
                ("user_id", me.as_str()),
                ("reason", "spam"),
                ("detail", "me"),
            ],
            "report",
        ),
    ];
    for (path, params, doing) in tried {
        let res = t.call(M::POST, &path, &params, Some(&token)).await;
        assert_eq!(
            (code(&res), res.json::<serde_json::Value>()["msg"].clone()),
            (
                40002,
                serde_json::json!(format!(
                    "bad parameter user_id: you cannot {doing} yourself"
                ))
            ),
            "{path}"
        );
    }
}
