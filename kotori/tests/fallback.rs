//! Unmatched paths and methods: the deepest node the path reached runs its guards, then 404,
//! or 405 with `Allow`; HEAD is served by GET; renderers decide how refusals look.

mod common;

use std::ops::ControlFlow;

use common::{Trace, deny, mark};
use http::{Method, StatusCode};
use kotori::{Ctx, Kotori, Rejection, Response};

fn guarded() -> (Trace, kotori::App<Trace>) {
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    app.guard(mark("root"));
    let api = app.node("/api").guard(mark("api"));
    api.get("/public", || async { "public" });
    let manage = app.node("/manage").guard(deny("auth"));
    manage.get("/users.json", || async { "users" });
    manage
        .node("/live/{id}")
        .guard(mark("live"))
        .get("/show.json", || async { "live" });
    (trace, app.build().unwrap())
}

#[tokio::test]
async fn an_unknown_path_runs_the_guards_of_the_deepest_node_it_reached() {
    let (trace, app) = guarded();
    // Under /manage an unauthenticated caller learns nothing about what exists.
    let res = app.client().get("/manage/secret/plan.json").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(trace.take(), ["root", "auth"]);

    // Under /api the guards pass: then 404.
    let res = app.client().get("/api/nothing").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(trace.take(), ["root", "api"]);

    // The node itself, with and without a trailing slash.
    for path in ["/api", "/api/"] {
        assert_eq!(app.client().get(path).send().await.status(), 404, "{path}");
        assert_eq!(trace.take(), ["root", "api"], "{path}");
    }

    // Outside every node but the root.
    assert_eq!(app.client().get("/elsewhere").send().await.status(), 404);
    assert_eq!(trace.take(), ["root"]);
}

#[tokio::test]
async fn a_known_path_with_another_method_runs_the_guards_then_405_with_allow() {
    let (trace, app) = guarded();
    let res = app.client().post("/api/public").send().await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
    assert_eq!(trace.take(), ["root", "api"]);

    let res = app.client().post("/manage/users.json").send().await;
    assert_eq!(res.status(), 403, "the guard answers before the 405");
    assert_eq!(res.header("allow"), None);
}

#[tokio::test]
async fn parameters_are_visible_to_guards_of_an_unmatched_path() {
    let app = Kotori::new(());
    app.node("/live/{id}")
        .guard(|cx: &mut Ctx<()>| cx.param_as::<u64>("id").map(|_| ()))
        .get("/show", || async { "show" });
    let app = app.build().unwrap();
    assert_eq!(app.client().get("/live/7/nope").send().await.status(), 404);
    assert_eq!(app.client().get("/live/x/nope").send().await.status(), 404);
    assert_eq!(
        app.client().delete("/live/7/show").send().await.status(),
        405
    );
}

#[tokio::test]
async fn a_cors_hook_on_a_node_answers_preflights_for_its_routes() {
    fn cors(cx: &mut Ctx<()>) -> ControlFlow<Response> {
        if cx.method() == Method::OPTIONS {
            let mut res = Response::new(Default::default());
            *res.status_mut() = StatusCode::NO_CONTENT;
            res.headers_mut()
                .insert("access-control-allow-origin", "*".parse().unwrap());
            return ControlFlow::Break(res);
        }
        ControlFlow::Continue(())
    }
    let app = Kotori::new(());
    app.node("/api")
        .guard(cors)
        .post("/orders", || async { "created" });
    let app = app.build().unwrap();

    let res = app
        .client()
        .request(Method::OPTIONS, "/api/orders")
        .send()
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        app.client().post("/api/orders").send().await.text(),
        "created"
    );
}

#[tokio::test]
async fn head_is_served_by_get_without_a_body() {
    let app = Kotori::new(());
    app.get("/page", || async { "twelve bytes" });
    let app = app.build().unwrap();

    let res = app.client().request(Method::HEAD, "/page").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().len(), 0);
    assert_eq!(res.header("content-length"), Some("12"));
}

#[tokio::test]
async fn the_default_renderer_speaks_json_to_json_paths_and_clients() {
    let app = Kotori::new(());
    app.node("/manage")
        .guard(|_: &mut Ctx<()>| Err::<(), _>(Rejection::forbidden()))
        .get("/page", || async { "" });
    app.get("/x.json", || async { "" });
    let app = app.build().unwrap();

    let res = app.client().get("/manage/page.json").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({"code": 40301, "message": "Forbidden"})
    );

    let res = app.client().get("/manage/page").send().await;
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(res.text(), "Forbidden");

    let res = app
        .client()
        .get("/manage/page")
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(res.json::<serde_json::Value>()["code"], 40301);

    let res = app.client().post("/x.json").send().await;
    assert_eq!(res.json::<serde_json::Value>()["code"], 40501);
}

#[tokio::test]
async fn the_nearest_renderer_renders_every_rejection_of_its_subtree() {
    fn page(_: &Ctx<()>, rejection: &Rejection) -> Response {
        let mut res = Response::new(format!("<p>{}</p>", rejection.message()).into());
        *res.status_mut() = rejection.status();
        res
    }
    fn envelope(_: &Ctx<()>, rejection: &Rejection) -> Response {
        let mut res = kotori::render::json(rejection);
        res.headers_mut()
            .insert("x-renderer", "envelope".parse().unwrap());
        res
    }
    let app = Kotori::new(());
    let manage = app.node("/manage").render(page);
    manage
        .guard(|cx: &mut Ctx<()>| match cx.header("authorization") {
            Some(_) => Ok(()),
            None => Err(Rejection::unauthorized()),
        })
        .get("/home", || async { "home" });
    manage
        .node("/api")
        .render(envelope)
        .get("/x.json", || async { "x" });
    let app = app.build().unwrap();

    let res = app.client().get("/manage/home").send().await;
    assert_eq!(
        (res.status().as_u16(), res.text()),
        (401, "<p>Unauthorized</p>")
    );
    // The guard on /manage refuses, the renderer nearest the route renders.
    let res = app.client().get("/manage/api/x.json").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.header("x-renderer"), Some("envelope"));
    let res = app
        .client()
        .get("/manage/nothing")
        .header("authorization", "t")
        .send()
        .await;
    assert_eq!(
        (res.status().as_u16(), res.text()),
        (404, "<p>Not Found</p>")
    );
}

#[tokio::test]
async fn a_forbidden_loader_can_be_turned_into_a_404_by_a_subtree_renderer() {
    // Existence must not leak: under /shops every 403 is rendered as a 404.
    fn hide_forbidden(cx: &Ctx<()>, rejection: &Rejection) -> Response {
        if rejection.status() == StatusCode::FORBIDDEN {
            return kotori::render::default(cx, &Rejection::not_found());
        }
        kotori::render::default(cx, rejection)
    }
    let app = Kotori::new(());
    app.node("/shops")
        .render(hide_forbidden)
        .node("/live/{id}")
        .load(|cx: &mut Ctx<()>| match cx.param_as::<u64>("id")? {
            1 => Ok(1u64),
            _ => Err(Rejection::forbidden()),
        })
        .get("/show.json", || async { "mine" });
    let app = app.build().unwrap();
    let res = app.client().get("/shops/live/2/show.json").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<serde_json::Value>()["code"], 40401);
}
