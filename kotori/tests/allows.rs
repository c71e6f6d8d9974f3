//! `App::allows`: asking the built tree whether a client would pass another route's guards.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use http::Method;
use kotori::{Ctx, Kotori, Rejection, Res, WeakApp};

#[derive(Clone, Default)]
struct State {
    app: Arc<OnceLock<WeakApp<State>>>,
    /// How many times each counted step ran.
    operator_loads: Arc<AtomicUsize>,
    user_loads: Arc<AtomicUsize>,
    handled: Arc<AtomicUsize>,
}

struct Operator {
    privileges: Vec<String>,
}

struct User;

#[kotori::loader]
async fn load_operator(cx: &mut Ctx<State>) -> Result<Operator, Rejection> {
    cx.state().operator_loads.fetch_add(1, Ordering::SeqCst);
    let privileges = cx
        .header("x-privileges")
        .ok_or_else(Rejection::unauthorized)?;
    Ok(Operator {
        privileges: privileges.split(',').map(str::to_owned).collect(),
    })
}

#[kotori::loader]
async fn load_user(cx: &mut Ctx<State>) -> Result<User, Rejection> {
    cx.state().user_loads.fetch_add(1, Ordering::SeqCst);
    if cx.param("id").as_deref() == Some("404") {
        return Err(Rejection::not_found());
    }
    Ok(User)
}

fn require(privilege: &'static str) -> impl Fn(Res<Operator>) -> Result<(), Rejection> + Clone {
    move |op: Res<Operator>| {
        if op.privileges.iter().any(|p| p == privilege) {
            Ok(())
        } else {
            Err(Rejection::forbidden())
        }
    }
}

/// The page: which of the actions on this user the caller may take, asked of the tree.
#[kotori::handler]
async fn page(cx: &mut Ctx<State>) -> String {
    let app = cx.state().app.get().and_then(WeakApp::upgrade).unwrap();
    let id = cx.param("id").unwrap().into_owned();
    let mut may = Vec::new();
    for (method, uri) in [
        (Method::POST, format!("/users/{id}/ban")),
        (Method::POST, format!("/users/{id}/note")),
        (Method::GET, format!("/users/{id}/ban")),
        (Method::POST, "/users/404/ban".to_owned()),
        (Method::POST, "/users/8/ban".to_owned()),
        (Method::POST, "/nowhere".to_owned()),
        (Method::POST, "not a uri".to_owned()),
    ] {
        if app.allows(cx, method.clone(), &uri).await {
            may.push(format!("{method} {uri}"));
        }
    }
    may.join("\n")
}

fn handled(cx: &mut Ctx<State>) -> &'static str {
    cx.state().handled.fetch_add(1, Ordering::SeqCst);
    "done"
}

fn app() -> (kotori::App<State>, State) {
    let state = State::default();
    let app = Kotori::new(state.clone());
    let user = app.node("/users/{id}").load(load_operator).load(load_user);
    user.get("", page);
    user.post("/ban", handled).guard(require("users:ban"));
    user.post("/note", handled).guard(require("users:note"));
    let app = app.build().unwrap();
    state.app.set(app.downgrade()).ok().unwrap();
    (app, state)
}

#[tokio::test]
async fn the_tree_answers_what_the_caller_may_do() {
    let (app, state) = app();
    let res = app
        .client()
        .get("/users/7")
        .header("x-privileges", "users:ban")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    // Only the route whose guard passes, on a user who exists; no method the route lacks, no
    // path nothing serves.
    assert_eq!(res.text(), "POST /users/7/ban\nPOST /users/8/ban");
    // Handlers never run for a question.
    assert_eq!(state.handled.load(Ordering::SeqCst), 0);

    let both = app
        .client()
        .get("/users/7")
        .header("x-privileges", "users:ban,users:note")
        .send()
        .await;
    assert_eq!(
        both.text(),
        "POST /users/7/ban\nPOST /users/7/note\nPOST /users/8/ban"
    );
    let none = app
        .client()
        .get("/users/7")
        .header("x-privileges", "users:read")
        .send()
        .await;
    assert_eq!(none.text(), "");
}

#[tokio::test]
async fn steps_the_routes_share_run_once() {
    let (app, state) = app();
    app.client()
        .get("/users/7")
        .header("x-privileges", "users:ban")
        .send()
        .await;
    // The page's own request loads the operator once; every question about a path under the
    // same node reuses it. The user is loaded again only for other ids (404 and 8), and the
    // operator too, because its node's parameter differs there.
    assert_eq!(state.user_loads.load(Ordering::SeqCst), 1 + 2);
    assert_eq!(state.operator_loads.load(Ordering::SeqCst), 1 + 2);
}

#[tokio::test]
async fn a_question_carries_the_callers_credentials() {
    let (app, _) = app();
    // Without credentials the page itself is refused; the guards of the asked routes see
    // exactly the headers of the request being served.
    let res = app.client().get("/users/7").send().await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_step_that_panics_or_awaits_answers_like_any_other() {
    #[derive(Clone, Default)]
    struct S(Arc<OnceLock<WeakApp<S>>>);

    fn panics(_: &mut Ctx<S>) -> Result<(), Rejection> {
        panic!("a broken guard")
    }

    #[kotori::guard]
    async fn slow_yes(cx: &mut Ctx<S>) -> Result<(), Rejection> {
        tokio::task::yield_now().await;
        cx.header("x-no")
            .map_or(Ok(()), |_| Err(Rejection::forbidden()))
    }

    #[kotori::handler]
    async fn page(cx: &mut Ctx<S>) -> String {
        let app = cx.state().0.get().and_then(WeakApp::upgrade).unwrap();
        let broken = app.allows(cx, Method::POST, "/broken").await;
        let awaited = app.allows(cx, Method::POST, "/awaited").await;
        format!("{broken} {awaited}")
    }

    let state = S::default();
    let app = Kotori::new(state.clone());
    app.get("/page", page);
    app.group().guard(panics).post("/broken", || async { "no" });
    app.group()
        .guard(slow_yes)
        .post("/awaited", || async { "yes" });
    let app = app.build().unwrap();
    state.0.set(app.downgrade()).ok().unwrap();
    let res = app.client().get("/page").send().await;
    // The broken guard refuses (the page still renders); the awaiting one passes.
    assert_eq!((res.status().as_u16(), res.text()), (200, "false true"));
}
