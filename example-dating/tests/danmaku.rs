//! docs/src/dating/api/live.md and docs/src/dating/api/safety.md: danmaku on a live, mutes (until lifted, until they expire, until the live
//! ends), what finishing a live ends, and moderation (hiding a danmaku, slow mode).

mod common;

use common::{TestApp, code, data};
use http::Method;
use serde_json::Value;

const SHOPS: &str = "/manage/dating/shops/api";
const ADMIN: &str = "/manage/dating/admin/api";

#[tokio::test]
async fn danmaku_mutes_and_finishing_a_live() {
    let t = TestApp::new().await;
    let host = t.operator("host1", "host", &[]).await;
    let id = t.create_live(&host, "Chat with me").await;
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
    // Nobody to mute: an unknown id, or an account erased (its mutes went with it).
    let (gone, gone_id) = t.user("18900000999").await;
    let erased = t
        .call(Method::POST, "/api/me/delete", &[], Some(&gone))
        .await;
    assert_eq!(code(&erased), 0);
    let gone_id = gone_id.to_string();
    for (params, expected) in [
        (vec![("user_id", "999999")], 40401),
        (vec![("user_id", gone_id.as_str())], 40401),
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
    // Muting in a finished live is refused by the same guard; reading it is not.
    let mute = t
        .manage(
            Method::POST,
            &format!("{console}/forbid_send_msg.json"),
            &[("user_id", "1")],
            Some(&host),
        )
        .await;
    assert_eq!(code(&mute), 40901, "{}", mute.text());
    let shown = t
        .manage(
            Method::GET,
            &format!("{console}/show.json"),
            &[],
            Some(&host),
        )
        .await;
    assert_eq!(data(&shown)["status"], "finished");
    // The host may go on the air again.
    t.create_live(&host, "Next time").await;
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
            t.call(Method::POST, &front, &[("content", text)], Some(&viewer))
                .await
        }
    };
    let first = data(&post("first").await)["danmaku_id"].as_i64().unwrap();
    let second = data(&post("second").await)["danmaku_id"].as_i64().unwrap();
    let elsewhere = t
        .call(
            Method::POST,
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
            &t.manage(Method::POST, &delete(&shops, elsewhere), &[], Some(&host))
                .await
        ),
        40401
    );
    assert_eq!(
        code(
            &t.manage(Method::POST, &delete(&admins, first), &[], Some(&reader))
                .await
        ),
        40301
    );
    assert_eq!(
        code(
            &t.manage(Method::POST, &delete(&shops, first), &[], Some(&host))
                .await
        ),
        0
    );
    assert_eq!(
        code(
            &t.manage(Method::POST, &delete(&admins, second), &[], Some(&admin))
                .await
        ),
        0
    );
    let listed = data(&t.call(Method::GET, &front, &[], Some(&viewer)).await);
    assert!(
        listed["list"].as_array().unwrap().is_empty(),
        "hidden from the front: {listed}"
    );
    let console = data(
        &t.manage(
            Method::GET,
            &format!("{shops}/danmaku.json"),
            &[],
            Some(&host),
        )
        .await,
    );
    assert!(console["list"].as_array().unwrap().is_empty());

    let slow = format!("{shops}/slow_mode.json");
    assert_eq!(
        code(
            &t.manage(Method::POST, &slow, &[("seconds", "301")], Some(&host))
                .await
        ),
        40002
    );
    assert_eq!(
        code(
            &t.manage(Method::POST, &slow, &[("seconds", "30")], Some(&host))
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
            &t.manage(Method::POST, &off, &[("seconds", "0")], Some(&admin))
                .await
        ),
        0
    );
    assert_eq!(code(&post("three").await), 0, "slow mode off");
}

/// Slow mode and mutes together: a muted viewer is told 40304 whether or not their interval is
/// running (not when to retry), and a post refused for a mute spends no interval — lifted, the
/// mute leaves the viewer free to post at once.
#[tokio::test]
async fn a_muted_viewer_under_slow_mode_is_told_of_the_mute_and_spends_no_interval() {
    let t = TestApp::new().await;
    let host = t.operator("host", "host", &[]).await;
    let live = t.create_live(&host, "Slow and strict").await;
    let (talker, talker_id) = t.user("18900000031").await;
    let (quiet, quiet_id) = t.user("18900000032").await;
    let console = format!("{SHOPS}/live/{live}");
    let moderate = async |action: &str, params: &[(&str, &str)]| {
        let res = t
            .manage(
                Method::POST,
                &format!("{console}/{action}.json"),
                params,
                Some(&host),
            )
            .await;
        assert_eq!(code(&res), 0, "{action}: {}", data(&res));
    };
    let post = async |token: &str| {
        let path = format!("/api/live/{live}/danmaku");
        code(
            &t.call(Method::POST, &path, &[("content", "hi")], Some(token))
                .await,
        )
    };
    moderate("slow_mode", &[("seconds", "60")]).await;

    // Inside the interval, muted: the mute is what the viewer is told.
    assert_eq!(post(&talker).await, 0);
    let talker_param = talker_id.to_string();
    moderate("forbid_send_msg", &[("user_id", &talker_param)]).await;
    assert_eq!(post(&talker).await, 40304);
    moderate("unforbid_send_msg", &[("user_id", &talker_param)]).await;
    assert_eq!(post(&talker).await, 42901, "the interval still runs");

    // Muted before their first post: refused, and no interval taken.
    let quiet_param = quiet_id.to_string();
    moderate("forbid_send_msg", &[("user_id", &quiet_param)]).await;
    assert_eq!(post(&quiet).await, 40304);
    assert_eq!(post(&quiet).await, 40304);
    moderate("unforbid_send_msg", &[("user_id", &quiet_param)]).await;
    assert_eq!(post(&quiet).await, 0, "no interval was spent while muted");
    assert_eq!(post(&quiet).await, 42901);
}
