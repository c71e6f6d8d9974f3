//! Introspection: the route table, the printed tree, and audits over them.

use std::borrow::Cow;
use std::fmt;

use http::Method;

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

/// The request methods a route answers: one method, or any (a service mounted with
/// [`Node::service`](crate::Node::service), which sees every method).
///
/// It compares with a [`Method`] and with a method name:
///
/// ```
/// use kotori::introspect::MethodFilter;
/// use kotori::http::Method;
///
/// let get = MethodFilter::Only(Method::GET);
/// assert!(get == Method::GET && get == *"GET");
/// assert_eq!(MethodFilter::Any.to_string(), "ANY");
/// assert!(MethodFilter::Any != Method::GET);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MethodFilter {
    /// This method only (a `GET` route also answers `HEAD`).
    Only(Method),
    /// Every method.
    Any,
}

impl MethodFilter {
    /// The method's name, or `ANY` (as the printed tree shows it).
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
    /// assert_eq!(app.routes()[2].method().as_str(), "POST");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            MethodFilter::Only(method) => method.as_str(),
            MethodFilter::Any => "ANY",
        }
    }

    /// The one method, if the route answers one.
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
    /// assert_eq!(app.routes()[2].method().method(), Some(&kotori::http::Method::POST));
    /// ```
    pub fn method(&self) -> Option<&Method> {
        match self {
            MethodFilter::Only(method) => Some(method),
            MethodFilter::Any => None,
        }
    }
}

impl fmt::Display for MethodFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `MethodFilter::Any` equals no single method: it is not one.
impl PartialEq<Method> for MethodFilter {
    fn eq(&self, other: &Method) -> bool {
        self.method() == Some(other)
    }
}

impl PartialEq<Method> for &MethodFilter {
    fn eq(&self, other: &Method) -> bool {
        (*self).eq(other)
    }
}

/// Compares with a method's name (`"GET"`); only `Any` equals `"ANY"`.
impl PartialEq<str> for MethodFilter {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
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

/// A node as the printed tree shows it.
pub(crate) struct NodeView {
    pub(crate) depth: usize,
    pub(crate) prefix: String,
    pub(crate) full: String,
    pub(crate) steps: Vec<StepInfo>,
    pub(crate) renderer: Option<Cow<'static, str>>,
    pub(crate) routes: Vec<usize>,
}

/// The whole tree: every node with its guards, loaders, after hooks and renderer, and every
/// route with its handler and route-level steps. Print it with `{}`.
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
/// let printed = app.tree().to_string();
/// assert!(printed.contains("/api  [/api]"));
/// assert!(printed.contains("GET /api/me"));
/// ```
pub struct TreeView {
    nodes: Vec<NodeView>,
    routes: Vec<RouteInfo>,
}

impl TreeView {
    pub(crate) fn new(nodes: Vec<NodeView>, routes: Vec<RouteInfo>) -> Self {
        TreeView { nodes, routes }
    }
}

fn kind_label(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Guard => "guard",
        StepKind::Load => "load",
        StepKind::After => "after",
        StepKind::Handler => "handler",
    }
}

fn write_step(f: &mut fmt::Formatter<'_>, indent: &str, step: &StepInfo) -> fmt::Result {
    write!(f, "{indent}{:<7} {}", kind_label(step.kind), step.name())?;
    let schemes = step.declares().security_schemes();
    if !schemes.is_empty() {
        write!(f, "  [security: {}]", schemes.join(" + "))?;
    }
    if let Some(doc) = step.doc() {
        write!(f, "  — {doc}")?;
    }
    writeln!(f)
}

impl fmt::Display for TreeView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for node in &self.nodes {
            let indent = "  ".repeat(node.depth);
            match (node.depth, node.prefix.as_str()) {
                (0, _) => writeln!(f, "{}", node.full)?,
                (_, "") => writeln!(f, "{indent}(group)")?,
                (_, prefix) => writeln!(f, "{indent}{prefix}  [{}]", node.full)?,
            }
            let inner = format!("{indent}  ");
            for step in &node.steps {
                write_step(f, &inner, step)?;
            }
            if let Some(renderer) = &node.renderer {
                writeln!(f, "{inner}{:<7} {renderer}", "render")?;
            }
            for &id in &node.routes {
                let route = &self.routes[id];
                writeln!(
                    f,
                    "{inner}{} {}  ⇒ {}",
                    route.method,
                    route.path,
                    route.handler().name()
                )?;
                let deeper = format!("{inner}    ");
                for step in route
                    .chain
                    .iter()
                    .filter(|s| s.on_route && s.kind != StepKind::Handler)
                {
                    write_step(f, &deeper, step)?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TreeView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A selection of routes to assert a policy over; see [`App::audit`](crate::App::audit).
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
/// app.audit().under("/api").require("token").unwrap();
/// let failure = app.audit().require("token").unwrap_err();
/// assert_eq!(failure.routes(), ["GET /healthz"]);
/// ```
#[derive(Clone, Debug)]
pub struct Audit<'a> {
    routes: Vec<&'a RouteInfo>,
}

/// The routes that broke an audited rule. Its `Display` names them all.
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
/// let failure = app.audit().require("token").unwrap_err();
/// assert!(failure.to_string().contains("GET /healthz"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFailure {
    rule: String,
    routes: Vec<String>,
}

impl AuditFailure {
    /// The offending routes, as `METHOD /path`.
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
    /// let failure = app.audit().require("token").unwrap_err();
    /// assert_eq!(failure.routes(), ["GET /healthz"]);
    /// ```
    pub fn routes(&self) -> &[String] {
        &self.routes
    }
}

impl fmt::Display for AuditFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "audit failed: {}", self.rule)?;
        for route in &self.routes {
            write!(f, "\n  - {route}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AuditFailure {}

fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl<'a> Audit<'a> {
    pub(crate) fn new(routes: Vec<&'a RouteInfo>) -> Self {
        Audit { routes }
    }

    /// Keeps the routes whose path is `prefix` or lies below it (segment-wise: `/manage`
    /// does not select `/manager`).
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
    /// assert_eq!(app.audit().under("/api").routes().len(), 2);
    /// assert_eq!(app.audit().under("/ap").routes().len(), 0); // segments, not characters
    /// ```
    pub fn under(mut self, prefix: &str) -> Self {
        self.routes.retain(|r| under(&r.path, prefix));
        self
    }

    /// Drops the routes whose path is exactly `path` (any method).
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
    /// app.audit().except("/healthz").require("token").unwrap();
    /// ```
    pub fn except(mut self, path: &str) -> Self {
        self.routes.retain(|r| r.path != path);
        self
    }

    /// Keeps the routes `keep` accepts.
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
    /// let writes = app.audit().filter(|r| r.method().as_str() != "GET");
    /// writes.require("token").unwrap();
    /// ```
    pub fn filter(mut self, keep: impl Fn(&RouteInfo) -> bool) -> Self {
        self.routes.retain(|r| keep(r));
        self
    }

    /// The selected routes.
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
    /// assert_eq!(app.audit().under("/api").routes()[0].path(), "/api/me");
    /// ```
    pub fn routes(&self) -> &[&'a RouteInfo] {
        &self.routes
    }

    /// Asserts that every selected route passes the guard or loader `step` before its handler.
    ///
    /// An empty selection fails too: an audit that checks nothing proves nothing (a typo in
    /// `under` would otherwise pass silently).
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
    /// app.audit().under("/api").require("token").unwrap();
    /// assert!(app.audit().under("/healthz").require("token").is_err());
    /// assert!(app.audit().under("/typo").require("token").is_err()); // nothing selected
    /// ```
    pub fn require(&self, step: &str) -> Result<(), AuditFailure> {
        self.check(&format!("every route passes `{step}`"), |r| r.passes(step))
    }

    /// Asserts that every selected route passes a guard or loader declaring the security scheme
    /// `scheme` (see [`Declares::security`]): "every operation under /manage declares bearer
    /// security", checked against the same declarations the OpenAPI document is made of.
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
    /// app.get("/healthz", || async { "ok" });
    /// let app = app.build().unwrap();
    /// app.audit().under("/admin").require_security("bearer").unwrap();
    /// assert!(app.audit().require_security("bearer").is_err());
    /// ```
    pub fn require_security(&self, scheme: &str) -> Result<(), AuditFailure> {
        self.check(
            &format!("every route declares the security `{scheme}`"),
            |r| r.secured_by(scheme),
        )
    }

    fn check(&self, rule: &str, holds: impl Fn(&RouteInfo) -> bool) -> Result<(), AuditFailure> {
        if self.routes.is_empty() {
            return Err(AuditFailure {
                rule: format!("{rule}: no route was selected"),
                routes: Vec::new(),
            });
        }
        let missing: Vec<String> = self
            .routes
            .iter()
            .filter(|r| !holds(r))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AuditFailure {
                rule: format!("{rule}; these do not"),
                routes: missing,
            })
        }
    }
}
