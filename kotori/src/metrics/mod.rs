//! Measurements keyed by what the tree knows (feature `metrics`): every request under its
//! route template, its status, the step that refused it and the business code it was refused
//! with; awaited steps under their names; active requests and open streams per route.
//!
//! Add-ons for other frameworks guess the route from a matched-path string (or fall back to
//! the raw path, an unbounded label) and cannot say which guard refused a request. Here the
//! built tree hands every label over: the route templates, the step names as the tree prints
//! them, and the refusals each step declares for the OpenAPI document. So the series a
//! running app can produce are listed at `build()` ([`Metrics::series`]), and recording one is
//! a few atomic adds into storage made then — no lock, no allocation, no string formatting.
//!
//! | instrument | labels (OpenTelemetry attribute names) |
//! |---|---|
//! | `http.server.request.duration` (histogram, s) | `http.request.method`, `http.route` or `kotori.node`, `http.response.status_code`, `kotori.step`, `kotori.code` |
//! | `kotori.step.duration` (histogram, s) | `kotori.step`, `kotori.outcome` (`pass`, `refuse`) |
//! | `http.server.active_requests` (gauge) | `http.request.method`, `http.route` or `kotori.node` |
//! | `kotori.open_streams` (gauge) | `http.route`, `kotori.stream` (`sse`, `websocket`) |
//!
//! - `http.route` is the matched route's template (`/live/{live_id}/show.json`); a request no
//!   route matched (a 404, a 405, a refusal by the guards of the node it fell under) has no
//!   `http.route` but `kotori.node`, the prefix of the deepest node its path reached.
//! - `http.request.method` is one of the nine standard methods, else `_OTHER`.
//! - `kotori.step` names the guard, loader or handler that refused the request (or panicked,
//!   or was running when the route's timeout struck); a request kotori itself refused (404,
//!   405, an oversized or stalled body) has none. `kotori.code` is the business code of the
//!   [`Rejection`](crate::Rejection) rendered, when one was.
//! - A request's duration runs from its arrival to its response's head; a stream's life (SSE,
//!   WebSocket) is the open-streams gauge, not its request's duration.
//! - `kotori.step.duration` measures the steps that awaited (a synchronous step takes
//!   nanoseconds, and timing it would cost more than it does).
//!
//! The series a route can produce are bounded by construction: its method, then either the
//! success its handler declares (`200` unless [`Declares::success_as`] says otherwise) or a refusal some
//! step on its chain declares ([`Declares::refuses`]). Those are made at `build()` and
//! [`Metrics::observed`] reads them all, at zero until counted (the Prometheus page shows a
//! histogram once it has counted something). An answer nobody declared (a panic's 500, a body over the limit,
//! a status a handler did not declare) gets a series of its own when it first happens — at
//! most [`EXTRA_PER_PLACE`] per route or node; past that it is counted in
//! [`Metrics::dropped`] only. An app whose steps declare what they answer (which its OpenAPI
//! document wants anyway) produces exactly [`Metrics::series`].
//!
//! [`Declares::success_as`]: crate::openapi::Declares::success_as
//! [`Declares::refuses`]: crate::openapi::Declares::refuses
//!
//! ```
//! use kotori::{Kotori, Rejection};
//!
//! fn require_token(cx: &mut kotori::Ctx<()>) -> Result<(), Rejection> {
//!     cx.header("authorization").map(|_| ()).ok_or_else(Rejection::unauthorized)
//! }
//!
//! let app = Kotori::new(());
//! let metrics = app.metrics(); // a handle: filled by `build()`
//! app.node("/api")
//!     .guard(kotori::declare(require_token, kotori::openapi::Declares::new()
//!         .refuses(401, 40101, "no token")))
//!     .get("/users/{id}", || async { "a user" });
//! let app = app.build().unwrap();
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! app.client().get("/api/users/7").send().await; // refused: no token
//! # });
//! let metrics = metrics.get().expect("built");
//! let refused = metrics
//!     .observed()
//!     .into_iter()
//!     .find(|(series, _)| series.label("kotori.step").is_some_and(|s| s.ends_with("require_token")))
//!     .unwrap();
//! assert_eq!(refused.0.label("http.route"), Some("/api/users/{id}"));
//! assert_eq!(refused.0.label("kotori.code"), Some("40101"));
//! assert_eq!(refused.1.count(), Some(1));
//! ```

mod declared;
mod histogram;
mod labels;
#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
pub mod otel;
mod places;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub mod prometheus;
mod reading;
mod record;
mod series;

use std::sync::{Arc, OnceLock};

pub(crate) use declared::{ChainPlace, build_metrics};
pub use histogram::{BOUNDARIES, Snapshot};
pub(crate) use labels::{StreamKind, method_index};
pub(crate) use places::{Key, Place, RequestSeries, StepSeries};
pub use reading::Metrics;
pub(crate) use record::{ActiveRequest, StreamLife, StreamMark};
pub use series::{EXTRA_PER_PLACE, Instrument, Series, Value};

/// The [`Metrics`] of an app, reachable before it is built: [`Kotori::metrics`] hands one out
/// so that a route declared in the tree (a `/metrics` endpoint) can read the measurements of
/// the app it is part of. Cheap to clone.
///
/// [`Kotori::metrics`]: crate::Kotori::metrics
///
/// ```
/// use kotori::Kotori;
///
/// let app = Kotori::new(());
/// let handle = app.metrics();
/// assert!(handle.get().is_none()); // not built yet
/// app.get("/", || async { "hi" });
/// let _app = app.build().unwrap();
/// assert!(handle.get().is_some());
/// ```
#[derive(Clone, Default)]
pub struct MetricsHandle(Arc<OnceLock<Arc<Metrics>>>);

impl MetricsHandle {
    /// The measurements, once the tree is built (`None` before).
    ///
    /// ```
    /// let app = kotori::Kotori::new(());
    /// let handle = app.metrics();
    /// let _app = app.build().unwrap();
    /// assert_eq!(handle.get().map(|m| m.dropped()), Some(0));
    /// ```
    pub fn get(&self) -> Option<&Metrics> {
        self.0.get().map(|m| &**m)
    }

    pub(crate) fn fill(&self, metrics: Arc<Metrics>) {
        // A tree is built once (`build` consumes it), so this is the only fill.
        let _ = self.0.set(metrics);
    }
}

impl std::fmt::Debug for MetricsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsHandle")
            .field("built", &self.0.get().is_some())
            .finish()
    }
}
