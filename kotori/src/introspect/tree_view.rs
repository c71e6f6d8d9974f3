//! The printed tree: every node with its steps and routes, the policy as a reader audits it.

use std::borrow::Cow;
use std::fmt;

use super::{RouteInfo, StepInfo, StepKind};

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
