//! # kotori
//!
//! A route-guard framework for web backends whose URL space is a tree of authority.
//!
//! Every prefix node of the tree (`/manage`, `/manage/dating/admin/api`, `/live/{id}`) carries
//! **guards**, **resource loaders** (turn `{id}` into a loaded, checked `Live`
//! once for everything below) and **after hooks**, and may set how rejections are
//! **rendered**. A route placed under a node is protected by every guard above it *by
//! construction*; the whole policy can be printed and audited; a handler that needs a resource
//! no ancestor loads is a build error.
//!
//! The tree compiles once into a [matchit](https://docs.rs/matchit) router whose leaves hold the flattened chain of
//! steps; dispatch is one lookup and a walk over a slice, served on hyper 1.x / tokio.
//!
//! ```
//! use kotori::{Ctx, Json, Kotori, Path, Rejection, Res};
//!
//! #[derive(Clone)]
//! struct Operator { privileges: Vec<&'static str> }
//! struct Course { id: u64, title: String }
//!
//! // A loader: the operator, from a bearer token (here: any token is operator "god").
//! fn load_operator<S>(cx: &mut Ctx<S>) -> Result<Operator, Rejection> {
//!     match cx.header("authorization") {
//!         Some(_) => Ok(Operator { privileges: vec!["courses:read"] }),
//!         None => Err(Rejection::unauthorized()),
//!     }
//! }
//!
//! // A guard on the loaded operator: no await, so it is called directly.
//! fn can_read_courses(op: Res<Operator>) -> Result<(), Rejection> {
//!     op.privileges.contains(&"courses:read").then_some(()).ok_or_else(Rejection::forbidden)
//! }
//!
//! // A loader for `{id}`: every route below gets the course, loaded once.
//! async fn load_course(Path(id): Path<u64>) -> Option<Course> {
//!     (id == 1).then(|| Course { id, title: "Rust".into() })
//! }
//!
//! async fn show(course: Res<Course>) -> Json<String> {
//!     Json(format!("{}: {}", course.id, course.title))
//! }
//!
//! let app = Kotori::new(());
//! let manage = app.node("/manage").load(load_operator);
//! let courses = manage.node("/service1/god/api/courses").guard(can_read_courses);
//! courses.node("/{id}").load(load_course).get("/show.json", show);
//! let app = app.build().expect("every resource is loaded above its users");
//!
//! println!("{}", app.tree());
//! app.audit().under("/manage").require("load_operator").unwrap();
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let res = app.client().get("/manage/service1/god/api/courses/1/show.json")
//!     .header(http::header::AUTHORIZATION, "Bearer t").send().await;
//! assert_eq!(res.json::<String>(), "1: Rust");
//! let res = app.client().get("/manage/service1/god/api/courses/1/show.json").send().await;
//! assert_eq!(res.status(), 401);
//! # });
//! ```
//!
//! The guide in `docs/` explains the concepts: the tree and its order, loaders, rejections and
//! renderers, introspection, testing, and how kotori differs from Flask blueprints, axum layers
//! and salvo hoops.
//!
//! # Module map
//!
//! The root holds what every application uses; the modules hold one concept each.
//!
//! - `tree` — declaring the tree: [`Kotori`], [`Node`], [`Route`]. Only records what the user
//!   declares.
//! - `build` — [`Kotori::build`]: checks the tree and compiles it (prefixes joined, chains
//!   flattened, resources checked, router built); every problem is a [`Problem`] of one
//!   [`BuildError`].
//! - `compiled` — the compiled form, [`App`]: router, one chain per route and per node.
//! - [`dispatch`] — one request through the compiled form; [`serve()`] and [`mod@test`] call it.
//! - [`introspect`] — what the compiled tree shows: route table, printed tree, audits.
//! - [`openapi`] — the OpenAPI 3.1 document, security and refusals derived from the steps.
//! - [`step`] — the traits behind guards, loaders, handlers and after hooks, for steps written
//!   by hand; plain functions implement them.
//! - [`extract`] — typed arguments of steps ([`Res`], [`Path`], [`Json`]...) and how to write
//!   your own.
//! - `ctx` — [`Ctx`], the request context every step sees.
//! - `rejection`, `reply` — [`Rejection`], and what handlers return ([`IntoReply`]).
//! - [`render`] — how rejections become responses under a subtree.
//! - `rests` — the requests run to completion whose clients left, counted so that a graceful
//!   shutdown waits for them.
//! - [`mod@serve`] — serving an [`App`] on hyper; [`limits`] — the defaults kotori enforces;
//!   `write_deadline` — the I/O wrapper that closes a connection whose client stops reading.
//! - [`sse`] — Server-Sent Events; [`Body`] streams any other response.
//! - `ws` — WebSocket routes, upgraded after the tree's guards (feature `ws`).
//! - `tower` — `App` as a `tower::Service`, and `Node::service` mounting one (feature
//!   `tower`).
//! - [`mod@test`] — the in-process test client.
//! - `metrics` — measurements keyed by the tree: route, refusing step, business code
//!   (feature `metrics`; Prometheus's text format with feature `prometheus`).
//!
//! # The path of a request
//!
//! [`serve`](fn@serve) accepts a connection and hands each request to [`App::dispatch`]
//! (`dispatch.rs`). Dispatch looks the path up once in the router of the compiled form
//! (`compiled.rs`): a match gives a route's chain, no match (or no such method) the chain of
//! the deepest node the path reaches, which ends in 404 or 405. It then walks the chain's steps
//! root to leaf — synchronous ones called directly, the first that awaits boxed once
//! (`step/`) — storing what loaders load in the [`Ctx`] (`ctx.rs`) for the extractors of later
//! steps (`extract.rs`). The first step that answers stops the walk; otherwise the handler
//! replies. A [`Rejection`] is rendered by the chain's renderer (`render.rs`), and the after
//! hooks of the nodes entered run leaf to root before the response goes out.

// On docs.rs (nightly, `--cfg docsrs`): items behind a feature say which.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod build;
mod compiled;
mod ctx;
pub mod dispatch;
mod error;
pub mod extract;
mod head_limit;
pub mod introspect;
pub mod limits;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
pub mod openapi;
mod path;
mod percent;
mod rejection;
pub mod render;
mod reply;
mod rests;
pub mod serve;
pub mod sse;
pub mod step;
pub mod test;
#[cfg(feature = "tower")]
mod tower;
mod tree;
mod write_deadline;
#[cfg(feature = "ws")]
pub mod ws;

pub use body::Body;
pub use compiled::{App, WeakApp};
pub use ctx::Ctx;
pub use error::{BuildError, Problem};
pub use extract::{Form, Json, Path, Query, Res, State};
pub use rejection::Rejection;
pub use reply::{IntoReply, Reply, Response};
pub use serve::{Serve, serve};
pub use step::{Named, declare, named};
pub use tree::{Kotori, Node, Route};

/// The `http` crate kotori's signatures use (requests, headers, status codes).
pub use http;

#[cfg(feature = "macros")]
pub use kotori_macros::{guard, handler, loader};

/// What the code generated by kotori's macros calls. Not a public API: it may change at any
/// time.
#[doc(hidden)]
pub mod __private {
    pub use crate::extract::{FromCtx, Needs, ResourceType};
    pub use crate::step::functions::pending;
    pub use crate::step::{Flow, Guard, Handler, Loader, Macro, Outcome, mode};
    use crate::step::{GuardOutput, LoaderOutput};
    pub use crate::{Ctx, Reply};
    use crate::{IntoReply, Rejection};

    pub fn guard_outcome(output: impl GuardOutput) -> Outcome {
        Outcome::of_guard(output)
    }

    pub fn loader_outcome<O: LoaderOutput>(output: O) -> Outcome {
        Outcome::of_loader(output)
    }

    pub fn rejected(rejection: Rejection) -> Outcome {
        Outcome::stop(rejection)
    }

    pub fn reply(output: impl IntoReply) -> Reply {
        output.into_reply()
    }

    /// The resource type a loader returning `O` produces.
    pub fn produces<O: LoaderOutput>() -> ResourceType {
        ResourceType::of::<O::Resource>()
    }
}

// The README's and the guide's Rust examples are compiled and run as doc tests, so they cannot
// drift from the API.
// The README's and the concepts page's examples use the `macros` feature (a default).
#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../docs/src/getting-started.md")]
struct GettingStartedDoctests;

#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../../docs/src/concepts.md")]
struct ConceptsDoctests;

#[cfg(all(doctest, feature = "ws", feature = "tower"))]
#[doc = include_str!("../../docs/src/streaming.md")]
struct StreamingDoctests;

#[cfg(all(doctest, feature = "macros"))]
#[doc = include_str!("../../docs/src/macros.md")]
struct MacrosDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../docs/src/openapi.md")]
struct OpenapiDoctests;

#[cfg(all(doctest, feature = "prometheus"))]
#[doc = include_str!("../../docs/src/observability.md")]
struct ObservabilityDoctests;
