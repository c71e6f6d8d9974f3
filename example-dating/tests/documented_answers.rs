//! docs/src/dating/api/operations.md: `/openapi.json` documents what every operation answers
//! on success — the envelope's `data`, field by field — and the answers are what it says. A
//! tour makes one successful request of every operation of the JSON API and checks each answer
//! against its documented schema (every field documented, every documented field present, of
//! its type); a route added to the tree fails here until the tour makes it, and its answer is
//! documented.
//!
//! The check is the small subset of JSON Schema in `common::schema` (the keywords the document
//! uses for answers; its own test is in tests/openapi.rs); patterns and formats are left to
//! schemathesis, which checks the same document against generated requests in CI
//! (tests/schemathesis.rs).

mod common;

use std::collections::BTreeSet;

use common::{TestApp, code, data, schema};
use example_dating::manage::operators::PRIVILEGES;
use http::Method;
use serde_json::Value;

/// Who makes a request of the tour.
#[derive(Clone, Copy)]
enum As<'a> {
    /// Nobody: the unsigned routes (`/healthz`, `/readyz`, the console's login).
    Anyone,
    /// A client app's signature, with a user's token if one is given.
    Client(Option<&'a str>),
    /// An operator's bearer token.
    Operator(&'a str),
    /// The payment provider's signature.
    Provider,
}

struct Tour<'a> {
    t: &'a TestApp,
    doc: Value,
    seen: BTreeSet<(String, String)>,
    wrong: Vec<String>,
}

impl Tour<'_> {
    /// Makes the request `route` names (`"POST /api/me/update"`: the method and the path as
    /// documented) on `path` (the documented one when empty), which must succeed; checks its
    /// answer against the document and returns its `data`.
    async fn visit(
        &mut self,
        who: As<'_>,
        route: &str,
        path: &str,
        params: &[(&str, &str)],
    ) -> Value {
        let (method, template) = route.split_once(' ').unwrap();
        let method: Method = method.parse().unwrap();
        let path = if path.is_empty() { template } else { path };
        let t = self.t;
        let res = match who {
            As::Anyone => t.manage(method.clone(), path, params, None).await,
            As::Client(token) => t.call(method.clone(), path, params, token).await,
            As::Operator(token) => t.manage(method.clone(), path, params, Some(token)).await,
            As::Provider => t.pay(params).await,
        };
        assert_eq!(code(&res), 0, "{route} ({path}): {}", res.text());
        let body: Value = res.json();
        let key = (method.as_str().to_lowercase(), template.to_owned());
        let documented = &self.doc["paths"][template][&key.0]["responses"]["200"];
        for (name, header) in documented["headers"].as_object().into_iter().flatten() {
            if header["required"] == true && res.header(name).is_none() {
                self.wrong.push(format!("{route}: no {name} header"));
            }
        }
        let schema = &documented["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{route} is not documented");
        for line in schema::violations(schema, &body, "") {
            self.wrong.push(format!("{route} {line}"));
        }
        self.seen.insert(key);
        body["data"].clone()
    }
}

const SHOPS: &str = "/manage/dating/shops/api";
const ADMIN: &str = "/manage/dating/admin/api";

/// One successful request of every enveloped operation, each answer checked against the
/// document; and the tour covers every operation the document lists.
#[tokio::test]
async fn every_answer_is_what_the_document_says() {
    let t = TestApp::new().await;
    let doc: Value = t.app.client().get("/openapi.json").send().await.json();
    let mut tour = Tour {
        t: &t,
        doc: doc.clone(),
        seen: BTreeSet::new(),
        wrong: Vec::new(),
    };
    let (me, me_id) = t.user("18900000101").await;
    let (them, them_id) = t.user("18900000102").await;
    let (spare, spare_id) = t.user("18900000103").await;
    let admin = t.operator("admin", "admin", &PRIVILEGES).await;
    let host = t.operator("host", "host", &[]).await;
    let (me_as, them_as, none) = (
        As::Client(Some(&me)),
        As::Client(Some(&them)),
        As::Client(None),
    );
    let (host_as, admin_as) = (As::Operator(&host), As::Operator(&admin));

    tour.visit(As::Anyone, "GET /healthz", "", &[]).await;
    tour.visit(As::Anyone, "GET /readyz", "", &[]).await;
    tour.visit(
        none,
        "POST /api/auth/sendsms",
        "",
        &[("phone", "18900000199")],
    )
    .await;
    let sms = t.send_code("18900000198").await;
    let login = [("phone", "18900000198"), ("code", sms.as_str())];
    let session = tour.visit(none, "POST /api/auth/login", "", &login).await;
    let departing = session["token"].as_str().unwrap().to_owned();

    // The caller's own profile.
    let profile = [
        ("nickname", "Mei"),
        ("birthday", "1990-01-02"),
        ("avatar", "https://a.example/m.png"),
    ];
    tour.visit(me_as, "POST /api/me/update", "", &profile).await;
    tour.visit(
        me_as,
        "POST /api/me/location",
        "",
        &[("lat", "31.2"), ("lng", "121.5")],
    )
    .await;
    tour.visit(
        them_as,
        "POST /api/me/location",
        "",
        &[("lat", "31.201"), ("lng", "121.5")],
    )
    .await;
    tour.visit(me_as, "GET /api/labels", "", &[]).await;
    tour.visit(me_as, "POST /api/me/labels", "", &[("label_ids", "1,2")])
        .await;
    let added = tour
        .visit(
            me_as,
            "POST /api/me/album/add",
            "",
            &[("photo", "https://a.example/1.png")],
        )
        .await;
    tour.visit(
        me_as,
        "POST /api/me/album/add",
        "",
        &[("photo", "https://a.example/2.png")],
    )
    .await;
    tour.visit(me_as, "GET /api/me/album", "", &[]).await;
    let photo = format!("/api/me/album/{}/delete", added["photo_id"]);
    tour.visit(me_as, "POST /api/me/album/{photo_id}/delete", &photo, &[])
        .await;
    tour.visit(me_as, "GET /api/me", "", &[]).await;

    // Other people: a visit, the lists, a conversation.
    tour.visit(
        them_as,
        "GET /api/users/{user_id}/show",
        &format!("/api/users/{me_id}/show"),
        &[],
    )
    .await;
    tour.visit(them_as, "GET /api/user/hot/list", "", &[]).await;
    tour.visit(them_as, "GET /api/user/nearby/list", "", &[])
        .await;
    let to_them = format!("/api/users/{them_id}/messages");
    let text = [("msg_type", "text"), ("content", "hello")];
    tour.visit(me_as, "POST /api/users/{user_id}/messages", &to_them, &text)
        .await;
    let audio = [
        ("msg_type", "audio"),
        ("audio", "https://a.example/a.mp3"),
        ("duration", "5"),
    ];
    let sent = tour
        .visit(
            me_as,
            "POST /api/users/{user_id}/messages",
            &to_them,
            &audio,
        )
        .await;
    let from_me = format!("/api/users/{me_id}/messages");
    tour.visit(them_as, "GET /api/users/{user_id}/messages", &from_me, &[])
        .await;
    tour.visit(
        them_as,
        "GET /api/users/{user_id}/messages",
        &from_me,
        &[("after_id", "0")],
    )
    .await;
    tour.visit(me_as, "GET /api/contacts", "", &[]).await;

    // Membership: an order paid, one cancelled.
    tour.visit(me_as, "GET /api/products", "", &[]).await;
    let order = tour
        .visit(me_as, "POST /api/orders", "", &[("product_id", "1")])
        .await;
    let shown = format!("/api/orders/{}/show", order["order_id"]);
    tour.visit(me_as, "GET /api/orders/{order_id}/show", &shown, &[])
        .await;
    let paid = [
        ("trade_no", order["trade_no"].as_str().unwrap()),
        ("fee", "30"),
        ("status", "SUCCESS"),
    ];
    tour.visit(As::Provider, "POST /pay/notify", "", &paid)
        .await;
    let second = data(
        &t.call(
            Method::POST,
            "/api/orders",
            &[("product_id", "2")],
            Some(&me),
        )
        .await,
    );
    let cancel = format!("/api/orders/{}/cancel", second["order_id"]);
    tour.visit(me_as, "POST /api/orders/{order_id}/cancel", &cancel, &[])
        .await;
    tour.visit(me_as, "GET /api/me/vip", "", &[]).await;
    tour.visit(me_as, "GET /api/vip/visitors", "", &[]).await;

    // Trust and safety.
    let spare_param = spare_id.to_string();
    tour.visit(
        me_as,
        "POST /api/me/blocks/add",
        "",
        &[("user_id", &spare_param)],
    )
    .await;
    tour.visit(me_as, "GET /api/me/blocks", "", &[]).await;
    let unblock = format!("/api/me/blocks/{spare_id}/delete");
    tour.visit(me_as, "POST /api/me/blocks/{user_id}/delete", &unblock, &[])
        .await;
    let (msg_id, them_param) = (sent["msg_id"].to_string(), them_id.to_string());
    let report = [
        ("user_id", them_param.as_str()),
        ("reason", "spam"),
        ("detail", "ads"),
        ("msg_id", msg_id.as_str()),
    ];
    let filed = tour.visit(me_as, "POST /api/reports", "", &report).await;
    tour.visit(me_as, "GET /api/me/export", "", &[]).await;

    // A live: the host's console, the front, then every live action under both consoles.
    let live = tour
        .visit(
            host_as,
            &format!("POST {SHOPS}/live/create.json"),
            "",
            &[("title", "a live")],
        )
        .await;
    let live_id = live["live_id"].to_string();
    tour.visit(host_as, &format!("GET {SHOPS}/live/list.json"), "", &[])
        .await;
    tour.visit(admin_as, &format!("GET {ADMIN}/live/list.json"), "", &[])
        .await;
    tour.visit(me_as, "GET /api/live/list", "", &[]).await;
    let front = format!("/api/live/{live_id}");
    tour.visit(
        me_as,
        "GET /api/live/{live_id}/show",
        &format!("{front}/show"),
        &[],
    )
    .await;
    let said = tour
        .visit(
            me_as,
            "POST /api/live/{live_id}/danmaku",
            &format!("{front}/danmaku"),
            &[("content", "hi")],
        )
        .await;
    tour.visit(
        me_as,
        "GET /api/live/{live_id}/danmaku",
        &format!("{front}/danmaku"),
        &[],
    )
    .await;
    let me_param = me_id.to_string();
    for (console, who) in [(SHOPS, host_as), (ADMIN, admin_as)] {
        let path = |action: &str| format!("{console}/live/{live_id}/{action}");
        let route =
            |method: &str, action: &str| format!("{method} {console}/live/{{live_id}}/{action}");
        for read in [
            "show.json",
            "push_url.json",
            "danmaku.json",
            "group_shutted_user.json",
        ] {
            tour.visit(who, &route("GET", read), &path(read), &[]).await;
        }
        let mute = [("user_id", me_param.as_str()), ("minutes", "5")];
        tour.visit(
            who,
            &route("POST", "forbid_send_msg.json"),
            &path("forbid_send_msg.json"),
            &mute,
        )
        .await;
        let unmute = [("user_id", me_param.as_str())];
        tour.visit(
            who,
            &route("POST", "unforbid_send_msg.json"),
            &path("unforbid_send_msg.json"),
            &unmute,
        )
        .await;
        tour.visit(
            who,
            &route("POST", "slow_mode.json"),
            &path("slow_mode.json"),
            &[("seconds", "10")],
        )
        .await;
        let hide = format!("danmaku/{}/delete.json", said["danmaku_id"]);
        tour.visit(
            who,
            &route("POST", "danmaku/{danmaku_id}/delete.json"),
            &path(&hide),
            &[],
        )
        .await;
    }
    let finish = format!("{SHOPS}/live/{live_id}/finish.json");
    tour.visit(
        host_as,
        &format!("POST {SHOPS}/live/{{live_id}}/finish.json"),
        &finish,
        &[],
    )
    .await;
    let again = t
        .manage(
            Method::POST,
            &format!("{SHOPS}/live/create.json"),
            &[("title", "again")],
            Some(&host),
        )
        .await;
    let finish = format!("{ADMIN}/live/{}/finish.json", data(&again)["live_id"]);
    tour.visit(
        admin_as,
        &format!("POST {ADMIN}/live/{{live_id}}/finish.json"),
        &finish,
        &[],
    )
    .await;

    // The admin's console: people, reports, products, orders, the audit log.
    let user = |action: &str| format!("{ADMIN}/users/{them_id}/{action}");
    tour.visit(
        admin_as,
        &format!("GET {ADMIN}/users/search.json"),
        "",
        &[("q", "Mei")],
    )
    .await;
    tour.visit(
        admin_as,
        &format!("GET {ADMIN}/users/{{user_id}}/show.json"),
        &user("show.json"),
        &[],
    )
    .await;
    let report = |action: &str| format!("{ADMIN}/reports/{}/{action}", filed["report_id"]);
    tour.visit(admin_as, &format!("GET {ADMIN}/reports/list.json"), "", &[])
        .await;
    tour.visit(
        admin_as,
        &format!("GET {ADMIN}/reports/{{report_id}}/show.json"),
        &report("show.json"),
        &[],
    )
    .await;
    let resolve = [("action", "dismiss"), ("note", "fine")];
    tour.visit(
        admin_as,
        &format!("POST {ADMIN}/reports/{{report_id}}/resolve.json"),
        &report("resolve.json"),
        &resolve,
    )
    .await;
    tour.visit(
        admin_as,
        &format!("POST {ADMIN}/users/{{user_id}}/ban.json"),
        &user("ban.json"),
        &[("reason", "spam")],
    )
    .await;
    tour.visit(
        admin_as,
        &format!("POST {ADMIN}/users/{{user_id}}/unban.json"),
        &user("unban.json"),
        &[],
    )
    .await;
    tour.visit(
        admin_as,
        &format!("GET {ADMIN}/products/list.json"),
        "",
        &[],
    )
    .await;
    let product = [
        ("name", "week"),
        ("desc", "VIP for 7 days"),
        ("vip_time", "7"),
        ("price", "9.9"),
    ];
    let created = tour
        .visit(
            admin_as,
            &format!("POST {ADMIN}/products/create.json"),
            "",
            &product,
        )
        .await;
    let edit = format!("{ADMIN}/products/{}/edit.json", created["product_id"]);
    tour.visit(
        admin_as,
        &format!("POST {ADMIN}/products/{{product_id}}/edit.json"),
        &edit,
        &[("price", "8")],
    )
    .await;
    tour.visit(admin_as, &format!("GET {ADMIN}/orders/list.json"), "", &[])
        .await;
    tour.visit(admin_as, &format!("GET {ADMIN}/audit/list.json"), "", &[])
        .await;

    // Sessions and accounts ending.
    let operator = [("name", "host"), ("password", "password-123")];
    tour.visit(As::Anyone, "POST /manage/login.json", "", &operator)
        .await;
    tour.visit(admin_as, "POST /manage/logout.json", "", &[])
        .await;
    tour.visit(
        As::Client(Some(&departing)),
        "POST /api/auth/logout",
        "",
        &[],
    )
    .await;
    tour.visit(As::Client(Some(&spare)), "POST /api/me/delete", "", &[])
        .await;

    assert!(
        tour.wrong.is_empty(),
        "answers that differ from the document:\n{}",
        tour.wrong.join("\n")
    );
    let untoured: Vec<String> = common::operations(&doc)
        .into_iter()
        .filter(|(m, p)| !schema::NOT_ENVELOPED.contains(&(m.as_str(), p.as_str())))
        .filter(|op| !tour.seen.contains(op))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        untoured.is_empty(),
        "operations the tour does not make (add them):\n{}",
        untoured.join("\n")
    );
}
