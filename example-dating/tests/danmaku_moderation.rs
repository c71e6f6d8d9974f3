//! docs/src/dating/api/safety.md: moderating a live's danmaku under admin and shops alike —
//! hiding one, and slow mode, with and without a mute.

mod common;

use common::{TestApp, code, data};
use http::Method;

const SHOPS: &str = "/manage/dating/shops/api";
const ADMIN: &str = "/manage/dating/admin/api";

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
