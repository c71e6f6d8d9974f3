//! Loaders: resources visible below their node and not beside it, missing resources and
//! parameters as build errors, refusals, and one subtree mounted twice.

mod common;

use common::Trace;
use kotori::{Ctx, Json, Kotori, Path, Problem, Rejection, Res};

#[derive(Debug)]
struct Live {
    id: u64,
    host: u64,
}

struct Caller(u64);

fn load_caller<S>(cx: &mut Ctx<S>) -> Result<Caller, Rejection> {
    cx.header("x-user")
        .and_then(|u| u.parse().ok())
        .map(Caller)
        .ok_or_else(Rejection::unauthorized)
}

async fn any_live(Path(id): Path<u64>) -> Option<Live> {
    (id < 100).then_some(Live { id, host: id % 10 })
}

/// Only the caller's own lives exist for them: someone else's is a 404, so existence does
/// not leak.
async fn own_live(Path(id): Path<u64>, caller: Res<Caller>) -> Result<Live, Rejection> {
    let live = any_live(Path(id)).await.ok_or_else(Rejection::not_found)?;
    if live.host == caller.0 {
        Ok(live)
    } else {
        Err(Rejection::not_found())
    }
}

async fn show(live: Res<Live>) -> Json<(u64, u64)> {
    Json((live.id, live.host))
}

/// The live-room actions, defined once and mounted wherever a `Live` is loaded above.
fn live_actions<S: Clone + Send + Sync + 'static>(live: &kotori::Node<S>) {
    live.get("/show.json", show);
    live.post("/finish.json", |live: Res<Live>| async move {
        format!("finished {}", live.id)
    });
}

#[tokio::test]
async fn one_subtree_mounted_twice_uses_each_mounts_loader() {
    let app = Kotori::new(());
    live_actions(&app.node("/admin/live/{live_id}").load(any_live));
    live_actions(
        &app.node("/shops")
            .load(load_caller)
            .node("/live/{live_id}")
            .load(own_live),
    );
    let app = app.build().unwrap();

    let admin = app.client().get("/admin/live/23/show.json").send().await;
    assert_eq!(admin.json::<(u64, u64)>(), (23, 3));

    let own = app
        .client()
        .get("/shops/live/23/show.json")
        .header("x-user", "3")
        .send()
        .await;
    assert_eq!(own.json::<(u64, u64)>(), (23, 3));
    let other = app
        .client()
        .get("/shops/live/23/show.json")
        .header("x-user", "4")
        .send()
        .await;
    assert_eq!(
        other.status(),
        404,
        "another host's live does not exist for this caller"
    );
    let finish = app
        .client()
        .post("/shops/live/24/finish.json")
        .header("x-user", "4")
        .send()
        .await;
    assert_eq!(finish.text(), "finished 24");
    assert_eq!(app.routes().len(), 4);
}

#[tokio::test]
async fn a_loader_runs_once_for_every_route_below() {
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    let live = app.node("/live/{id}").load(|cx: &mut Ctx<Trace>| {
        cx.state().push("load");
        cx.param_as::<u64>("id").map(|id| Live { id, host: 0 })
    });
    live.get("/a", |live: Res<Live>| async move { live.id.to_string() });
    live.node("/deeper")
        .get("/b", |live: Res<Live>| async move { live.id.to_string() });
    let app = app.build().unwrap();

    for path in ["/live/7/a", "/live/7/deeper/b"] {
        let res = app.client().get(path).send().await;
        assert_eq!(res.text(), "7");
        assert_eq!(trace.take(), ["load"], "{path}: loaded exactly once");
    }
}

#[test]
fn a_resource_no_ancestor_loads_is_a_build_error_naming_route_and_type() {
    let app = Kotori::new(());
    // Loaded beside the route, not above it.
    app.node("/a/{id}").load(any_live).get("/ok", show);
    app.node("/b/{id}").get("/show", show);
    let err = app.build().err().expect("build must fail");
    assert_eq!(err.problems().len(), 1, "{err}");
    match &err.problems()[0] {
        Problem::MissingResource {
            route,
            step,
            resource,
        } => {
            assert_eq!(route, "`GET /b/{id}/show`");
            assert!(step.ends_with("::show"), "{step}");
            assert!(resource.ends_with("::Live"), "{resource}");
        }
        other => panic!("unexpected problem {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("GET /b/{id}/show") && message.contains("Live"),
        "{message}"
    );
}

#[test]
fn a_step_using_a_resource_before_its_loader_is_a_build_error() {
    let app = Kotori::new(());
    let node = app.node("/live/{id}");
    node.guard(|live: Res<Live>| {
        if live.id > 0 {
            Ok(())
        } else {
            Err(Rejection::forbidden())
        }
    });
    node.load(any_live).get("/show", show);
    let err = app.build().err().expect("the guard runs before the loader");
    assert!(
        matches!(err.problems()[0], Problem::MissingResource { .. }),
        "{err}"
    );
}

#[test]
fn a_path_extractor_without_a_parameter_in_scope_is_a_build_error() {
    let app = Kotori::new(());
    app.node("/lives").load(any_live).get("/{id}/show", show);
    let err = app
        .build()
        .err()
        .expect("the loader's node has no parameter");
    assert!(
        matches!(err.problems()[0], Problem::MissingParam { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_parameter_that_does_not_parse_is_a_404_and_escapes_are_decoded() {
    let app = Kotori::new(());
    app.node("/live/{id}").load(any_live).get("/show", show);
    app.get(
        "/name/{name}",
        |Path(name): Path<String>| async move { name },
    );
    let app = app.build().unwrap();

    assert_eq!(
        app.client().get("/live/abc/show").send().await.status(),
        404
    );
    assert_eq!(
        app.client().get("/live/100/show").send().await.status(),
        404
    );
    assert_eq!(
        app.client().get("/live/%32/show").send().await.status(),
        200
    );
    assert_eq!(
        app.client().get("/name/caf%C3%A9").send().await.text(),
        "café"
    );
    assert_eq!(app.client().get("/name/bad%zz").send().await.status(), 404);
}

#[tokio::test]
async fn a_step_sees_its_own_nodes_parameters_not_deeper_ones() {
    let app = Kotori::new(());
    let users = app.node("/users/{user_id}").guard(|cx: &mut Ctx<()>| {
        // The photo id is below this node: not in this guard's scope.
        assert!(cx.param("photo_id").is_none());
        cx.param_as::<u64>("user_id").map(|_| ())
    });
    users.get("/photos/{photo_id}", |cx: &mut Ctx<()>| {
        format!(
            "{}/{}",
            cx.param("user_id").unwrap(),
            cx.param("photo_id").unwrap()
        )
    });
    let app = app.build().unwrap();
    assert_eq!(
        app.client().get("/users/5/photos/9").send().await.text(),
        "5/9"
    );
}

#[tokio::test]
async fn resources_load_by_type_and_the_nearest_loader_wins() {
    let app = Kotori::new(());
    let a = app.node("/a").load(|| Ok::<_, Rejection>(Caller(1)));
    a.get("/x", |c: Res<Caller>| async move { c.0.to_string() });
    a.node("/b")
        .load(|| Some(Caller(2)))
        .get("/y", |c: Res<Caller>| async move { c.0.to_string() });
    let app = app.build().unwrap();
    assert_eq!(app.client().get("/a/x").send().await.text(), "1");
    assert_eq!(app.client().get("/a/b/y").send().await.text(), "2");
}

/// Steps whose futures hold kilobytes across an await (kotori boxes those apart from small
/// ones): each runs once, in order, and what the loader made reaches the handler.
#[tokio::test]
async fn steps_with_large_futures_run_and_pass_their_resources() {
    // Through the attribute, which a step borrowing the context across an await needs.
    #[kotori::guard]
    async fn large_guard(cx: &mut Ctx<Trace>) -> Result<(), Rejection> {
        let held = [7u8; 4096];
        tokio::task::yield_now().await;
        cx.state().push("guard");
        match cx.header("x-deny") {
            Some(_) => Err(Rejection::forbidden()),
            None if held[4095] == 7 => Ok(()),
            None => Err(Rejection::internal()),
        }
    }
    async fn large_loader(Path(id): Path<u64>) -> Option<Live> {
        let held = [id as u8; 4096];
        tokio::task::yield_now().await;
        Some(Live {
            id,
            host: u64::from(held[4095]),
        })
    }
    async fn large_handler(live: Res<Live>) -> String {
        let held = [1u8; 4096];
        tokio::task::yield_now().await;
        format!("{} {} {}", live.id, live.host, held.len())
    }
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    app.node("/live/{id}")
        .guard(large_guard)
        .load(large_loader)
        .get("/show", large_handler);
    let app = app.build().unwrap();

    let res = app.client().get("/live/9/show").send().await;
    assert_eq!(res.text(), "9 9 4096");
    assert_eq!(trace.take(), ["guard"]);
    let res = app
        .client()
        .get("/live/9/show")
        .header("x-deny", "1")
        .send()
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(trace.take(), ["guard"]);
}
