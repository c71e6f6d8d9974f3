//! The request context every step and handler receives.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use bytes::Bytes;
use http::header::AsHeaderName;
use http::request::Parts;
use http::{Extensions, HeaderMap, Method, Uri};
use serde::de::DeserializeOwned;

use crate::Rejection;
use crate::limits::MAX_PARAMS;
use crate::percent;

/// Everything a step knows about the request in flight: its head, path parameters, the
/// resources loaded by the loaders above, the body once read, and the application state.
///
/// Steps that take `&mut Ctx<S>` see all of it; most steps take extractors instead
/// ([`Res`](crate::Res), [`Path`](crate::Path), [`State`](crate::State)...), which read from it.
pub struct Ctx<S> {
    parts: Parts,
    state: S,
    pub(crate) params: Params,
    pub(crate) resources: Vec<Loaded>,
    pub(crate) body: Option<Bytes>,
    /// How many path parameters the running step may see: those of its node's prefix.
    pub(crate) scope: u8,
    /// The deepest node depth entered so far; after hooks run from there up.
    pub(crate) depth: u8,
    request_id: OnceCell<Box<str>>,
    peer: Option<SocketAddr>,
    started: Instant,
    /// The chain step running (its index; the handler's is the number of steps).
    #[cfg(feature = "metrics")]
    pub(crate) at: u16,
    /// The step that refused the request, panicked or timed out (`metrics::NO_STEP`: none).
    #[cfg(feature = "metrics")]
    pub(crate) refused_by: u16,
    /// Where the request is measured — its route or node, and the names of its chain's steps:
    /// set when its chain is found, for [`Ctx::route`] and the rest.
    #[cfg(feature = "metrics")]
    pub(crate) series: Option<Arc<crate::metrics::RequestSeries>>,
    /// The business code of the rejection rendered, for [`Ctx::rejection_code`].
    #[cfg(feature = "metrics")]
    pub(crate) rejection_code: Option<u32>,
    /// The steps that awaited, for the request's span's children (feature `otel`).
    #[cfg(feature = "otel")]
    pub(crate) awaited: Vec<crate::metrics::otel::Awaited>,
}

/// A loaded resource, stored by type.
#[derive(Clone)]
pub(crate) struct Loaded {
    pub(crate) type_id: TypeId,
    pub(crate) value: Arc<dyn Any + Send + Sync>,
}

impl Loaded {
    pub(crate) fn new<T: Send + Sync + 'static>(value: T) -> Self {
        Loaded {
            type_id: TypeId::of::<T>(),
            value: Arc::new(value),
        }
    }
}

/// Path parameters as byte ranges into the request path: no copy, no allocation.
#[derive(Default)]
pub(crate) struct Params {
    pub(crate) names: Option<Arc<[Box<str>]>>,
    pub(crate) ranges: [(u32, u32); MAX_PARAMS],
    pub(crate) len: u8,
}

impl<S> Ctx<S> {
    pub(crate) fn new(parts: Parts, state: S, peer: Option<SocketAddr>) -> Self {
        Ctx {
            peer,
            started: Instant::now(),
            parts,
            state,
            params: Params::default(),
            resources: Vec::new(),
            body: None,
            scope: 0,
            depth: 0,
            request_id: OnceCell::new(),
            #[cfg(feature = "metrics")]
            at: 0,
            #[cfg(feature = "metrics")]
            refused_by: u16::MAX,
            #[cfg(feature = "metrics")]
            series: None,
            #[cfg(feature = "metrics")]
            rejection_code: None,
            #[cfg(feature = "otel")]
            awaited: Vec::new(),
        }
    }

    /// The address of the client's end of the connection, when served over a socket (behind a
    /// proxy this is the proxy: read its forwarding header if you trust it).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// When kotori started on this request (for access logs and latency metrics).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request URI as sent.
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The request path, still percent-encoded.
    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    /// The raw query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.parts.uri.query()
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// One header as text; `None` when absent or not visible ASCII.
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        self.parts.headers.get(name)?.to_str().ok()
    }

    /// The request's extensions: a typed map for data that is not a loaded resource.
    pub fn extensions(&self) -> &Extensions {
        &self.parts.extensions
    }

    /// The request's extensions, mutably.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.parts.extensions
    }

    /// The application state given to [`Kotori::new`](crate::Kotori::new).
    pub fn state(&self) -> &S {
        &self.state
    }

    /// A context for asking the tree about another request by the same client
    /// ([`App::allows`](crate::App::allows)): this request's head and peer with another method
    /// and URI, an empty body, nothing loaded yet.
    pub(crate) fn probe(&self, method: Method, uri: Uri) -> Self
    where
        S: Clone,
    {
        let mut parts = self.parts.clone();
        parts.method = method;
        parts.uri = uri;
        let mut cx = Ctx::new(parts, self.state.clone(), self.peer);
        cx.body = Some(Bytes::new());
        cx
    }

    /// Path parameter `index` as sent (still percent-encoded).
    pub(crate) fn raw_param(&self, index: usize) -> Option<&str> {
        if index >= usize::from(self.params.len) {
            return None;
        }
        let (start, end) = self.params.ranges[index];
        self.path().get(start as usize..end as usize)
    }

    /// A path parameter visible to the running step, percent-decoded.
    ///
    /// A step sees the parameters of its own node's prefix and of the nodes above; a handler
    /// sees all of its route's. `None` when there is no such parameter in scope, or when its
    /// escapes are malformed.
    pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        let names = self.params.names.as_deref()?;
        let visible = usize::from(self.scope.min(self.params.len));
        let index = names[..visible].iter().position(|n| &**n == name)?;
        self.param_at(index)
    }

    /// A path parameter parsed as `T`; a missing or unparsable parameter is a 404, because the
    /// URL names nothing that exists.
    pub fn param_as<T: FromStr>(&self, name: &str) -> Result<T, Rejection> {
        self.param(name)
            .and_then(|raw| raw.parse().ok())
            .ok_or_else(Rejection::not_found)
    }

    /// The innermost parameter visible to the running step (the one of its own node, for a
    /// loader on `/live/{id}`).
    pub(crate) fn innermost_param(&self) -> Option<Cow<'_, str>> {
        let visible = self.scope.min(self.params.len);
        self.param_at(usize::from(visible.checked_sub(1)?))
    }

    /// The last path parameter of the route as sent, still percent-encoded (a mounted
    /// service's rest of the path).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn last_raw_param(&self) -> Option<&str> {
        let (start, end) = self.params.ranges[usize::from(self.params.len.checked_sub(1)?)];
        self.path().get(start as usize..end as usize)
    }

    /// The request head: a mounted service gets the whole request.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn parts_mut(&mut self) -> &mut Parts {
        &mut self.parts
    }

    fn param_at(&self, index: usize) -> Option<Cow<'_, str>> {
        let (start, end) = self.params.ranges[index];
        percent::decode(self.path().get(start as usize..end as usize)?)
    }

    /// A resource loaded by a loader above the running step.
    ///
    /// Prefer the [`Res`](crate::Res) extractor: kotori checks at build time that some ancestor
    /// loads what it asks for; this method cannot be checked and returns `None` instead.
    pub fn resource<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.loaded::<T>()?.value.downcast_ref::<T>()
    }

    /// The resource as a shared handle, for the [`Res`](crate::Res) extractor.
    pub(crate) fn resource_arc<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        Arc::clone(&self.loaded::<T>()?.value).downcast::<T>().ok()
    }

    fn loaded<T: 'static>(&self) -> Option<&Loaded> {
        let id = TypeId::of::<T>();
        // Newest first: a loader below may refine what a loader above loaded.
        self.resources.iter().rev().find(|l| l.type_id == id)
    }

    /// The request body, once read.
    ///
    /// kotori reads the body (within the route's limit) right before the first step whose
    /// extractors need it ([`Form`](crate::Form), [`Json`](crate::Json), [`Bytes`]) and before
    /// the handler. A guard taking `&mut Ctx` that wants the body should take a `Bytes` or
    /// `Form` extractor instead; otherwise this answers a 500 and logs what to do.
    pub fn body(&self) -> Result<&Bytes, Rejection> {
        self.body.as_ref().ok_or_else(|| {
            tracing::error!(
                request_id = self.request_id(),
                "the body is not read yet at this step: take a Bytes, Form or Json extractor; answering 500"
            );
            Rejection::internal()
        })
    }

    /// The query string deserialized as `T` (a 400 that names the problem otherwise).
    pub fn query_as<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_urlencoded::from_str(self.query().unwrap_or(""))
            .map_err(|e| Rejection::bad_request(format!("bad query string: {e}")))
    }

    /// The body deserialized from `application/x-www-form-urlencoded`.
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_urlencoded::from_bytes(self.body()?)
            .map_err(|e| Rejection::bad_request(format!("bad form body: {e}")))
    }

    /// The body deserialized from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_json::from_slice(self.body()?)
            .map_err(|e| Rejection::bad_request(format!("bad JSON body: {e}")))
    }

    /// The template of the route the request matched (`/live/{live_id}/show`), as the tree
    /// prints it; `None` when no route matched — a 404, a 405, or a refusal by the guards of
    /// the node its path fell under ([`Ctx::node`] names that node). Known to every step, the
    /// renderer and the after hooks: a log line, a limit or a cache keyed by what was asked,
    /// never by the raw path with its ids (feature `metrics`).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn log(cx: &Ctx<()>, res: &mut Response) {
    ///     let route = cx.route().or(cx.node()).unwrap_or("-");
    ///     let refused_by = cx.refused_by().unwrap_or("-");
    ///     println!("{} {route} {} {refused_by}", cx.method(), res.status());
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(log); // prints "GET /users/{id} 200 OK -"
    /// app.get("/users/{id}", || async { "a user" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let res = app.client().get("/users/7").send().await;
    /// # assert_eq!(res.status(), 200);
    /// # });
    /// ```
    #[cfg(feature = "metrics")]
    pub fn route(&self) -> Option<&str> {
        match self.series.as_deref()?.place() {
            crate::metrics::Place::Route { template, .. } => Some(template),
            crate::metrics::Place::Node { .. } => None,
        }
    }

    /// The prefix of the deepest node the request's path reached, when no route matched it
    /// (`/manage/dating/admin/api`); `None` when a route did ([`Ctx::route`]). Known to every
    /// step, the renderer and the after hooks (feature `metrics`).
    #[cfg(feature = "metrics")]
    pub fn node(&self) -> Option<&str> {
        match self.series.as_deref()?.place() {
            crate::metrics::Place::Route { .. } => None,
            crate::metrics::Place::Node { prefix } => Some(prefix),
        }
    }

    /// The guard, loader or handler that refused the request — or panicked, or was running
    /// when the route's timeout struck — named as the tree prints it
    /// (`require_privilege(users:ban)`, `app::auth::verify_signature`); `None` for an answer
    /// no step refused: a success, or a refusal kotori made itself (404, 405, a body over its
    /// limit). Known to the renderer and the after hooks (feature `metrics`); `None` before.
    #[cfg(feature = "metrics")]
    pub fn refused_by(&self) -> Option<&str> {
        self.series.as_deref()?.step_name(self.refused_by)
    }

    /// The business code of the [`Rejection`] the request was answered with (`40103`), kotori's
    /// own refusals included (a 404's `40401`); `None` for a response a handler returned.
    /// Known to the renderer and the after hooks (feature `metrics`); `None` before.
    #[cfg(feature = "metrics")]
    pub fn rejection_code(&self) -> Option<u32> {
        self.rejection_code
    }

    /// The request id: the client's `X-Request-Id` when it is safe to echo (1–64 characters of
    /// `A-Z a-z 0-9 - _ .`), else a fresh one. Made on first use.
    pub fn request_id(&self) -> &str {
        self.request_id
            .get_or_init(|| match self.header("x-request-id") {
                Some(id) if is_safe_request_id(id) => id.into(),
                _ => fresh_request_id(),
            })
    }
}

fn is_safe_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A process-random prefix and a counter: unique per process, unguessable across processes,
/// and cheaper than a random number per request.
fn fresh_request_id() -> Box<str> {
    static SEED: LazyLock<u64> = LazyLock::new(|| RandomState::new().hash_one(0u8));
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:08x}-{n:x}", *SEED as u32).into_boxed_str()
}
