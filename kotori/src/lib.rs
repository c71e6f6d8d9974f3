//! # kotori
//!
//! A route-guard framework for web backends whose URL space is a tree of authority.
//!
//! Every prefix node of the tree (`/manage`, `/manage/dating/admin/api`, `/live/{id}`) carries
//! **before hooks** (guards), **resource loaders** (turn `{id}` into a loaded, checked `Live`
//! once for everything below) and **after hooks**, and may set how rejections are
//! **rendered**. A route placed under a node is protected by every guard above it *by
//! construction*; the whole policy can be printed and audited; a handler that needs a resource
//! no ancestor loads is a build error.
//!
//! The tree compiles once into a [`matchit`] router whose leaves hold the flattened chain of
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
//! let courses = manage.node("/service1/god/api/courses").before(can_read_courses);
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

mod after;
mod app;
mod build;
mod client;
mod ctx;
mod dispatch;
mod error;
mod extract;
mod introspect;
mod percent;
mod rejection;
mod render;
mod reply;
mod serve;
pub mod step;
mod tree;

pub use after::After;
pub use app::App;
pub use build::DEFAULT_BODY_LIMIT;
pub use client::{TestClient, TestRequest, TestResponse};
pub use ctx::{Ctx, MAX_PARAMS};
pub use dispatch::BoxError;
pub use error::{BuildError, Problem};
pub use extract::{Form, FromCtx, Json, Needs, Path, Query, Res, ResourceType, State};
pub use introspect::{Audit, AuditFailure, RouteInfo, StepInfo, TreeView};
pub use rejection::Rejection;
pub use render::{Render, default_renderer, json_rejection, text_rejection, wants_json};
pub use reply::{Body, IntoReply, Reply, Response};
pub use serve::{DEFAULT_HEADER_READ_TIMEOUT, Serve, serve};
pub use step::{Handler, Hook, Loader, named};
pub use tree::{Kotori, Node, Route, StepKind};

pub use http;
pub use matchit;

// The README's and the guide's Rust examples are compiled and run as doc tests, so they cannot
// drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

#[cfg(doctest)]
#[doc = include_str!("../../docs/src/concepts.md")]
struct ConceptsDoctests;
