//! Every surface that shows a person, against every relation a viewer can have to that person:
//! one row per surface, one column per relation, each cell observed through the API on a world
//! of its own. A route under `/api` that is neither a row here nor listed in `SHOWS_NO_ONE_ELSE`
//! fails `every_api_route_is_classified`: a new surface cannot be added without a row.

mod common;

use common::{TestApp, code, data};
use http::Method;
use serde_json::Value;

/// How the viewer V stands to the subject S.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Relation {
    Everyone,
    Hidden,
    ContactsOnlyContact,
    ContactsOnlyStranger,
    BlockedByViewer,
    BlockingViewer,
    Banned,
    Deleted,
}

const RELATIONS: [Relation; 8] = [
    Relation::Everyone,
    Relation::Hidden,
    Relation::ContactsOnlyContact,
    Relation::ContactsOnlyStranger,
    Relation::BlockedByViewer,
    Relation::BlockingViewer,
    Relation::Banned,
    Relation::Deleted,
];

const T: bool = true;
const F: bool = false;

/// Whether S appears to V on each surface, by relation (in the order of [`RELATIONS`]).
/// Profiles and lists follow `people::may_see`; the hot list ranks the public only (a
/// contacts-only person is not on it, docs/src/dating/decisions.md); conversations and danmaku
/// are what was said, hidden only by a block; V's block list holds whom V blocked; operators
/// see every account that was not erased.
const MATRIX: &[(&str, [bool; 8])] = &[
    ("GET /api/users/{user_id}/show", [T, F, T, F, F, F, F, F]),
    (
        "POST /api/users/{user_id}/messages",
        [T, F, T, F, F, F, F, F],
    ),
    (
        "GET /api/users/{user_id}/messages",
        [T, F, T, F, F, F, F, F],
    ),
    ("GET /api/user/hot/list", [T, F, F, F, F, F, F, F]),
    ("GET /api/user/nearby/list", [T, F, T, F, F, F, F, F]),
    ("GET /api/vip/visitors", [T, F, T, F, F, F, F, F]),
    ("GET /api/me/export", [T, F, T, F, F, F, F, F]),
    // The export's conversation: what was said, named like the contacts list names it.
    ("GET /api/me/export: messages", [T, T, T, F, F, F, T, T]),
    ("GET /api/me/export: contacts", [T, T, T, F, F, F, T, T]),
    ("GET /api/contacts", [T, T, T, F, F, F, T, T]),
    ("GET /api/live/{live_id}/danmaku", [T, T, T, T, F, F, T, T]),
    ("GET /api/me/blocks", [F, F, F, F, T, F, F, F]),
    (
        "GET /manage/dating/admin/api/users/search.json",
        [T, T, T, T, T, T, T, F],
    ),
];

/// Routes under `/api` that show nobody but the caller (or things, not people), and why.
const SHOWS_NO_ONE_ELSE: &[&str] = &[
    "POST /api/auth/sendsms",
    "POST /api/auth/login",
    "POST /api/auth/logout",
    // Real time: the hub drops events of anyone blocked either way (tests/realtime.rs).
    "GET /api/ws",
    "GET /api/events",
    "GET /api/labels",
    "GET /api/products",
    "GET /api/me",
    "POST /api/me/update",
    "POST /api/me/location",
    "POST /api/me/labels",
    "GET /api/me/vip",
    "GET /api/me/album",
    "POST /api/me/album/add",
    "POST /api/me/album/{photo_id}/delete",
    "POST /api/me/blocks/add",
    "POST /api/me/blocks/{user_id}/delete",
    "POST /api/me/delete",
    "POST /api/reports",
    // Lives are hosted by operators; viewers appear only as danmaku authors (a row above).
    "GET /api/live/list",
    "GET /api/live/{live_id}/show",
    "POST /api/live/{live_id}/danmaku",
    "POST /api/orders",
    "GET /api/orders/{order_id}/show",
    "POST /api/orders/{order_id}/cancel",
];

#[tokio::test]
async fn every_api_route_is_classified() {
    let t = TestApp::new().await;
    let rows: Vec<&str> = MATRIX.iter().map(|(route, _)| *route).collect();
    for route in t.app.routes() {
        let name = format!("{} {}", route.method(), route.path());
        if !route.path().starts_with("/api/") {
            continue;
        }
        let places = [
            rows.contains(&name.as_str()),
            SHOWS_NO_ONE_ELSE.contains(&name.as_str()),
        ];
        assert!(
            places.iter().filter(|p| **p).count() == 1,
            "{name}: add it to MATRIX (it shows people) or to SHOWS_NO_ONE_ELSE (it does not), once"
        );
    }
}

/// The world of one cell: V (a VIP with a location), S (near V, who visited V, posted a
/// danmaku, and unless strangers exchanged messages with V), then the relation applied.
struct World {
    t: TestApp,
    viewer: String,
    viewer_id: i64,
    subject_id: i64,
    live_id: i64,
    admin: String,
}

const HERE: [(&str, &str); 2] = [("lat", "31.2304"), ("lng", "121.4737")];

async fn world(relation: Relation) -> World {
    let t = TestApp::new().await;
    let (viewer, viewer_id) = t.user("13800000001").await;
    let (subject, subject_id) = t.user("13800000002").await;
    t.set_vip(viewer_id).await;
    for token in [&viewer, &subject] {
        let res = t
            .call(Method::POST, "/api/me/location", &HERE, Some(token))
            .await;
        assert_eq!(code(&res), 0);
    }
    let host = t.operator("host", "host", &[]).await;
    let admin = t
        .operator("admin", "admin", &["users:read", "users:ban"])
        .await;
    let live_id = t.create_live(&host, "matrix").await;
    let said = t
        .call(
            Method::POST,
            &format!("/api/live/{live_id}/danmaku"),
            &[("content", "hello")],
            Some(&subject),
        )
        .await;
    assert_eq!(code(&said), 0);
    let visit = format!("/api/users/{viewer_id}/show");
    assert_eq!(
        code(&t.call(Method::GET, &visit, &[], Some(&subject)).await),
        0
    );
    if relation != Relation::ContactsOnlyStranger {
        assert_eq!(code(&t.message(&subject, viewer_id, "hi").await), 0);
        assert_eq!(code(&t.message(&viewer, subject_id, "hi!").await), 0);
    }
    let update = |authority: &'static str| {
        let (t, subject) = (&t, &subject);
        async move {
            let res = t
                .call(
                    Method::POST,
                    "/api/me/update",
                    &[("authority", authority)],
                    Some(subject),
                )
                .await;
            assert_eq!(code(&res), 0);
        }
    };
    let block = |who: &str, whom: i64| {
        let (t, who) = (&t, who.to_owned());
        async move {
            let res = t
                .call(
                    Method::POST,
                    "/api/me/blocks/add",
                    &[("user_id", &whom.to_string())],
                    Some(&who),
                )
                .await;
            assert_eq!(code(&res), 0);
        }
    };
    match relation {
        Relation::Everyone => {}
        Relation::Hidden => update("0").await,
        Relation::ContactsOnlyContact | Relation::ContactsOnlyStranger => update("2").await,
        Relation::BlockedByViewer => block(&viewer, subject_id).await,
        Relation::BlockingViewer => block(&subject, viewer_id).await,
        Relation::Banned => {
            let path = format!("/manage/dating/admin/api/users/{subject_id}/ban.json");
            let res = t
                .manage(Method::POST, &path, &[("reason", "spam")], Some(&admin))
                .await;
            assert_eq!(code(&res), 0);
        }
        Relation::Deleted => {
            let res = t
                .call(Method::POST, "/api/me/delete", &[], Some(&subject))
                .await;
            assert_eq!(code(&res), 0);
        }
    }
    World {
        t,
        viewer,
        viewer_id,
        subject_id,
        live_id,
        admin,
    }
}

fn lists(list: &Value, id: i64, field: &str) -> bool {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .any(|item| item.pointer(field) == Some(&Value::from(id)))
}

/// Whether S appears to V on `surface`.
async fn shows(w: &World, surface: &str) -> bool {
    let (t, v, s) = (&w.t, Some(w.viewer.as_str()), w.subject_id);
    let get = |path: String, params: Vec<(&'static str, &'static str)>| async move {
        t.call(Method::GET, &path, &params, v).await
    };
    if surface.starts_with("GET /api/me/export") {
        // Three rows read the export of one world: the hourly limit is not what they test.
        let limit = format!("export:{}", w.viewer_id);
        t.state.store.del(&limit).await.unwrap();
    }
    match surface {
        "GET /api/users/{user_id}/show" => {
            let res = get(format!("/api/users/{s}/show"), vec![]).await;
            answered(&res)
        }
        "POST /api/users/{user_id}/messages" => answered(&t.message(&w.viewer, s, "again").await),
        "GET /api/users/{user_id}/messages" => {
            answered(&get(format!("/api/users/{s}/messages"), vec![]).await)
        }
        "GET /api/user/hot/list" => {
            let page = data(&get("/api/user/hot/list".into(), vec![("pageCount", "50")]).await);
            lists(&page["list"], s, "/user_id")
        }
        "GET /api/user/nearby/list" => {
            let mut params = HERE.to_vec();
            params.push(("pageCount", "50"));
            let page = data(&get("/api/user/nearby/list".into(), params).await);
            lists(&page["list"], s, "/user_id")
        }
        "GET /api/vip/visitors" => {
            let page = data(&get("/api/vip/visitors".into(), vec![("pageCount", "50")]).await);
            let listed = page["list"].as_array().unwrap().len() as u64;
            assert_eq!(
                page["total"].as_u64(),
                Some(listed),
                "the total counts what is listed: {page}"
            );
            lists(&page["list"], s, "/user_id")
        }
        "GET /api/me/export" => {
            let all = data(&get("/api/me/export".into(), vec![]).await);
            lists(&all["visits_received"], s, "/user_id")
        }
        "GET /api/me/export: messages" => {
            let all = data(&get("/api/me/export".into(), vec![]).await);
            let received = lists(&all["messages_received"], s, "/from_uid");
            let sent = lists(&all["messages_sent"], s, "/to_uid");
            assert_eq!(received, sent, "both ways alike: {all}");
            received
        }
        "GET /api/me/export: contacts" => {
            let all = data(&get("/api/me/export".into(), vec![]).await);
            lists(&all["contacts"], s, "/peer_id")
        }
        "GET /api/contacts" => {
            let page = data(&get("/api/contacts".into(), vec![("pageCount", "50")]).await);
            lists(&page["list"], s, "/peer/user_id")
        }
        "GET /api/live/{live_id}/danmaku" => {
            let page = data(&get(format!("/api/live/{}/danmaku", w.live_id), vec![]).await);
            lists(&page["list"], s, "/user_id")
        }
        "GET /api/me/blocks" => {
            let page = data(&get("/api/me/blocks".into(), vec![("pageCount", "50")]).await);
            lists(&page["list"], s, "/user_id")
        }
        "GET /manage/dating/admin/api/users/search.json" => {
            let res = t
                .manage(
                    Method::GET,
                    "/manage/dating/admin/api/users/search.json",
                    &[("q", &s.to_string())],
                    Some(&w.admin),
                )
                .await;
            lists(&data(&res)["list"], s, "/user_id")
        }
        other => panic!("no way to observe {other}"),
    }
}

/// Success, or the 40401 of a person the caller may not see (nothing else).
fn answered(res: &kotori::test::TestResponse) -> bool {
    match code(res) {
        0 => true,
        40401 => false,
        other => panic!("neither shown nor 40401: {other}"),
    }
}

#[tokio::test]
async fn every_surface_follows_the_rule_for_every_relation() {
    let mut wrong = Vec::new();
    for (column, relation) in RELATIONS.iter().enumerate() {
        let w = world(*relation).await;
        assert_ne!(w.viewer_id, w.subject_id);
        for (surface, expected) in MATRIX {
            let seen = shows(&w, surface).await;
            if seen != expected[column] {
                wrong.push(format!(
                    "{surface} with {relation:?}: shown {seen}, expected {}",
                    expected[column]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
