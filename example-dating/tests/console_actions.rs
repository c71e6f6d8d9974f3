//! The console's actions, in process: the ban where the tree allows it, audit rows for form and
//! JSON actions alike, the CSRF rule on every POST, product edits, and a live's feed.

mod common;

use common::console::{ADMIN, Browser, audit_rows};
use common::{TestApp, code, data};
use example_dating::db::entity::users::user_info;
use http::Method;
use sea_orm::{EntityTrait, QueryOrder};

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
        .manage(
            Method::POST,
            &format!("{page}/ban.json"),
            &[("reason", &"x".repeat(201))],
            Some(&token),
        )
        .await;
    assert_eq!(code(&res), 40002, "a reason past 200 characters");
    let rows = audit_rows(&t).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].action, "users.unban");
    // A ban by id alone (the contract lists `reason` without requiring it): done, and the
    // log says no reason was given.
    let res = t
        .manage(Method::POST, &format!("{page}/ban.json"), &[], Some(&token))
        .await;
    assert_eq!(
        (data(&res)["banned"].as_bool(), &data(&res)["ban_reason"]),
        (Some(true), &serde_json::Value::Null)
    );
    let rows = audit_rows(&t).await;
    assert_eq!(
        (rows.len(), rows[2].action.as_str(), rows[2].note.as_str()),
        (3, "users.ban", example_dating::manage::admin::NO_REASON)
    );
    let shown = banner.get(&page).await;
    assert!(
        shown.text().contains("banned: no reason given"),
        "{}",
        shown.text()
    );
    let log = banner.get(&format!("{ADMIN}/audit")).await;
    assert_eq!(log.status(), 200);
    assert!(log.text().contains("users.unban") && log.text().contains("users.ban"));
    assert_eq!(reader.get(&format!("{ADMIN}/audit")).await.status(), 403);
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
