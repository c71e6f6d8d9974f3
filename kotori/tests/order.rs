//! Step order: root to leaf, registration order within a node, the first answer stops the
//! descent, order follows the tree (not the order of calls), after hooks leaf to root.

mod common;

use common::{Trace, after, deny, handler, mark};
use kotori::Kotori;

#[tokio::test]
async fn steps_run_root_to_leaf_in_registration_order_then_handler_then_afters_leaf_to_root() {
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    app.guard(mark("root.1")).after(after("root.after"));
    let a = app.node("/a").guard(mark("a.1")).guard(mark("a.2"));
    a.after(after("a.after.1")).after(after("a.after.2"));
    let b = a.node("/b").guard(mark("b.1")).after(after("b.after"));
    b.get("/c", handler("handler"))
        .guard(mark("route.1"))
        .after(after("route.after"));
    let app = app.build().unwrap();

    let res = app.client().get("/a/b/c").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "handler");
    assert_eq!(
        trace.take(),
        [
            "root.1",
            "a.1",
            "a.2",
            "b.1",
            "route.1",
            "handler",
            "route.after:200",
            "b.after:200",
            "a.after.1:200",
            "a.after.2:200",
            "root.after:200",
        ]
    );
}

#[tokio::test]
async fn the_first_step_that_answers_stops_the_descent() {
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    let a = app
        .node("/a")
        .guard(mark("a.1"))
        .guard(deny("a.deny"))
        .guard(mark("a.3"));
    a.node("/b")
        .guard(mark("b.1"))
        .get("/c", handler("handler"));
    let app = app.build().unwrap();

    let res = app.client().get("/a/b/c").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        trace.take(),
        ["a.1", "a.deny"],
        "no deeper step, no handler"
    );
}

#[tokio::test]
async fn a_guard_added_after_the_routes_still_protects_them() {
    // axum's "a layer added before the route does nothing" trap (axum #1341) cannot happen:
    // order follows the tree, not the order of calls.
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    let admin = app.node("/admin");
    admin.get("/users", handler("users"));
    admin.node("/deep").get("/x", handler("x"));
    admin.guard(deny("late guard"));
    let app = app.build().unwrap();

    for path in ["/admin/users", "/admin/deep/x"] {
        let res = app.client().get(path).send().await;
        assert_eq!(res.status(), 403, "{path}");
        assert_eq!(trace.take(), ["late guard"], "{path}");
    }
}

#[tokio::test]
async fn after_hooks_see_rejections_and_run_only_for_the_nodes_entered() {
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    app.after(after("root.after"));
    let a = app.node("/a").after(after("a.after")).guard(deny("a.deny"));
    let b = a.node("/b").after(after("b.after"));
    b.get("/c", handler("handler")).after(after("route.after"));
    let app = app.build().unwrap();

    let res = app.client().get("/a/b/c").send().await;
    assert_eq!(res.status(), 403);
    // The node whose guard answered runs its after hooks; nodes below it were never entered.
    assert_eq!(trace.take(), ["a.deny", "a.after:403", "root.after:403"]);
}

#[tokio::test]
async fn after_hooks_may_change_the_response() {
    let app = Kotori::new(());
    app.after(|_: &kotori::Ctx<()>, res: &mut kotori::Response| {
        res.headers_mut()
            .insert("x-seen-by", http::HeaderValue::from_static("root"));
    });
    app.get("/x", || async { "x" });
    app.node("/denied")
        .guard(|_: &mut kotori::Ctx<()>| Err::<(), _>(kotori::Rejection::forbidden()))
        .get("/y", || async { "y" });
    let app = app.build().unwrap();

    for (path, status) in [("/x", 200), ("/denied/y", 403), ("/nowhere", 404)] {
        let res = app.client().get(path).send().await;
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(res.header("x-seen-by"), Some("root"), "{path}");
    }
}

#[tokio::test]
async fn groups_add_guards_without_a_path_segment() {
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    let api = app.node("/api").guard(mark("api"));
    api.post("/login", handler("login"));
    let private = api.group().guard(deny("token"));
    private.get("/me", handler("me"));
    let app = app.build().unwrap();

    assert_eq!(app.client().post("/api/login").send().await.status(), 200);
    assert_eq!(trace.take(), ["api", "login"]);
    assert_eq!(app.client().get("/api/me").send().await.status(), 403);
    assert_eq!(trace.take(), ["api", "token"]);
}

#[tokio::test]
async fn async_steps_run_in_order_with_sync_ones() {
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    let t = trace.clone();
    let a = app.node("/a").guard(mark("sync.1"));
    a.guard(
        move |kotori::State(trace): kotori::State<Trace>| async move {
            tokio::task::yield_now().await;
            trace.push("async.2");
            Ok::<(), kotori::Rejection>(())
        },
    );
    a.guard(mark("sync.3"));
    a.get("/x", move || {
        let t = t.clone();
        async move {
            t.push("handler");
            "ok"
        }
    });
    let app = app.build().unwrap();

    assert_eq!(app.client().get("/a/x").send().await.status(), 200);
    assert_eq!(trace.take(), ["sync.1", "async.2", "sync.3", "handler"]);
}
