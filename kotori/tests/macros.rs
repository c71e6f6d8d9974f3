//! The attribute macros: async fns that borrow the context across awaits, mixed with
//! extractors; names and doc lines in introspection; the function still callable.

use kotori::{Ctx, Json, Kotori, Path, Problem, Rejection, Res, State};

#[derive(Clone)]
struct AppState {
    admin_token: &'static str,
}

struct Operator {
    name: String,
}

/// Loads the operator named by the bearer token.
#[kotori::loader]
async fn load_operator(cx: &mut Ctx<AppState>) -> Result<Operator, Rejection> {
    // The context stays borrowed across the await: only the macro makes this possible.
    tokio::task::yield_now().await;
    let token = cx
        .header("authorization")
        .ok_or_else(Rejection::unauthorized)?;
    if token == cx.state().admin_token {
        Ok(Operator {
            name: "root".into(),
        })
    } else {
        Err(Rejection::unauthorized())
    }
}

/// Only root may pass.
#[kotori::guard]
fn require_root(op: Res<Operator>) -> Result<(), Rejection> {
    if op.name == "root" {
        Ok(())
    } else {
        Err(Rejection::forbidden())
    }
}

/// Counts the request in an extension, after an await, with an extractor mixed in.
#[kotori::guard(name = "stamp")]
async fn stamp(cx: &mut Ctx<AppState>, State(state): State<AppState>) {
    tokio::task::yield_now().await;
    cx.extensions_mut().insert(state.admin_token.len());
}

/// Shows who asked for which id.
#[kotori::handler]
async fn show(Path(id): Path<u64>, op: Res<Operator>, cx: &mut Ctx<AppState>) -> Json<String> {
    tokio::task::yield_now().await;
    let stamped = cx.extensions().get::<usize>().copied().unwrap_or(0);
    Json(format!("{} {id} {stamped}", op.name))
}

/// Generic over the app state: no context taken, only extractors.
#[kotori::handler]
fn ping() -> &'static str {
    "pong"
}

fn app() -> kotori::App<AppState> {
    let app = Kotori::new(AppState {
        admin_token: "secret",
    });
    app.get("/ping", ping);
    app.node("/admin")
        .load(load_operator)
        .guard(require_root)
        .guard(stamp)
        .node("/items/{id}")
        .get("/show", show);
    app.build().unwrap()
}

#[tokio::test]
async fn macro_steps_borrow_the_context_across_awaits_and_mix_with_extractors() {
    let app = app();
    let res = app
        .client()
        .get("/admin/items/7/show")
        .header("authorization", "secret")
        .send()
        .await;
    assert_eq!(res.json::<String>(), "root 7 6");
    let res = app.client().get("/admin/items/7/show").send().await;
    assert_eq!(res.status(), 401);
    let res = app
        .client()
        .get("/admin/items/x/show")
        .header("authorization", "secret")
        .send()
        .await;
    assert_eq!(res.status(), 404, "the Path extractor in a macro handler");
    assert_eq!(app.client().get("/ping").send().await.text(), "pong");
}

#[test]
fn names_and_doc_lines_reach_the_route_table_and_the_tree() {
    let app = app();
    let route = &app.routes()[1];
    let names: Vec<&str> = route.chain().iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "macros::load_operator",
            "macros::require_root",
            "stamp",
            "macros::show"
        ]
    );
    assert_eq!(
        route.chain()[0].doc(),
        Some("Loads the operator named by the bearer token.")
    );
    let tree = app.tree().to_string();
    assert!(
        tree.contains("guard   macros::require_root  — Only root may pass."),
        "{tree}"
    );
    assert!(tree.contains("⇒ macros::show"), "{tree}");
    app.audit()
        .under("/admin")
        .require("load_operator")
        .unwrap();
}

#[test]
fn the_function_stays_callable() {
    assert_eq!(ping::run(), "pong");
}

#[test]
fn macro_handlers_declare_their_resources_for_the_build_check() {
    let app = Kotori::new(AppState { admin_token: "t" });
    app.node("/x/{id}").get("/show", show);
    let err = app.build().err().expect("no loader for Operator");
    match &err.problems()[0] {
        Problem::MissingResource { step, resource, .. } => {
            assert_eq!(step, "macros::show");
            assert!(resource.ends_with("::Operator"), "{resource}");
        }
        other => panic!("unexpected {other:?}"),
    }
}
