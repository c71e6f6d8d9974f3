//! docs/src/dating/api/console.md: operators, the /manage renderer, roles, privileges, and the admin routes.

mod common;

use common::{TestApp, code, data};
use http::Method;

const SEARCH: &str = "/manage/dating/admin/api/users/search.json";

#[tokio::test]
async fn operators_log_in_with_name_and_password() {
    let t = TestApp::new().await;
    example_dating::manage::roster::add(
        &t.state.db,
        "alice",
        "admin",
        &["users:read".into()],
        "password-123",
    )
    .await
    .unwrap();
    let res = t
        .app
        .client()
        .post("/manage/login.json")
        .form(&[("name", "alice"), ("password", "password-123")])
        .send()
        .await;
    let session = data(&res);
    assert_eq!(
        (
            session["role"].as_str(),
            session["token"].as_str().unwrap().len()
        ),
        (Some("admin"), 32)
    );
    for (name, password) in [("alice", "wrong-password"), ("nobody", "password-123")] {
        let res = t
            .app
            .client()
            .post("/manage/login.json")
            .form(&[("name", name), ("password", password)])
            .send()
            .await;
        assert_eq!(code(&res), 40105, "{name}");
    }
    let res = t
        .app
        .client()
        .post("/manage/login.json")
        .form(&[("name", "alice")])
        .send()
        .await;
    assert_eq!(code(&res), 40001);
}

#[tokio::test]
async fn refusals_are_json_for_json_paths_and_a_plain_page_otherwise() {
    let t = TestApp::new().await;
    let res = t.manage(Method::GET, SEARCH, &[], None).await;
    assert_eq!(code(&res), 40105);
    let res = t
        .manage(
            Method::GET,
            "/manage/dating/admin/api/users/search",
            &[],
            None,
        )
        .await;
    // A page is a plain 401 (API.md §8): the login form, which brings a browser back here.
    assert_eq!(res.status(), 401);
    assert_eq!(res.header("location"), None);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    assert!(
        res.text()
            .contains(r#"name="next" value="/manage/dating/admin/api/users/search""#),
        "{}",
        res.text()
    );
    let res = t
        .manage(
            Method::GET,
            SEARCH,
            &[],
            Some("0123456789abcdef0123456789abcdef"),
        )
        .await;
    assert_eq!(code(&res), 40105, "unknown token");
    let admin = t.operator("root", "admin", &["users:read"]).await;
    let res = t
        .manage(
            Method::GET,
            "/manage/dating/admin/api/nothing",
            &[],
            Some(&admin),
        )
        .await;
    assert_eq!(
        (res.status().as_u16(), res.header("content-type")),
        (404, Some("text/html; charset=utf-8"))
    );
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                "/manage/dating/admin/api/nothing.json",
                &[],
                Some(&admin)
            )
            .await
        ),
        40401
    );
}

#[tokio::test]
async fn roles_and_privileges_guard_their_subtrees() {
    let t = TestApp::new().await;
    let host = t.operator("host1", "host", &[]).await;
    let reader = t.operator("reader", "admin", &["users:read"]).await;
    let nobody = t.operator("nobody", "admin", &[]).await;
    assert_eq!(
        code(&t.manage(Method::GET, SEARCH, &[], Some(&host)).await),
        40301,
        "a host is not an admin"
    );
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                "/manage/dating/shops/api/live/list.json",
                &[],
                Some(&reader)
            )
            .await
        ),
        40301,
        "an admin is not a host"
    );
    assert_eq!(
        code(&t.manage(Method::GET, SEARCH, &[], Some(&nobody)).await),
        40301,
        "no users:read"
    );
    assert_eq!(
        code(&t.manage(Method::GET, SEARCH, &[], Some(&reader)).await),
        0
    );
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                "/manage/dating/admin/api/orders/list.json",
                &[],
                Some(&reader)
            )
            .await
        ),
        40301
    );
}

#[tokio::test]
async fn admins_search_show_ban_and_unban_users() {
    let t = TestApp::new().await;
    let admin = t
        .operator("root", "admin", &["users:read", "users:ban"])
        .await;
    let (token, user) = t.login("18922986865").await;
    for q in ["u-1892", "18922986865", &user.to_string()] {
        let found = data(
            &t.manage(Method::GET, SEARCH, &[("q", q)], Some(&admin))
                .await,
        );
        assert_eq!(found["list"][0]["user_id"], user, "{q}");
        assert_eq!(
            found["list"][0]["phone"], "+8618922986865",
            "admins see the phone (in E.164)"
        );
    }
    let show = format!("/manage/dating/admin/api/users/{user}/show.json");
    assert_eq!(
        data(&t.manage(Method::GET, &show, &[], Some(&admin)).await)["banned"],
        false
    );
    assert_eq!(
        code(
            &t.manage(
                Method::GET,
                "/manage/dating/admin/api/users/999/show.json",
                &[],
                Some(&admin)
            )
            .await
        ),
        40401
    );

    let ban = format!("/manage/dating/admin/api/users/{user}/ban.json");
    assert_eq!(
        code(
            &t.manage(
                Method::POST,
                &ban,
                &[("reason", &"x".repeat(201))],
                Some(&admin)
            )
            .await
        ),
        40002,
        "a reason is at most 200 characters"
    );
    let banned = data(
        &t.manage(Method::POST, &ban, &[("reason", "spam")], Some(&admin))
            .await,
    );
    assert_eq!(
        (banned["banned"].as_bool(), banned["ban_reason"].as_str()),
        (Some(true), Some("spam"))
    );
    assert_eq!(
        code(&t.call(Method::GET, "/api/me", &[], Some(&token)).await),
        40105,
        "the ban ended the session"
    );
    t.a_minute_passes("18922986865").await;
    let sms = data(
        &t.call(
            Method::POST,
            "/api/auth/sendsms",
            &[("phone", "18922986865")],
            None,
        )
        .await,
    )["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                "/api/auth/login",
                &[("phone", "18922986865"), ("code", &sms)],
                None
            )
            .await
        ),
        40303
    );

    let unban = format!("/manage/dating/admin/api/users/{user}/unban.json");
    assert_eq!(
        data(&t.manage(Method::POST, &unban, &[], Some(&admin)).await)["banned"],
        false
    );
    t.a_minute_passes("18922986865").await;
    let (again, _) = t.login("18922986865").await;
    assert_eq!(
        code(&t.call(Method::GET, "/api/me", &[], Some(&again)).await),
        0
    );
}

#[tokio::test]
async fn the_policy_holds_on_the_whole_manage_tree() {
    let t = TestApp::new().await;
    t.app
        .audit()
        .under("/manage")
        .except("/manage/login.json")
        .except("/manage/login")
        .except("/manage/assets/live.js")
        .require("load_operator")
        .unwrap();
    t.app
        .audit()
        .under("/manage/dating/admin")
        .require("require_role(admin)")
        .unwrap();
    t.app
        .audit()
        .under("/manage/dating/shops")
        .require("require_role(host)")
        .unwrap();
    // Every admin route holds a privilege check besides the role.
    let unprivileged = t.app.audit().under("/manage/dating/admin").filter(|r| {
        !r.guards()
            .any(|s| s.name().starts_with("require_privilege"))
    });
    assert!(
        unprivileged.routes().is_empty(),
        "admin routes without a privilege: {:?}",
        unprivileged.routes()
    );
    // The shared live actions are mounted twice: once per subtree, each under its own loader.
    t.app
        .audit()
        .filter(|r| {
            r.path()
                .starts_with("/manage/dating/admin/api/live/{live_id}")
        })
        .require("load_any_live")
        .unwrap();
    t.app
        .audit()
        .filter(|r| {
            r.path()
                .starts_with("/manage/dating/shops/api/live/{live_id}")
        })
        .require("load_own_live")
        .unwrap();
}

/// The picture of the security policy in the docs is the tree as it is: regenerate it with
/// `UPDATE_POLICY=1 cargo test -p example-dating --test manage`.
#[tokio::test]
async fn the_documented_policy_is_the_printed_tree() {
    let t = TestApp::new().await;
    let tree = t.app.tree().to_string();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/dating/policy.md");
    let doc = format!(
        "# The security policy\n\nThis is the output of `example-dating routes`: every prefix of the API with the guards\nand loaders that protect it, then its routes with their own guards. A test compares it with\nthe tree, so it is always current.\n\n```text\n{tree}```\n"
    );
    if std::env::var("UPDATE_POLICY").is_ok() {
        std::fs::write(path, &doc).unwrap();
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        current == doc,
        "docs/src/dating/policy.md is out of date: run `UPDATE_POLICY=1 cargo test -p example-dating --test manage`"
    );
}
