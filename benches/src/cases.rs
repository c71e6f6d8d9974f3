//! The three contenders for each case, built from the same functions:
//!
//! - **floor**: a bare matchit lookup, then the guards and the handler called directly;
//! - **kotori**: the same functions as kotori steps (sync guards, so called directly too);
//! - **axum**: nested `Router`s with `middleware::from_fn` layers, driven through `oneshot`.

use axum::extract::{Path as AxumPath, Request as AxumRequest};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response as AxumResponse};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::Full;
use kotori::{Ctx, Kotori, Path, Rejection, Res};
use tower::ServiceExt;

/// The request body type every contender is driven with.
pub type Body = Full<Bytes>;

/// A GET of `path` with the header every guard checks.
pub fn request(path: &str) -> Request<Body> {
    Request::get(path)
        .header("x-token", "t")
        .body(Body::new(Bytes::new()))
        .expect("a valid request")
}

/// The trivial guard of every case: a header check.
pub fn check(headers: &HeaderMap) -> bool {
    headers.get("x-token").is_some_and(|v| v == "t")
}

/// A guard that refuses (the request has no `x-admin`).
pub fn check_admin(headers: &HeaderMap) -> bool {
    headers.contains_key("x-admin")
}

/// The trivial handler's answer, as every contender produces it: `text/plain`, "hello".
fn hello_response() -> Response<Body> {
    let mut res = Response::new(Body::new(Bytes::from_static(b"hello")));
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

fn status(code: StatusCode) -> Response<Body> {
    let mut res = Response::new(Body::new(Bytes::new()));
    *res.status_mut() = code;
    res
}

// ---------------------------------------------------------------------------- the floor

/// A guard of the floor: a plain function.
pub type FloorGuard = fn(&HeaderMap) -> bool;

/// What the floor's handler gets: the request and its path parameters.
pub type FloorHandler = fn(&Request<Body>, &matchit::Params<'_, '_>) -> Response<Body>;

/// The floor: matchit, and per route a slice of guards and a handler, called directly.
pub struct Floor {
    router: matchit::Router<usize>,
    routes: Vec<(Vec<FloorGuard>, FloorHandler)>,
}

impl Floor {
    fn new() -> Self {
        Floor {
            router: matchit::Router::new(),
            routes: Vec::new(),
        }
    }

    fn add(&mut self, path: &str, guards: Vec<FloorGuard>, handler: FloorHandler) {
        self.router
            .insert(path, self.routes.len())
            .expect("valid, distinct routes");
        self.routes.push((guards, handler));
    }

    /// Serves one request.
    pub fn dispatch(&self, req: Request<Body>) -> Response<Body> {
        let Ok(found) = self.router.at(req.uri().path()) else {
            return status(StatusCode::NOT_FOUND);
        };
        let (guards, handler) = &self.routes[*found.value];
        for guard in guards {
            if !guard(req.headers()) {
                return status(StatusCode::FORBIDDEN);
            }
        }
        handler(&req, &found.params)
    }
}

fn floor_hello(_: &Request<Body>, _: &matchit::Params<'_, '_>) -> Response<Body> {
    hello_response()
}

/// A loaded resource of the loader case.
#[derive(Clone, Debug)]
pub struct Item {
    id: u64,
}

fn item_answer(item: &Item) -> &'static str {
    if item.id == 42 { "found" } else { "other" }
}

fn floor_item(_: &Request<Body>, params: &matchit::Params<'_, '_>) -> Response<Body> {
    match params.get("id").and_then(|id| id.parse().ok()) {
        Some(id) => {
            let mut res = hello_response();
            *res.body_mut() = Body::new(Bytes::from_static(item_answer(&Item { id }).as_bytes()));
            res
        }
        None => status(StatusCode::NOT_FOUND),
    }
}

// ---------------------------------------------------------------------------- kotori

fn kotori_guard(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    if check(cx.headers()) {
        Ok(())
    } else {
        Err(Rejection::forbidden())
    }
}

fn kotori_admin(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    if check_admin(cx.headers()) {
        Ok(())
    } else {
        Err(Rejection::forbidden())
    }
}

fn kotori_hello() -> &'static str {
    "hello"
}

fn kotori_load_item(Path(id): Path<u64>) -> Option<Item> {
    Some(Item { id })
}

fn kotori_show_item(item: Res<Item>) -> &'static str {
    item_answer(&item)
}

// ---------------------------------------------------------------------------- axum

async fn axum_guard(req: AxumRequest, next: Next) -> AxumResponse {
    if check(req.headers()) {
        next.run(req).await
    } else {
        StatusCode::FORBIDDEN.into_response()
    }
}

async fn axum_admin(req: AxumRequest, next: Next) -> AxumResponse {
    if check_admin(req.headers()) {
        next.run(req).await
    } else {
        StatusCode::FORBIDDEN.into_response()
    }
}

async fn axum_hello() -> &'static str {
    "hello"
}

async fn axum_load_item(
    AxumPath(id): AxumPath<u64>,
    mut req: AxumRequest,
    next: Next,
) -> AxumResponse {
    req.extensions_mut().insert(Item { id });
    next.run(req).await
}

async fn axum_show_item(axum::Extension(item): axum::Extension<Item>) -> &'static str {
    item_answer(&item)
}

/// Serves one request with an axum router, as a server would (`oneshot` on a clone).
pub async fn axum_dispatch(router: &axum::Router, req: Request<Body>) -> AxumResponse {
    match router.clone().oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

// ---------------------------------------------------------------------------- the cases

/// One case, built for all three contenders, with the path to request.
pub struct Case {
    /// The floor.
    pub floor: Floor,
    /// kotori.
    pub kotori: kotori::App<()>,
    /// axum.
    pub axum: axum::Router,
    /// The path every contender is asked for.
    pub path: String,
}

fn prefix(depth: usize) -> String {
    (0..depth).map(|i| format!("/l{i}")).collect()
}

/// `depth` nested levels, each with one guard, and a hello route at the bottom.
pub fn chain(depth: usize) -> Case {
    let path = format!("{}/hello", prefix(depth));
    let mut floor = Floor::new();
    floor.add(&path, vec![check as FloorGuard; depth], floor_hello);

    let app = Kotori::new(());
    let mut node = app.root().clone();
    for i in 0..depth {
        node = node.node(&format!("/l{i}")).guard(kotori_guard);
    }
    node.get("/hello", kotori_hello);

    let mut router = axum::Router::new().route("/hello", axum::routing::get(axum_hello));
    for i in (0..depth).rev() {
        router = axum::Router::new()
            .nest(&format!("/l{i}"), router)
            .layer(middleware::from_fn(axum_guard));
    }
    Case {
        floor,
        kotori: app.build().expect("a valid tree"),
        axum: router,
        path,
    }
}

/// A table of `n` routes (see [`crate::routes::table`]), one guard at the root, the middle
/// route requested.
pub fn table(n: usize) -> Case {
    let routes = crate::routes::table(n);
    let mut floor = Floor::new();
    let app = Kotori::new(());
    let guarded = app.root().clone().guard(kotori_guard);
    let mut router = axum::Router::new();
    for pattern in &routes {
        floor.add(pattern, vec![check as FloorGuard], floor_hello);
        guarded.get(pattern, kotori_hello);
        router = router.route(pattern, axum::routing::get(axum_hello));
    }
    let router = router.layer(middleware::from_fn(axum_guard));
    let path = crate::routes::concrete(&routes[n / 2]);
    Case {
        floor,
        kotori: app.build().expect("a valid tree"),
        axum: router,
        path,
    }
}

/// A guard, then a loader that turns `{id}` into an `Item`, then a handler that uses it.
pub fn loader() -> Case {
    let mut floor = Floor::new();
    floor.add("/items/{id}", vec![check as FloorGuard], floor_item);

    let app = Kotori::new(());
    app.root()
        .clone()
        .guard(kotori_guard)
        .node("/items/{id}")
        .load(kotori_load_item)
        .get("", kotori_show_item);

    let router = axum::Router::new()
        .route("/items/{id}", axum::routing::get(axum_show_item))
        .route_layer(middleware::from_fn(axum_load_item))
        .layer(middleware::from_fn(axum_guard));
    Case {
        floor,
        kotori: app.build().expect("a valid tree"),
        axum: router,
        path: "/items/42".into(),
    }
}

/// Two levels; the second one's guard refuses.
pub fn reject_at_depth_2() -> Case {
    let mut floor = Floor::new();
    floor.add(
        "/l0/l1/hello",
        vec![check as FloorGuard, check_admin],
        floor_hello,
    );

    let app = Kotori::new(());
    app.node("/l0")
        .guard(kotori_guard)
        .node("/l1")
        .guard(kotori_admin)
        .get("/hello", kotori_hello);

    let inner = axum::Router::new()
        .route("/hello", axum::routing::get(axum_hello))
        .layer(middleware::from_fn(axum_admin));
    let router = axum::Router::new().nest("/l1", inner);
    let router = axum::Router::new()
        .nest("/l0", router)
        .layer(middleware::from_fn(axum_guard));
    Case {
        floor,
        kotori: app.build().expect("a valid tree"),
        axum: router,
        path: "/l0/l1/hello".into(),
    }
}

/// A path no route matches, under a guarded node.
pub fn not_found() -> Case {
    let mut c = chain(1);
    c.path = "/l0/nothing".into();
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block_on;

    fn statuses(case: &Case) -> (u16, u16, u16) {
        let floor = case.floor.dispatch(request(&case.path)).status().as_u16();
        let kotori = block_on(case.kotori.dispatch(request(&case.path)))
            .status()
            .as_u16();
        let axum = block_on(axum_dispatch(&case.axum, request(&case.path)))
            .status()
            .as_u16();
        (floor, kotori, axum)
    }

    #[test]
    fn every_contender_gives_the_same_answer_in_every_case() {
        for depth in [1, 4, 8] {
            assert_eq!(statuses(&chain(depth)), (200, 200, 200), "depth {depth}");
        }
        for n in [10, 100, 1_000] {
            assert_eq!(statuses(&table(n)), (200, 200, 200), "{n} routes");
        }
        assert_eq!(statuses(&loader()), (200, 200, 200));
        assert_eq!(statuses(&reject_at_depth_2()), (403, 403, 403));
        assert_eq!(statuses(&not_found()), (404, 404, 404));
    }
}
