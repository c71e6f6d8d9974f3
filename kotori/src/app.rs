//! The built application: router, compiled chains, state, and what introspection shows.

use http::Method;
use http::header::HeaderValue;

use crate::build::Chain;
use crate::introspect::{Audit, RouteInfo, TreeView};

/// A built tree, ready to serve: hand it to [`serve`](crate::serve), or drive it in process
/// with [`App::dispatch`] or the [test client](App::client).
///
/// Building did all the work that depends on the tree; an `App` is immutable and shared
/// between connections (wrap it in an `Arc`, as `serve` does).
pub struct App<S> {
    pub(crate) state: S,
    pub(crate) router: matchit::Router<usize>,
    pub(crate) entries: Box<[Entry]>,
    pub(crate) chains: Box<[Chain<S>]>,
    pub(crate) node_chains: Box<[Chain<S>]>,
    pub(crate) fallback: Box<[matchit::Router<usize>]>,
    pub(crate) routes: Vec<RouteInfo>,
    pub(crate) view: TreeView,
}

/// One path of the router: its routes by method, the `Allow` header for a 405, and the node
/// whose guards answer a method that is not there.
pub(crate) struct Entry {
    pub(crate) methods: Box<[(Method, usize)]>,
    pub(crate) allow: HeaderValue,
    pub(crate) node: usize,
}

impl Entry {
    /// The route for `method`; `HEAD` falls back to `GET`.
    pub(crate) fn route_for(&self, method: &Method) -> Option<usize> {
        let find = |m: &Method| self.methods.iter().find(|(x, _)| x == m).map(|(_, r)| *r);
        find(method).or_else(|| {
            (method == Method::HEAD)
                .then(|| find(&Method::GET))
                .flatten()
        })
    }
}

impl<S> App<S> {
    /// Every route with its method, full path and ordered chain of named steps, in the order
    /// they were declared.
    pub fn routes(&self) -> &[RouteInfo] {
        &self.routes
    }

    /// The tree with every node's steps and routes; its `Display` is the printed policy.
    pub fn tree(&self) -> &TreeView {
        &self.view
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
    /// manage.group().before(require_operator).get("/users.json", || async { "[]" });
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
        Audit::new(self.routes.iter().collect())
    }

    /// The application state.
    pub fn state(&self) -> &S {
        &self.state
    }
}
