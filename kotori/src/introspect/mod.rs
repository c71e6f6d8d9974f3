//! Introspection: the route table, the printed tree (`tree_view`), and audits over them
//! (`audit`).

mod audit;
mod method;
mod tree_view;

pub use audit::{Audit, AuditFailure};
pub use method::MethodFilter;
pub(crate) use tree_view::NodeView;
pub use tree_view::TreeView;

use std::borrow::Cow;
use std::fmt;

use crate::openapi::Declares;

/// What kind of step an entry of a chain is.
///
/// ```
/// use kotori::{Ctx, Kotori, Rejection};
///
/// /// The caller's token.
/// fn token(cx: &mut Ctx<()>) -> Result<(), Rejection> {
///     cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized)
/// }
///
/// let app = Kotori::new(());
/// app.get("/healthz", || async { "ok" });
/// let api = app.node("/api").guard(token);
/// api.get("/me", || async { "me" });
/// api.post("/notes", || async { "saved" });
/// let app = app.build().unwrap();
/// use kotori::introspect::StepKind;
/// let me = &app.routes()[1];
/// let kinds: Vec<StepKind> = me.chain().iter().map(|s| s.kind()).collect();
/// assert_eq!(kinds, [StepKind::Guard, StepKind::Handler]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// A guard: lets the request pass or answers it.
    Guard,
    /// A resource loader.
    Load,
    /// An after hook.
    After,
    /// The route's handler.
    Handler,
}

/// A step's name and description, as introspection shows it.
#[derive(Clone, Debug)]
pub(crate) struct StepDesc {
    pub(crate) name: Cow<'static, str>,
    pub(crate) doc: Option<&'static str>,
    /// What it declares for the API description (shared: every route below holds it).
    pub(crate) declares: std::sync::Arc<Declares>,
}

/// A route as introspection sees it: method, full path and the chain that runs for it.
///
/// ```
/// # use kotori::{Ctx, Kotori, Rejection, named};
/// # let app = Kotori::new(());
/// # app.get("/healthz", || async { "ok" });
/// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
/// # let api = app.node("/api").guard(named("token", token));
/// # api.get("/me", || async { "me" });
/// # api.post("/notes", || async { "saved" });
/// # let app = app.build().unwrap();
/// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
/// for route in app.routes() {
///     println!("{} {} ({} steps before it)", route.method().as_str(), route.path(), route.guards().count());
/// }
/// ```
#[derive(Clone, Debug)]
pub struct RouteInfo {
    method: MethodFilter,
    path: String,
    chain: Vec<StepInfo>,
}

/// One step of a route's chain.
///
/// ```
/// # use kotori::{Ctx, Kotori, Rejection, named};
/// # let app = Kotori::new(());
/// # app.get("/healthz", || async { "ok" });
/// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
/// # let api = app.node("/api").guard(named("token", token));
/// # api.get("/me", || async { "me" });
/// # api.post("/notes", || async { "saved" });
/// # let app = app.build().unwrap();
/// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
/// let step = &app.routes()[1].chain()[0];
/// assert!(step.is("token"));
/// assert_eq!((step.node(), step.on_route()), ("/api", false));
/// ```
#[derive(Clone, Debug)]
pub struct StepInfo {
    desc: StepDesc,
    kind: StepKind,
    node: String,
    on_route: bool,
}

impl StepInfo {
    pub(crate) fn new(desc: StepDesc, kind: StepKind, node: String, on_route: bool) -> Self {
        StepInfo {
            desc,
            kind,
            node,
            on_route,
        }
    }

    /// The step's name: the function's path unless it was [`named`](crate::named).
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert!(app.routes()[1].chain()[0].name().ends_with("token"));
    /// ```
    pub fn name(&self) -> &str {
        &self.desc.name
    }

    /// Its one-line description, if it has one.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, named};
    ///
    /// let app = Kotori::new(());
    /// // A step written with the macros takes its doc line from the function's.
    /// let caller = named("caller", |_: &mut Ctx<()>| {}).doc("Who is calling.");
    /// app.guard(caller).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// assert_eq!(app.routes()[0].chain()[0].doc(), Some("Who is calling."));
    /// ```
    pub fn doc(&self) -> Option<&'static str> {
        self.desc.doc
    }

    /// What it declares for the API description: security, refusals, parameters.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    /// use kotori::{Ctx, Kotori, Rejection, declare};
    ///
    /// fn token(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized)
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.guard(declare(token, Declares::new().security("token"))).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// assert_eq!(app.routes()[0].chain()[0].declares().security_schemes(), ["token"]);
    /// ```
    pub fn declares(&self) -> &Declares {
        &self.desc.declares
    }

    /// Guard, loader, handler or after hook.
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// use kotori::introspect::StepKind;
    /// assert_eq!(app.routes()[1].chain()[0].kind(), StepKind::Guard);
    /// ```
    pub fn kind(&self) -> StepKind {
        self.kind
    }

    /// The full path of the node it is attached to (the route's path for route-level steps).
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert_eq!(app.routes()[1].chain()[0].node(), "/api");
    /// ```
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether it was attached to the route itself rather than to a node.
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert!(!app.routes()[1].chain()[0].on_route());
    /// ```
    pub fn on_route(&self) -> bool {
        self.on_route
    }

    /// Whether `name` names this step: the full name, or its last `::` segments
    /// (`require_operator` matches `app::manage::require_operator`).
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// let step = &app.routes()[1].chain()[0];
    /// assert!(step.is("token") && !step.is("oken"));
    /// ```
    pub fn is(&self, name: &str) -> bool {
        let full = self.name();
        full == name
            || full
                .strip_suffix(name)
                .is_some_and(|head| head.ends_with("::"))
    }
}

impl RouteInfo {
    pub(crate) fn new(method: MethodFilter, path: String, chain: Vec<StepInfo>) -> Self {
        RouteInfo {
            method,
            path,
            chain,
        }
    }

    /// The method the route answers: one, or any (a mounted service).
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert_eq!(app.routes()[1].method().as_str(), "GET");
    /// ```
    pub fn method(&self) -> &MethodFilter {
        &self.method
    }

    /// The full path, as given to the router (`/live/{live_id}/show.json`).
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// let paths: Vec<&str> = app.routes().iter().map(|r| r.path()).collect();
    /// assert_eq!(paths, ["/healthz", "/api/me", "/api/notes"]);
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Every step in the order it runs: guards and loaders root to leaf, the handler, then the
    /// after hooks leaf to root.
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert_eq!(app.routes()[1].chain().len(), 2); // the guard, then the handler
    /// ```
    pub fn chain(&self) -> &[StepInfo] {
        &self.chain
    }

    /// The guards and loaders that run before the handler, in order.
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert_eq!(app.routes()[0].guards().count(), 0);
    /// assert_eq!(app.routes()[1].guards().count(), 1);
    /// ```
    pub fn guards(&self) -> impl Iterator<Item = &StepInfo> {
        self.chain
            .iter()
            .take_while(|s| s.kind != StepKind::Handler)
    }

    /// The handler.
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert_eq!(app.routes()[1].handler().kind(), kotori::introspect::StepKind::Handler);
    /// ```
    pub fn handler(&self) -> &StepInfo {
        self.chain
            .iter()
            .find(|s| s.kind == StepKind::Handler)
            .expect("every route has a handler")
    }

    /// Whether a guard or loader named `step` runs before the handler.
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert!(app.routes()[1].passes("token"));
    /// assert!(!app.routes()[0].passes("token"));
    /// ```
    pub fn passes(&self, step: &str) -> bool {
        self.guards().any(|s| s.is(step))
    }

    /// Whether a guard or loader before the handler declares the security scheme `scheme`.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    /// use kotori::{Ctx, Kotori, Rejection, declare};
    ///
    /// fn bearer(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     cx.header("authorization").map(drop).ok_or_else(Rejection::unauthorized)
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/admin").guard(declare(bearer, Declares::new().security("bearer"))).get("/users", || async { "[]" });
    /// let app = app.build().unwrap();
    /// assert!(app.routes()[0].secured_by("bearer"));
    /// ```
    pub fn secured_by(&self, scheme: &str) -> bool {
        self.guards()
            .any(|s| s.declares().security_schemes().iter().any(|x| x == scheme))
    }
}

impl fmt::Display for RouteInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        for step in &self.chain {
            let arrow = match step.kind {
                StepKind::Guard | StepKind::Load => "→",
                StepKind::Handler => "⇒",
                StepKind::After => "←",
            };
            write!(f, " {arrow} {}", step.name())?;
        }
        Ok(())
    }
}
