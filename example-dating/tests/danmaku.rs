//! docs/src/dating/api/live.md: danmaku on a live, mutes (until lifted, until they expire, until
//! the live ends) and what finishing a live ends; moderation is in tests/danmaku_moderation.rs.

mod common;

use common::{TestApp, code, data};
use http::Method;
use serde_json::Value;

const SHOPS: &str = "/manage/dating/shops/api";

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
