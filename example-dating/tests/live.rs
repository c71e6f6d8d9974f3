//! API.md §7–8: live rooms, from the host's console, the admin's, and the front.

mod common;

use common::{TestApp, code, data};
use http::Method;
use serde_json::Value;

const SHOPS: &str = "/manage/dating/shops/api";
const ADMIN: &str = "/manage/dating/admin/api";

async fn create_live(t: &TestApp, host: &str, title: &str) -> i64 {
    let live = data(
        &t.manage(
            Method::POST,
            &format!("{SHOPS}/live/create.json"),
            &[("title", title)],
            Some(host),
        )
        .await,
    );
    assert_eq!(live["status"], "on_air");
    live["live_id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_host_runs_only_their_own_lives() {
    let t = TestApp::new().await;
    let host = t.operator("host1", "host", &[]).await;
    let other = t.operator("host2", "host", &[]).await;
    let id = create_live(&t, &host, "Evening talk").await;
    assert_eq!(
        code(
            &t.manage(
                Method::POST,
                &format!("{SHOPS}/live/create.json"),
                &[("title", "Second")],
                Some(&host)
            )
            .await
        ),
        40901,
        "one on the air per host"
    );
    assert_eq!(
        code(
            &t.manage(
                Method::POST,
                &format!("{SHOPS}/live/create.json"),
                &[("title", "")],
                Some(&other)
            )
            .await
        ),
        40001
    );

    let base = format!("{SHOPS}/live/{id}");
    for (method, action) in [
        (Method::GET, "show.json"),
        (Method::GET, "push_url.json"),
        (Method::POST, "finish.json"),
        (Method::GET, "danmaku.json"),
        (Method::POST, "forbid_send_msg.json"),
        (Method::GET, "group_shutted_user.json"),
    ] {
        let res = t
            .manage(
                method.clone(),
                &format!("{base}/{action}"),
                &[("user_id", "1")],
                Some(&other),
            )
            .await;
        assert_eq!(code(&res), 40401, "another host's live, {action}");
    }
    let show = data(
        &t.manage(Method::GET, &format!("{base}/show.json"), &[], Some(&host))
            .await,
    );
    assert_eq!(
        (show["title"].as_str(), show["host_name"].as_str()),
        (Some("Evening talk"), Some("host1"))
    );
    let mine = data(
        &t.manage(
            Method::GET,
            &format!("{SHOPS}/live/list.json"),
            &[],
            Some(&host),
        )
        .await,
    );
    assert_eq!(mine["total"], 1);
    assert_eq!(
        data(
            &t.manage(
                Method::GET,
                &format!("{SHOPS}/live/list.json"),
                &[],
                Some(&other)
            )
            .await
        )["total"],
        0
    );
}

#[tokio::test]
async fn push_urls_are_signed_and_expire() {
    let t = TestApp::new().await;
    let host = t.operator("host1", "host", &[]).await;
    let id = create_live(&t, &host, "Push").await;
    let url = data(
        &t.manage(
            Method::GET,
            &format!("{SHOPS}/live/{id}/push_url.json"),
            &[],
            Some(&host),
        )
        .await,
    )["push_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let stream = format!("live_{id}");
    assert!(
        url.starts_with(&format!(
            "rtmp://push.example.invalid/live/{stream}?txSecret="
        )),
        "{url}"
    );
    let tx_time = url.rsplit("txTime=").next().unwrap();
    let expiry = i64::from_str_radix(tx_time, 16).unwrap();
    let now = example_dating::clock::now();
    assert!((expiry - now - 24 * 3600).abs() <= 5, "valid for a day");
    use md5::Digest;
    let secret = example_dating::signing::hex(&md5::Md5::digest(
        format!("dev-push-key{stream}{tx_time}").as_bytes(),
    ));
    assert!(url.contains(&format!("txSecret={secret}&")), "{url}");
}

#[tokio::test]
async fn admins_read_with_live_read_and_act_with_live_write() {
    let t = TestApp::new().await;
    let host = t.operator("host1", "host", &[]).await;
    let reader = t.operator("reader", "admin", &["live:read"]).await;
    let writer = t
        .operator("writer", "admin", &["live:read", "live:write"])
        .await;
    let id = create_live(&t, &host, "Any host's").await;
    let base = format!("{ADMIN}/live/{id}");
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                &format!("{base}/show.json"),
                &[],
                Some(&reader)
            )
            .await
        ),
        0,
        "any host's live"
    );
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                &format!("{base}/danmaku.json"),
                &[],
                Some(&reader)
            )
            .await
        ),
        0
    );
    assert_eq!(
        code(
            &t.manage(
                Method::POST,
                &format!("{base}/finish.json"),
                &[],
                Some(&reader)
            )
            .await
        ),
        40301,
        "no live:write"
    );
    assert_eq!(
        data(
            &t.manage(
                Method::GET,
                &format!("{ADMIN}/live/list.json"),
                &[("status", "on_air")],
                Some(&reader)
            )
            .await
        )["total"],
        1
    );
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                &format!("{ADMIN}/live/list.json"),
                &[("status", "paused")],
                Some(&reader)
            )
            .await
        ),
        40002
    );
    assert_eq!(
        data(
            &t.manage(
                Method::POST,
                &format!("{base}/finish.json"),
                &[],
                Some(&writer)
            )
            .await
        )["status"],
        "finished"
    );
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                &format!("{base}/show.json"),
                &[],
                Some(&reader)
            )
            .await
        ),
        0,
        "admins see finished lives"
    );
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                &format!("{ADMIN}/live/999/show.json"),
                &[],
                Some(&reader)
            )
            .await
        ),
        40401
    );
}

#[tokio::test]
async fn danmaku_mutes_and_finishing_a_live() {
    let t = TestApp::new().await;
    let host = t.operator("host1", "host", &[]).await;
    let id = create_live(&t, &host, "Chat with me").await;
    let (viewer, viewer_id) = t.user("18900000001").await;
    let (other, _) = t.user("18900000002").await;
    let front = format!("/api/live/{id}");
    let console = format!("{SHOPS}/live/{id}");

    let list = data(
        &t.call(Method::GET, "/api/live/list", &[], Some(&viewer))
            .await,
    );
    assert_eq!(list["list"][0]["live_id"], id);
    assert_eq!(
        data(
            &t.call(Method::GET, &format!("{front}/show"), &[], Some(&viewer))
                .await
        )["host_name"],
        "host1"
    );

    for i in 0..3 {
        let said = data(
            &t.call(
                Method::POST,
                &format!("{front}/danmaku"),
                &[("content", &format!("hello {i}"))],
                Some(&viewer),
            )
            .await,
        );
        assert_eq!(
            (said["live_id"].as_i64(), said["user_id"].as_i64()),
            (Some(id), Some(viewer_id))
        );
    }
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                &format!("{front}/danmaku"),
                &[("content", &"x".repeat(101))],
                Some(&viewer)
            )
            .await
        ),
        40002
    );
    let page = data(
        &t.call(
            Method::GET,
            &format!("{front}/danmaku"),
            &[("limit", "2")],
            Some(&other),
        )
        .await,
    );
    let contents: Vec<&str> = page["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["hello 0", "hello 1"], "oldest first");
    let after = page["next_after_id"].as_i64().unwrap().to_string();
    let rest = data(
        &t.call(
            Method::GET,
            &format!("{front}/danmaku"),
            &[("after_id", &after)],
            Some(&other),
        )
        .await,
    );
    assert_eq!(rest["list"].as_array().unwrap().len(), 1);
    assert_eq!(
        code(
            &t.call(
                Method::GET,
                &format!("{front}/danmaku"),
                &[("limit", "201")],
                Some(&other)
            )
            .await
        ),
        40002
    );

    // Muted until unmuted.
    let uid = viewer_id.to_string();
    assert_eq!(
        code(
            &t.manage(
                Method::POST,
                &format!("{console}/forbid_send_msg.json"),
                &[("user_id", &uid)],
                Some(&host)
            )
            .await
        ),
        0
    );
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                &format!("{front}/danmaku"),
                &[("content", "let me speak")],
                Some(&viewer)
            )
            .await
        ),
        40304
    );
    let muted = data(
        &t.manage(
            Method::GET,
            &format!("{console}/group_shutted_user.json"),
            &[],
            Some(&host),
        )
        .await,
    );
    assert_eq!(
        (
            muted["list"][0]["user_id"].as_i64(),
            muted["list"][0]["until"].clone()
        ),
        (Some(viewer_id), Value::Null)
    );
    assert_eq!(
        code(
            &t.manage(
                Method::POST,
                &format!("{console}/unforbid_send_msg.json"),
                &[("user_id", &uid)],
                Some(&host)
            )
            .await
        ),
        0
    );
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                &format!("{front}/danmaku"),
                &[("content", "thanks")],
                Some(&viewer)
            )
            .await
        ),
        0
    );

    // Muted for ten minutes, then the time passes.
    let forbid = t
        .manage(
            Method::POST,
            &format!("{console}/forbid_send_msg.json"),
            &[("user_id", &uid), ("minutes", "10")],
            Some(&host),
        )
        .await;
    assert!(data(&forbid)["until"].is_string());
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                &format!("{front}/danmaku"),
                &[("content", "again")],
                Some(&viewer)
            )
            .await
        ),
        40304
    );
    {
        use example_dating::db::entity::rooms::live_mute;
        use sea_orm::EntityTrait;
        use sea_orm::sea_query::Expr;
        live_mute::Entity::update_many()
            .col_expr(
                live_mute::Column::Until,
                Expr::value(example_dating::clock::now() - 1),
            )
            .exec(&t.state.db)
            .await
            .unwrap();
    }
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                &format!("{front}/danmaku"),
                &[("content", "free again")],
                Some(&viewer)
            )
            .await
        ),
        0,
        "the mute expired"
    );
    for (params, expected) in [
        (vec![("user_id", "999999")], 40002),
        (vec![("user_id", uid.as_str()), ("minutes", "0")], 40002),
        (vec![], 40001),
    ] {
        assert_eq!(
            code(
                &t.manage(
                    Method::POST,
                    &format!("{console}/forbid_send_msg.json"),
                    &params,
                    Some(&host)
                )
                .await
            ),
            expected,
            "{params:?}"
        );
    }

    // Finishing ends it for everyone; its mutes lapse.
    t.manage(
        Method::POST,
        &format!("{console}/forbid_send_msg.json"),
        &[("user_id", &uid)],
        Some(&host),
    )
    .await;
    assert_eq!(
        data(
            &t.manage(
                Method::POST,
                &format!("{console}/finish.json"),
                &[],
                Some(&host)
            )
            .await
        )["status"],
        "finished"
    );
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                &format!("{front}/danmaku"),
                &[("content", "late")],
                Some(&other)
            )
            .await
        ),
        40401
    );
    assert_eq!(
        code(
            &t.call(Method::GET, &format!("{front}/show"), &[], Some(&other))
                .await
        ),
        40401
    );
    assert_eq!(
        data(
            &t.call(Method::GET, "/api/live/list", &[], Some(&other))
                .await
        )["total"],
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
        )["list"],
        serde_json::json!([])
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
        40901
    );
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                &format!("{console}/push_url.json"),
                &[],
                Some(&host)
            )
            .await
        ),
        40901
    );
    // The host may go on the air again.
    create_live(&t, &host, "Next time").await;
}
