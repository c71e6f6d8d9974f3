//! The operator console's pages, in process: cookie sessions, CSRF, pages and buttons decided
//! by the tree, audit rows written with the action. (tests/browser.rs drives the same pages in
//! a real Chromium.)

mod common;

use common::{TestApp, code, data};
use example_dating::db::entity::safety::audit_log;
use example_dating::db::entity::users::user_info;
use example_dating::manage::cookie::csrf_of;
use http::Method;
use kotori::test::TestResponse;
use sea_orm::{EntityTrait, QueryOrder};

const ADMIN: &str = "/manage/dating/admin/api";

/// A browser's session: the cookie the login form set.
struct Browser<'a> {
    t: &'a TestApp,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    /// Logs in through the form; asserts what the cookie says about itself.
    async fn log_in(t: &'a TestApp, name: &str) -> Browser<'a> {
        let res = t
            .app
            .client()
            .post("/manage/login")
            .form(&[
                ("name", name),
                ("password", "password-123"),
                ("next", "/manage"),
            ])
            .send()
            .await;
        assert_eq!(res.status(), 303, "{}", res.text());
        assert_eq!(res.header("location"), Some("/manage"));
        let set = res.header("set-cookie").unwrap().to_owned();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/manage", "Max-Age="] {
            assert!(set.contains(attribute), "{set}");
        }
        // Served over plain HTTP here: the cookie is not marked Secure.
        assert!(!set.contains("Secure"), "{set}");
        let cookie = set.split(';').next().unwrap().to_owned();
        Browser {
            t,
            cookie: Some(cookie),
        }
    }

    fn token(&self) -> String {
        self.cookie
            .as_ref()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned()
    }

    fn csrf(&self) -> String {
        csrf_of(&self.token())
    }

    async fn get(&self, path: &str) -> TestResponse {
        let mut req = self.t.app.client().get(path);
        if let Some(cookie) = &self.cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> TestResponse {
        let mut req = self.t.app.client().post(path).form(form);
        if let Some(cookie) = &self.cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await
    }
}

async fn audit_rows(t: &TestApp) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Id)
        .all(&t.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_browser_logs_in_reads_pages_and_logs_out() {
    let t = TestApp::new().await;
    t.operator("root", "admin", &["users:read"]).await;
    // No session: every page sends the browser to the login form, and back after it.
    let anonymous = Browser {
        t: &t,
        cookie: None,
    };
    let res = anonymous.get(&format!("{ADMIN}/users?q=a")).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.header("location"),
        Some("/manage/login?next=%2Fmanage%2Fdating%2Fadmin%2Fapi%2Fusers%3Fq%3Da")
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
    assert_eq!(res.status(), 303, "the old cookie no longer opens anything");
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
async fn the_ban_button_is_where_the_tree_allows_it_and_every_ban_is_audited() {
    let t = TestApp::new().await;
    let (_, user) = t.user("13800000001").await;
    t.operator("reader", "admin", &["users:read"]).await;
    t.operator(
        "banner",
        "admin",
        &["users:read", "users:ban", "audit:read"],
    )
    .await;
    let page = format!("{ADMIN}/users/{user}");

    let reader = Browser::log_in(&t, "reader").await;
    let html = reader.get(&page).await.text().to_owned();
    assert!(html.contains("active"), "{html}");
    assert!(
        !html.contains(&format!("{user}/ban")),
        "no ban form for a reader"
    );
    // And the form itself is refused to them, CSRF token or not.
    let res = reader
        .post(
            &format!("{page}/ban"),
            &[("csrf", &reader.csrf()), ("reason", "x")],
        )
        .await;
    assert_eq!(res.status(), 403);

    let banner = Browser::log_in(&t, "banner").await;
    let html = banner.get(&page).await.text().to_owned();
    assert!(html.contains(&format!(r#"action="{user}/ban""#)), "{html}");
    assert!(html.contains(&format!(r#"name="csrf" value="{}""#, banner.csrf())));

    // Without the session's CSRF token (or with another session's) nothing happens.
    for csrf in [None, Some(reader.csrf())] {
        let mut form = vec![("reason", "spam")];
        if let Some(csrf) = &csrf {
            form.push(("csrf", csrf));
        }
        let res = banner.post(&format!("{page}/ban"), &form).await;
        assert_eq!(res.status(), 403);
        assert!(res.text().contains("CSRF"));
    }
    assert!(audit_rows(&t).await.is_empty());
    let row = user_info::Entity::find_by_id(user)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.banned);

    let res = banner
        .post(
            &format!("{page}/ban"),
            &[
                ("csrf", &banner.csrf()),
                ("reason", "spam"),
                ("back", &page),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text());
    assert_eq!(res.header("location"), Some(page.as_str()));
    let html = banner.get(&page).await.text().to_owned();
    assert!(html.contains("banned: spam"), "{html}");
    assert!(html.contains(&format!(r#"action="{user}/unban""#)));
    let row = user_info::Entity::find_by_id(user)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.banned);
    let rows = audit_rows(&t).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].operator_name.as_str(),
            rows[0].action.as_str(),
            rows[0].target.as_str(),
            rows[0].note.as_str()
        ),
        (
            "banner",
            "users.ban",
            format!("user:{user}").as_str(),
            "spam"
        )
    );

    // The JSON API is the same action: audited the same way. A refused action writes nothing.
    let token = banner.token();
    let res = t
        .manage(
            Method::POST,
            &format!("{page}/unban.json"),
            &[],
            Some(&token),
        )
        .await;
    assert_eq!(data(&res)["banned"], false);
    let res = t
        .manage(Method::POST, &format!("{page}/ban.json"), &[], Some(&token))
        .await;
    assert_eq!(code(&res), 40001, "no reason");
    let rows = audit_rows(&t).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].action, "users.unban");
    let log = banner.get(&format!("{ADMIN}/audit")).await;
    assert_eq!(log.status(), 200);
    assert!(log.text().contains("users.unban") && log.text().contains("users.ban"));
    assert_eq!(reader.get(&format!("{ADMIN}/audit")).await.status(), 403);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_feed_carries_its_danmaku_and_ends_at_logout() {
    use example_dating::db::entity::rooms::operator;
    use sea_orm::{ColumnTrait, QueryFilter};
    let t = TestApp::new().await;
    t.operator("root", "admin", &["live:read", "live:write"])
        .await;
    let host = t.operator("host", "host", &[]).await;
    let live = t.create_live(&host, "on air").await;
    let (viewer, _) = t.user("13800000021").await;
    let root = operator::Entity::find()
        .filter(operator::Column::Name.eq("root"))
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    let browser = Browser::log_in(&t, "root").await;
    let (app, cookie) = (t.app.clone(), browser.cookie.clone().unwrap());
    let path = format!("{ADMIN}/live/{live}/feed");
    let feed = tokio::spawn(async move {
        let res = app
            .client()
            .get(&path)
            .header("cookie", &cookie)
            .send()
            .await;
        (res.status(), res.text().to_owned())
    });
    // The feed is subscribed once its connection is in the hub.
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while t.state.hub.connections_of(-root.id) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the feed registers with the hub");
    let res = t
        .call(
            Method::POST,
            &format!("/api/live/{live}/danmaku"),
            &[("content", "hello feed")],
            Some(&viewer),
        )
        .await;
    assert_eq!(code(&res), 0);
    // Logging out ends the session's feeds: the stream finishes, with what it carried.
    let res = browser
        .post("/manage/logout", &[("csrf", &browser.csrf())])
        .await;
    assert_eq!(res.status(), 303);
    let (status, body) = tokio::time::timeout(std::time::Duration::from_secs(10), feed)
        .await
        .expect("logout ends the feed")
        .unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("event: danmaku"), "{body}");
    assert!(body.contains("hello feed"), "{body}");
}

/// The CSRF rule is in the session loader, so no route can forget it: every `POST` under
/// `/manage` that a cookie carries without the session's token is refused before anything
/// below the loader runs — pages' forms and JSON routes alike.
#[tokio::test]
async fn every_post_a_cookie_carries_without_the_csrf_token_is_refused() {
    let t = TestApp::new().await;
    let all: Vec<&str> = example_dating::manage::operators::PRIVILEGES.to_vec();
    t.operator("root", "admin", &all).await;
    let browser = Browser::log_in(&t, "root").await;
    let posts: Vec<String> = t
        .app
        .routes()
        .iter()
        .filter(|r| r.method().as_str() == "POST" && r.path().starts_with("/manage"))
        .map(|r| r.path().to_owned())
        .filter(|p| !p.starts_with("/manage/login"))
        .collect();
    assert!(posts.len() >= 34, "{posts:?}");
    for path in posts {
        // Any id: the refusal comes before the loaders that would look it up.
        let path = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for form in [vec![], vec![("csrf", "0".repeat(32))]] {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = browser.post(&path, &form).await;
            assert_eq!(res.status(), 403, "{path}: {}", res.text());
            if path.ends_with(".json") {
                assert_eq!(code(&res), 40301, "{path}");
            }
        }
    }
    assert!(audit_rows(&t).await.is_empty());
    // The session itself still works: the refusals ended nothing.
    assert_eq!(browser.get("/manage").await.status(), 200);
}

#[tokio::test]
async fn a_product_is_edited_from_its_form_where_the_tree_allows_it() {
    use example_dating::db::entity::commerce::product;
    let t = TestApp::new().await;
    t.operator("reader", "admin", &["products:read"]).await;
    t.operator("seller", "admin", &["products:read", "products:write"])
        .await;
    let first = product::Entity::find()
        .order_by_asc(product::Column::Id)
        .one(&t.state.db)
        .await
        .unwrap()
        .expect("the seeded products");
    let page = format!("{ADMIN}/products");
    let form = format!(r#"action="products/{}/edit""#, first.id);

    let reader = Browser::log_in(&t, "reader").await;
    let html = reader.get(&page).await.text().to_owned();
    assert!(html.contains(&first.name), "{html}");
    assert!(!html.contains(&form) && !html.contains("New product"));

    let seller = Browser::log_in(&t, "seller").await;
    let html = seller.get(&page).await.text().to_owned();
    assert!(
        html.contains(&form) && html.contains("New product"),
        "{html}"
    );
    let res = seller
        .post(
            &format!("{page}/{}/edit", first.id),
            &[
                ("csrf", &seller.csrf()),
                ("name", "Renamed"),
                ("desc", &first.description),
                ("vip_time", &first.vip_days.to_string()),
                ("price", "12.34"),
                ("active", "false"),
                ("back", &page),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text());
    assert_eq!(res.header("location"), Some(page.as_str()));
    let row = product::Entity::find_by_id(first.id)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.name.as_str(), row.price_cents, row.active),
        ("Renamed", 1234, false)
    );
    let last = audit_rows(&t).await.pop().unwrap();
    assert_eq!(
        (
            last.operator_name.as_str(),
            last.action.as_str(),
            last.target.as_str()
        ),
        (
            "seller",
            "products.edit",
            format!("product:{}", first.id).as_str()
        )
    );
}
