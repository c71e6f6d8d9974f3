//! The compiled form of a tree: the router, one flattened chain per route and per node, and
//! what introspection shows. `build.rs` makes it; `dispatch.rs`
//! only reads it.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use http::header::HeaderValue;

use crate::introspect::{Audit, RouteInfo, TreeView};
use crate::render::Render;
use crate::step::{After, ErasedHandler, ErasedStep};

/// A built tree, ready to serve: hand it to [`serve`](crate::serve()), or drive it in process
/// with [`App::dispatch`] or the [test client](App::client).
///
/// Building did all the work that depends on the tree; an `App` is immutable, and a cheap
/// handle: cloning it shares the compiled tree (with the `tower` feature it is a
/// `tower::Service`, which needs that).
///
/// ```
/// use kotori::Kotori;
///
/// let app = Kotori::new(());
/// app.get("/", || async { "hello" });
/// let app = app.build().expect("a valid tree"); // an App
/// let served = app.clone(); // shares the compiled tree: one for the server, one for tests
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(app.client().get("/").send().await.text(), "hello");
/// # drop(served);
/// # });
/// ```
pub struct App<S>(pub(crate) Arc<Compiled<S>>);

impl<S> Clone for App<S> {
    fn clone(&self) -> Self {
        App(Arc::clone(&self.0))
    }
}

/// A handle to an [`App`] that does not keep it alive: what an app's own state holds to reach
/// its tree (for [`App::allows`]) without a reference cycle.
///
/// ```
/// use kotori::Kotori;
///
/// let app = Kotori::new(());
/// app.get("/", || async { "hello" });
/// let app = app.build().unwrap();
/// let weak = app.downgrade();
/// assert!(weak.upgrade().is_some());
/// drop(app);
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakApp<S>(std::sync::Weak<Compiled<S>>);

impl<S> Clone for WeakApp<S> {
    fn clone(&self) -> Self {
        WeakApp(self.0.clone())
    }
}

impl<S> WeakApp<S> {
    /// The app, while it is alive.
    ///
    /// ```
    /// let app = kotori::Kotori::new(()).build().unwrap();
    /// let weak = app.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// ```
    pub fn upgrade(&self) -> Option<App<S>> {
        self.0.upgrade().map(App)
    }
}

/// What an [`App`] shares between its clones.
pub(crate) struct Compiled<S> {
    pub(crate) state: S,
    pub(crate) router: matchit::Router<usize>,
    pub(crate) entries: Box<[Entry]>,
    pub(crate) route_chains: Box<[RouteChain<S>]>,
    pub(crate) node_chains: Box<[Chain<S>]>,
    pub(crate) fallback: Box<[matchit::Router<usize>]>,
    pub(crate) routes: Vec<RouteInfo>,
    pub(crate) view: TreeView,
    /// Requests run to completion whose clients left, finishing in tasks of their own.
    pub(crate) rests: Arc<crate::rests::Rests>,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
}

/// One path of the router: its routes by method, the `Allow` header for a 405, and the node
/// whose guards answer a method that is not there.
pub(crate) struct Entry {
    pub(crate) methods: Box<[(Method, usize)]>,
    /// A mounted service's route, which takes every method.
    pub(crate) any: Option<usize>,
    pub(crate) allow: HeaderValue,
    pub(crate) node: usize,
}

/// The compiled steps of a route or a node: guards and loaders, after hooks, renderer, limits.
pub(crate) struct Chain<S> {
    pub(crate) steps: Box<[ChainStep<S>]>,
    /// After hooks leaf to root; a refusal at depth `d` runs `afters[after_from[d]..]`.
    pub(crate) afters: Box<[Arc<dyn After<S>>]>,
    pub(crate) after_from: Box<[usize]>,
    pub(crate) renderer: Arc<dyn Render<S>>,
    /// The body is read before `steps[body_at]` (`steps.len()`: before the handler).
    pub(crate) body_at: usize,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) timeout: Option<Duration>,
    /// Whether a request that awaits runs as a task of its own, which a departing client
    /// does not cancel.
    pub(crate) run_to_completion: bool,
    pub(crate) param_names: Option<Arc<[Box<str>]>>,
    /// The depth of the handler (or, for a node chain, of the node).
    pub(crate) leaf_depth: u8,
    /// How many path parameters the handler sees.
    pub(crate) leaf_scope: u8,
    /// How many resources the chain's loaders store.
    pub(crate) loaders: usize,
    /// Where its requests are measured (set once the tree is built).
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<crate::metrics::RequestSeries>>,
}

/// One guard or loader of a chain, with the node it belongs to.
pub(crate) struct ChainStep<S> {
    pub(crate) step: Arc<dyn ErasedStep<S>>,
    /// Finishes without awaiting.
    pub(crate) sync: bool,
    /// Stores a resource (a loader).
    pub(crate) loads: bool,
    pub(crate) depth: u8,
    /// How many path parameters it sees: those of its node's prefix and above.
    pub(crate) scope: u8,
    /// Its name and declarations, for the series it refuses under.
    #[cfg(feature = "metrics")]
    pub(crate) desc: crate::introspect::StepDesc,
    /// Where its awaits are timed (steps that await only).
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<crate::metrics::StepSeries>>,
}

/// A route: its chain, ended by its handler. (A node's chain ends in 404 or 405 instead.)
pub(crate) struct RouteChain<S> {
    pub(crate) chain: Chain<S>,
    pub(crate) handler: ChainHandler<S>,
}

/// The handler that ends a route's chain.
pub(crate) struct ChainHandler<S> {
    pub(crate) run: Arc<dyn ErasedHandler<S>>,
    /// Finishes without awaiting.
    pub(crate) sync: bool,
    #[cfg(feature = "metrics")]
    pub(crate) desc: crate::introspect::StepDesc,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<crate::metrics::StepSeries>>,
}

impl Entry {
    /// The route for `method`; `HEAD` falls back to `GET`, and anything to a mounted
    /// service's `ANY`.
    pub(crate) fn route_for(&self, method: &Method) -> Option<usize> {
        let find = |m: &Method| self.methods.iter().find(|(x, _)| x == m).map(|(_, r)| *r);
        find(method)
            .or_else(|| {
                (method == Method::HEAD)
                    .then(|| find(&Method::GET))
                    .flatten()
            })
            .or(self.any)
    }
}

impl<S> App<S> {
    /// Every route with its method, full path and ordered chain of named steps, in the order
    /// they were declared.
    ///
    /// ```
    /// use kotori::Kotori;
    ///
    /// let app = Kotori::new(());
    /// app.node("/api").get("/me", || async { "me" });
    /// let app = app.build().unwrap();
    /// assert_eq!(app.routes()[0].path(), "/api/me");
    /// ```
    pub fn routes(&self) -> &[RouteInfo] {
        &self.0.routes
    }

    /// The tree with every node's steps and routes; its `Display` is the printed policy.
    ///
    /// ```
    /// use kotori::Kotori;
    ///
    /// let app = Kotori::new(());
    /// app.node("/api").get("/me", || async { "me" });
    /// let app = app.build().unwrap();
    /// println!("{}", app.tree()); // the policy, printed
    /// assert!(app.tree().to_string().contains("GET /api/me"));
    /// ```
    pub fn tree(&self) -> &TreeView {
        &self.0.view
    }

    /// Starts an audit over all routes: narrow it, then assert what every route passes.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    ///
    /// fn require_operator(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     cx.header("authorization").map(|_| ()).ok_or_else(Rejection::unauthorized)
    /// }
    ///
    /// let app = Kotori::new(());
    /// let manage = app.node("/manage");
    /// manage.post("/login.json", || async { "token" });
    /// manage.group().guard(require_operator).get("/users.json", || async { "[]" });
    /// let app = app.build().unwrap();
    ///
    /// app.audit()
    ///     .under("/manage")
    ///     .except("/manage/login.json")
    ///     .require("require_operator")
    ///     .unwrap();
    /// assert!(app.audit().under("/manage").require("require_operator").is_err());
    /// ```
    pub fn audit(&self) -> Audit<'_> {
        Audit::new(self.0.routes.iter().collect())
    }

    /// The OpenAPI 3.1 document of every route, its security and refusals derived from the
    /// steps on its path (see [`crate::openapi`]). Fails when a step names a security scheme
    /// `config` does not define.
    ///
    /// ```
    /// use kotori::Kotori;
    /// use kotori::openapi::OpenApi;
    ///
    /// let app = Kotori::new(());
    /// app.get("/hello", || async { "hello" });
    /// let app = app.build().unwrap();
    /// let document = app.openapi(&OpenApi::new("hello", "1.0.0")).unwrap();
    /// assert_eq!(document["openapi"], "3.1.0");
    /// assert!(document["paths"]["/hello"]["get"].is_object());
    /// ```
    pub fn openapi(
        &self,
        config: &crate::openapi::OpenApi,
    ) -> Result<serde_json::Value, crate::openapi::OpenApiError> {
        crate::openapi::document(&self.0.routes, config)
    }

    /// A handle that does not keep the app alive (see [`WeakApp`]).
    ///
    /// ```
    /// let app = kotori::Kotori::new(()).build().unwrap();
    /// let weak = app.downgrade(); // for the app's own state: no cycle
    /// assert!(weak.upgrade().is_some());
    /// ```
    pub fn downgrade(&self) -> WeakApp<S> {
        WeakApp(Arc::downgrade(&self.0))
    }

    /// The application state.
    ///
    /// ```
    /// let app = kotori::Kotori::new("config").build().unwrap();
    /// assert_eq!(*app.state(), "config");
    /// ```
    pub fn state(&self) -> &S {
        &self.0.state
    }

    /// What the app has measured (feature `metrics`): see [`crate::metrics`].
    ///
    /// ```
    /// let app = kotori::Kotori::new(());
    /// app.get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// assert!(!app.metrics().series().is_empty());
    /// ```
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.0.metrics
    }
}
