//! docs/src/dating/api/live.md and docs/src/dating/api/console.md: live rooms, from the host's console, the admin's, and the front.

mod common;

use common::{TestApp, code, data};
use http::Method;

const SHOPS: &str = "/manage/dating/shops/api";
const ADMIN: &str = "/manage/dating/admin/api";

#[tokio::test]
async fn a_host_runs_only_their_own_lives() {
    let t = TestApp::new().await;
    let host = t.operator("host1", "host", &[]).await;
    let other = t.operator("host2", "host", &[]).await;
    let id = t.create_live(&host, "Evening talk").await;
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
    let id = t.create_live(&host, "Push").await;
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
    let secret = example_dating::hex::encode(&md5::Md5::digest(
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
    let id = t.create_live(&host, "Any host's").await;
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
