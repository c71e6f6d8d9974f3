//! Compiling the tree: flattened chains and a matchit router, built once.
//!
//! Everything that depends only on the tree is decided here — the full path of each route, the
//! ordered steps that guard it, where its body is read, which after hooks run for a refusal at
//! each depth, which renderer and limits apply — so that dispatch is one router lookup and a
//! walk over a slice. The result is the compiled form (`compiled.rs`) and the
//! [introspection](crate::introspect) data.

use std::any::TypeId;
use std::sync::Arc;

use crate::compiled::{App, Chain, ChainStep, Compiled};
use crate::error::{BuildError, Problem};
use crate::extract::Needs;
use crate::introspect::{NodeView, RouteInfo, StepInfo, StepKind, TreeView};
use crate::limits::{DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, MAX_PARAMS};
use crate::render::{self, Render};
use crate::tree::{Attached, Kotori, RouteDef, Tree};

mod nodes;
mod routes;

use nodes::{NodeInfo, fallback_routers, resolve_nodes};
use routes::{compile_routes, route_table};

impl<S: Clone + Send + Sync + 'static> Kotori<S> {
    /// Compiles the tree: joins prefixes, flattens every route's chain of steps, checks that
    /// each step's resources are loaded above it, and builds the router.
    ///
    /// Every problem is collected and reported at once; see [`BuildError`]. No tree makes it
    /// panic.
    ///
    /// The tree is finished then: changing a node or route handle afterwards panics, since a
    /// guard added to a built tree would look attached and protect nothing.
    ///
    /// ```
    /// use kotori::{Kotori, Res};
    ///
    /// struct Live;
    ///
    /// let app = Kotori::new(());
    /// app.get("/a", || async { "a" });
    /// app.get("/a", || async { "again" }); // a duplicate
    /// app.get("/live", |_: Res<Live>| async { "live" }); // nothing loads a Live
    /// let error = app.build().err().expect("two problems");
    /// assert_eq!(error.problems().len(), 2); // every problem, reported at once
    /// ```
    pub fn build(self) -> Result<App<S>, BuildError> {
        let mut tree = self.root.tree.borrow_mut();
        tree.built = true;
        #[cfg(feature = "otel")]
        let otel = self.otel.get();
        #[cfg(not(feature = "otel"))]
        let otel = false;
        let app = build(&tree, self.state, otel)?;
        #[cfg(feature = "metrics")]
        self.metrics.fill(Arc::clone(&app.0.metrics));
        Ok(app)
    }
}

/// The route a chain is compiled for (node chains have none).
struct Target<'t, S> {
    def: &'t RouteDef<S>,
    path: &'t str,
    /// `GET /path`, for problems.
    label: &'t str,
}

/// One level of a chain: what is attached there, how many parameters it sees, and the path it
/// is shown under.
struct Level<'t, S> {
    attached: &'t Attached<S>,
    scope: u8,
    node: &'t str,
    on_route: bool,
}

fn build<S: Clone + Send + Sync + 'static>(
    tree: &Tree<S>,
    state: S,
    otel: bool,
) -> Result<App<S>, BuildError> {
    #[cfg(not(feature = "metrics"))]
    let _ = otel;
    // Every phase reports what it finds and goes on: the user sees every problem at once.
    let mut problems = Vec::new();
    let nodes = resolve_nodes(tree, &mut problems);
    // Node chains answer 404 and 405: the node's steps, then a refusal.
    let node_chains: Vec<Chain<S>> = nodes
        .iter()
        .map(|info| compile(tree, &nodes, &info.path, None, &info.names, &mut problems).chain)
        .collect();
    #[cfg_attr(not(feature = "metrics"), allow(unused_mut))]
    let mut node_chains = node_chains;
    #[cfg_attr(not(feature = "metrics"), allow(unused_mut))]
    let mut routes = compile_routes(tree, &nodes, &mut problems);
    let (router, entries) = route_table(tree, &nodes, &routes, &mut problems);
    if !problems.is_empty() {
        return Err(BuildError::new(problems));
    }
    #[cfg(feature = "metrics")]
    let metrics = {
        use crate::metrics::ChainPlace;
        let mut places: Vec<ChainPlace<'_, S>> = Vec::new();
        for (chain, info) in node_chains.iter_mut().zip(&nodes) {
            places.push(ChainPlace {
                chain,
                route: None,
                prefix: &info.full,
            });
        }
        for (route, info) in routes.chains.iter_mut().zip(&routes.infos) {
            places.push(ChainPlace {
                chain: &mut route.chain,
                route: Some((&mut route.handler, info.path(), info.method())),
                prefix: "",
            });
        }
        Arc::new(crate::metrics::build_metrics(places, otel))
    };

    let fallback = fallback_routers(&nodes);
    let view = tree_view(tree, &nodes, &routes.infos);
    Ok(App(Arc::new(Compiled {
        state,
        router,
        entries: entries.into_boxed_slice(),
        route_chains: routes.chains.into_boxed_slice(),
        node_chains: node_chains.into_boxed_slice(),
        fallback,
        routes: routes.infos,
        view,
        rests: Arc::default(),
        #[cfg(feature = "metrics")]
        metrics,
    })))
}

fn describe(info: &RouteInfo) -> String {
    format!(
        "`{} {}` ({})",
        info.method(),
        info.path(),
        info.handler().name()
    )
}

/// A compiled chain, with what introspection shows of it around the handler's place.
struct CompiledChain<S> {
    chain: Chain<S>,
    /// Guards and loaders, root to leaf.
    before: Vec<StepInfo>,
    /// After hooks, leaf to root.
    after: Vec<StepInfo>,
    /// The resources the chain's loaders store.
    loaded: Vec<TypeId>,
}

/// Flattens the levels of a node path (and a route's own steps) into a chain, checking
/// resources and parameters along the way.
fn compile<S: 'static>(
    tree: &Tree<S>,
    nodes: &[NodeInfo],
    node_path: &[usize],
    route: Option<Target<'_, S>>,
    names: &[Box<str>],
    problems: &mut Vec<Problem>,
) -> CompiledChain<S> {
    let all = names.len().min(MAX_PARAMS) as u8;
    let mut levels: Vec<Level<'_, S>> = node_path
        .iter()
        .map(|&n| Level {
            attached: &tree.nodes[n].attached,
            scope: (nodes[n].names.len() as u8).min(all),
            node: &nodes[n].full,
            on_route: false,
        })
        .collect();
    if let Some(route) = &route {
        levels.push(Level {
            attached: &route.def.attached,
            scope: all,
            node: route.path,
            on_route: true,
        });
    }
    // Each step is checked once, in the chain of the node (or route) it is attached to: what
    // is above it is the same for every route below.
    let own = levels.len() - 1;
    let label = match &route {
        Some(route) => format!("`{}`", route.label),
        None => format!("node `{}`", levels[own].node),
    };

    let mut steps = Vec::new();
    let mut before = Vec::new();
    let mut loaded = Vec::new();
    let mut body_at = None;
    for (depth, level) in levels.iter().enumerate() {
        for def in &level.attached.steps {
            if depth == own {
                let (needs, name) = (&def.needs, &def.desc.name);
                check_needs(needs, level.scope, &loaded, &label, name, problems);
            }
            if body_at.is_none() && def.needs.iter().any(|n| n.body) {
                body_at = Some(steps.len());
            }
            if let Some(resource) = def.produces {
                loaded.push(resource.id);
            }
            before.push(StepInfo::new(
                def.desc.clone(),
                def.kind,
                level.node.to_owned(),
                level.on_route,
            ));
            steps.push(ChainStep {
                step: Arc::clone(&def.step),
                sync: def.sync,
                loads: def.produces.is_some(),
                depth: depth as u8,
                scope: level.scope,
                #[cfg(feature = "metrics")]
                desc: def.desc.clone(),
                #[cfg(feature = "metrics")]
                metrics: None,
            });
        }
    }
    // After hooks leaf to root; `after_from[d]` skips those of nodes deeper than `d`.
    let mut afters = Vec::new();
    let mut after = Vec::new();
    let mut after_from = vec![0; levels.len()];
    for (depth, level) in levels.iter().enumerate().rev() {
        after_from[depth] = afters.len();
        for def in &level.attached.afters {
            afters.push(Arc::clone(&def.hook));
            after.push(StepInfo::new(
                def.desc.clone(),
                StepKind::After,
                level.node.to_owned(),
                level.on_route,
            ));
        }
    }

    let renderer = node_path
        .iter()
        .rev()
        .find_map(|&n| tree.nodes[n].renderer.as_ref())
        .map_or_else(
            || Arc::new(render::default::<S>) as Arc<dyn Render<S>>,
            |def| Arc::clone(&def.renderer),
        );
    // The deepest level that sets a value wins.
    let settings = || levels.iter().rev().map(|l| l.attached.settings);
    let chain = Chain {
        body_at: body_at.unwrap_or(steps.len()),
        steps: steps.into_boxed_slice(),
        afters: afters.into_boxed_slice(),
        after_from: after_from.into_boxed_slice(),
        renderer,
        body_limit: settings()
            .find_map(|s| s.body_limit)
            .unwrap_or(DEFAULT_BODY_LIMIT),
        body_timeout: settings()
            .find_map(|s| s.body_timeout)
            .unwrap_or(DEFAULT_BODY_TIMEOUT),
        timeout: settings().find_map(|s| s.timeout),
        run_to_completion: settings()
            .find_map(|s| s.run_to_completion)
            .unwrap_or(false),
        param_names: (!names.is_empty()).then(|| names.iter().take(MAX_PARAMS).cloned().collect()),
        leaf_depth: (levels.len() - 1) as u8,
        leaf_scope: all,
        loaders: loaded.len(),
        #[cfg(feature = "metrics")]
        metrics: None,
    };
    CompiledChain {
        chain,
        before,
        after,
        loaded,
    }
}

/// Reports what a step needs and the levels above it do not provide; `label` names the route
/// or node it is attached to.
fn check_needs(
    needs: &[Needs],
    scope: u8,
    loaded: &[TypeId],
    label: &str,
    step: &str,
    problems: &mut Vec<Problem>,
) {
    for need in needs {
        if let Some(resource) = need.resource {
            if !loaded.contains(&resource.id) {
                problems.push(Problem::MissingResource {
                    route: label.to_owned(),
                    step: step.to_owned(),
                    resource: resource.name,
                });
            }
        }
        if need.path_param && scope == 0 {
            problems.push(Problem::MissingParam {
                route: label.to_owned(),
                step: step.to_owned(),
            });
        }
    }
}

/// The printed tree: each node with its own steps, depth first in declaration order.
fn tree_view<S>(tree: &Tree<S>, nodes: &[NodeInfo], routes: &[RouteInfo]) -> TreeView {
    let mut views = Vec::new();
    let mut stack = vec![0usize];
    while let Some(id) = stack.pop() {
        let def = &tree.nodes[id];
        let full = &nodes[id].full;
        let info = |desc, kind| StepInfo::new(desc, kind, full.clone(), false);
        let steps = def
            .attached
            .steps
            .iter()
            .map(|s| info(s.desc.clone(), s.kind))
            .chain(
                def.attached
                    .afters
                    .iter()
                    .map(|a| info(a.desc.clone(), StepKind::After)),
            )
            .collect();
        views.push(NodeView {
            depth: nodes[id].path.len() - 1,
            prefix: def.prefix.clone(),
            full: full.clone(),
            steps,
            renderer: def.renderer.as_ref().map(|r| r.name.clone()),
            routes: def.routes.clone(),
        });
        stack.extend(def.children.iter().rev());
    }
    TreeView::new(views, routes.to_vec())
}
