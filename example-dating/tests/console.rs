//! The operator console's pages, in process: cookie sessions, CSRF, pages and buttons decided
//! by the tree, audit rows written with the action. (tests/browser.rs drives the same pages in
//! a real Chromium.)

mod common;

use common::console::{ADMIN, Browser, audit_rows};
use common::{TestApp, code, data};
use example_dating::db::entity::users::user_info;
use http::Method;
use sea_orm::EntityTrait;

#[tokio::test]
async fn a_browser_logs_in_reads_pages_and_logs_out() {
    let t = TestApp::new().await;
    t.operator("root", "admin", &["users:read"]).await;
    // No session: every page is a 401 that shows the login form, which brings the browser
    // back to the page after it.
    let anonymous = Browser {
        t: &t,
        cookie: None,
    };
    let res = anonymous.get(&format!("{ADMIN}/users?q=a")).await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.header("location"), None);
    let html = res.text();
    assert!(html.contains(r#"action="/manage/login""#), "{html}");
    assert!(
        html.contains(&format!(r#"name="next" value="{ADMIN}/users?q=a""#)),
        "{html}"
    );
    // A form posted without a session is not repeated after the login: it goes home.
    let res = anonymous
        .post(&format!("{ADMIN}/users/1/ban"), &[("reason", "x")])
        .await;
    assert_eq!(res.status(), 401);
    assert!(
        res.text().contains(r#"name="next" value="/manage""#),
        "{}",
        res.text()
    );
    let form = anonymous.get("/manage/login").await;
    assert_eq!(form.status(), 200);
    assert!(form.text().contains(r#"name="password""#));

    let wrong = t
        .app
        .client()
        .post("/manage/login")
        .form(&[("name", "root"), ("password", "not it")])
        .send()
        .await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().contains("Wrong name or password."));
    assert!(wrong.header("set-cookie").is_none());

    let browser = Browser::log_in(&t, "root").await;
    let home = browser.get("/manage").await;
    assert_eq!(home.status(), 200);
    assert_eq!(home.header("cache-control"), Some("no-store"));
    let html = home.text();
    assert!(html.contains("root"), "{html}");
    // The sections are the tree's answer for this operator: users:read opens Users only.
    assert!(html.contains(&format!(r#"href="{ADMIN}/users""#)), "{html}");
    for closed in ["reports", "orders", "audit", "products"] {
        assert!(
            !html.contains(&format!(r#"href="{ADMIN}/{closed}""#)),
            "{closed}"
        );
    }
    assert!(!html.contains("/manage/dating/shops/api/live"));

    // A page the operator lacks the privilege for is a 403 page; a missing user a 404 page.
    let res = browser.get(&format!("{ADMIN}/reports")).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().contains("403 Forbidden"));
    let res = browser.get(&format!("{ADMIN}/users/999999")).await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    // The JSON API under the same nodes keeps its envelope.
    let res = browser
        .get(&format!("{ADMIN}/users/999999/show.json"))
        .await;
    assert_eq!(code(&res), 40401);

    // Logout needs the CSRF token too; then the cookie is gone and so is the session.
    let res = browser.post("/manage/logout", &[]).await;
    assert_eq!(res.status(), 403);
    let res = browser
        .post("/manage/logout", &[("csrf", &browser.csrf())])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.header("location"), Some("/manage/login"));
    assert!(res.header("set-cookie").unwrap().contains("Max-Age=0"));
    let res = browser.get("/manage").await;
    assert_eq!(res.status(), 401, "the old cookie no longer opens anything");
    assert!(res.text().contains(r#"name="password""#));
    let res = t
        .manage(
            Method::GET,
            "/manage/dating/admin/api/users/search.json",
            &[],
            Some(&browser.token()),
        )
        .await;
    assert_eq!(code(&res), 40105, "nor does its token as a bearer");
}

#[tokio::test]
async fn a_login_never_sends_the_browser_off_the_console() {
    let t = TestApp::new().await;
    t.operator("root", "admin", &[]).await;
    for next in [
        "https://evil.example/",
        "//evil.example",
        "/api/me",
        "/manage//x",
    ] {
        let res = t
            .app
            .client()
            .post("/manage/login")
            .form(&[
                ("name", "root"),
                ("password", "password-123"),
                ("next", next),
            ])
            .send()
            .await;
        assert_eq!(res.header("location"), Some("/manage"), "{next}");
    }
}

#[tokio::test]
async fn a_host_sees_only_their_own_lives_and_no_admin_section() {
    let t = TestApp::new().await;
    let host = t.operator("host1", "host", &[]).await;
    let other = t.operator("host2", "host", &[]).await;
    let mine = t.create_live(&host, "mine").await;
    let theirs = t.create_live(&other, "theirs").await;
    let browser = Browser::log_in(&t, "host1").await;
    let html = browser.get("/manage").await.text().to_owned();
    assert!(html.contains("/manage/dating/shops/api/live"));
    assert!(!html.contains(ADMIN), "{html}");
    let lives = browser.get("/manage/dating/shops/api/live").await;
    assert_eq!(lives.status(), 200);
    assert!(lives.text().contains(&format!("live/{mine}\"")));
    assert!(!lives.text().contains(&format!("live/{theirs}\"")));
    let page = format!("/manage/dating/shops/api/live/{mine}");
    let html = browser.get(&page).await.text().to_owned();
    assert!(
        html.contains(&format!(r#"action="{page}/finish""#)),
        "{html}"
    );
    assert_eq!(
        browser
            .get(&format!("/manage/dating/shops/api/live/{theirs}"))
            .await
            .status(),
        404
    );
    // A host's live finished from the page: audited, and the page says so.
    let res = browser
        .post(&format!("{page}/finish"), &[("csrf", &browser.csrf())])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.header("location"), Some(page.as_str()));
    assert!(browser.get(&page).await.text().contains("finished"));
    let rows = audit_rows(&t).await;
    let actions: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.operator_name.as_str(), r.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("host1", "live.create"),
            ("host2", "live.create"),
            ("host1", "live.finish")
        ]
    );
}

#[tokio::test]
async fn every_page_renders_for_an_admin_with_every_privilege() {
    let t = TestApp::new().await;
    let all: Vec<&str> = example_dating::manage::operators::PRIVILEGES.to_vec();
    t.operator("root", "admin", &all).await;
    let host = t.operator("host", "host", &[]).await;
    let live = t.create_live(&host, "on air").await;
    let (alice, alice_id) = t.user("13800000002").await;
    let (_, bob) = t.user("13800000003").await;
    let res = t
        .call(
            Method::POST,
            "/api/reports",
            &[("user_id", &bob.to_string()), ("reason", "spam")],
            Some(&alice),
        )
        .await;
    let report = data(&res)["report_id"].as_i64().unwrap();
    let browser = Browser::log_in(&t, "root").await;
    for page in [
        "/manage".to_owned(),
        format!("{ADMIN}/users"),
        format!("{ADMIN}/users?q=13800000002"),
        format!("{ADMIN}/users/{alice_id}"),
        format!("{ADMIN}/reports"),
        format!("{ADMIN}/reports?status=resolved"),
        format!("{ADMIN}/reports/{report}"),
        format!("{ADMIN}/orders"),
        format!("{ADMIN}/products"),
        format!("{ADMIN}/live"),
        format!("{ADMIN}/live/{live}"),
        format!("{ADMIN}/audit"),
    ] {
        let res = browser.get(&page).await;
        assert_eq!(res.status(), 200, "{page}: {}", res.text());
        assert!(res.text().starts_with("<!doctype html>"), "{page}");
        assert!(!res.text().contains("500 Internal"), "{page}");
    }
    // Nothing is listed (nor counted) before a search.
    let html = browser
        .get(&format!("{ADMIN}/users"))
        .await
        .text()
        .to_owned();
    assert!(
        !html.contains("<table>") && html.contains("Search by"),
        "{html}"
    );
    // A list links its next page, keeping its search.
    let html = browser
        .get(&format!("{ADMIN}/users?q=u-138&pageCount=1"))
        .await
        .text()
        .to_owned();
    assert!(
        html.contains(r#"href="?q=u-138&amp;page=2">Next</a>"#),
        "{html}"
    );
    assert!(!html.contains("Previous"));
    // The report page offers the ban to an admin who may ban, and resolving bans.
    let page = format!("{ADMIN}/reports/{report}");
    assert!(browser.get(&page).await.text().contains(r#"value="ban""#));
    let res = browser
        .post(
            &format!("{page}/resolve"),
            &[
                ("csrf", &browser.csrf()),
                ("action", "ban"),
                ("note", "confirmed"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(browser.get(&page).await.text().contains("resolved (ban)"));
    let row = user_info::Entity::find_by_id(bob)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.banned);
    let last = audit_rows(&t).await.pop().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.target.as_str(),
            last.note.as_str()
        ),
        (
            "reports.resolve",
            format!("report:{report}").as_str(),
            "ban: confirmed"
        )
    );
}

#[tokio::test]
async fn the_cookie_is_secure_when_a_trusted_proxy_says_the_browser_came_over_tls() {
    let mut config = common::config();
    config.trusted_proxies =
        example_dating::client_ip::TrustedProxies::parse(["10.0.0.1"]).unwrap();
    let t = TestApp::with(
        config,
        "sqlite::memory:",
        std::sync::Arc::new(example_dating::store::MemoryStore::new()),
    )
    .await;
    t.operator("root", "admin", &[]).await;
    let login = |peer: &'static str| {
        let t = &t;
        async move {
            let res = t
                .app
                .client()
                .post("/manage/login")
                .peer(peer.parse().unwrap())
                .header("x-forwarded-proto", "https")
                .form(&[("name", "root"), ("password", "password-123")])
                .send()
                .await;
            res.header("set-cookie").unwrap().to_owned()
        }
    };
    assert!(login("10.0.0.1:5000").await.ends_with("; Secure"));
    // Anyone else saying so is not believed (and a plain-HTTP browser would drop the cookie).
    assert!(!login("192.0.2.7:5000").await.contains("Secure"));
}
