//! Compiling the tree: flattened chains and a matchit router, built once.
//!
//! Everything that depends only on the tree is decided here — the full path of each route, the
//! ordered steps that guard it, where its body is read, which after hooks run for a refusal at
//! each depth, which renderer and limits apply — so that dispatch is one router lookup and a
//! walk over a slice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use http::header::HeaderValue;

use crate::app::{App, Entry};
use crate::ctx::MAX_PARAMS;
use crate::error::{BuildError, Problem};
use crate::introspect::{NodeView, RouteInfo, StepInfo, TreeView};
use crate::path::{check_prefix, join, normalize, param_names};
use crate::render::default_renderer;
use crate::step::{ErasedHandler, ErasedStep};
use crate::tree::{Layer, StepKind, Tree};
use crate::{After, Render};

/// Request bodies above this many bytes get a 413 unless a node says otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A route's (or, for 404/405, a node's) compiled chain.
pub(crate) struct Chain<S> {
    pub(crate) steps: Box<[ChainStep<S>]>,
    pub(crate) handler: Option<Arc<dyn ErasedHandler<S>>>,
    pub(crate) handler_sync: bool,
    /// After hooks leaf to root; a refusal at depth `d` runs `afters[after_from[d]..]`.
    pub(crate) afters: Box<[Arc<dyn After<S>>]>,
    pub(crate) after_from: Box<[usize]>,
    pub(crate) renderer: Arc<dyn Render<S>>,
    /// The body is read before `steps[body_at]` (`steps.len()`: before the handler).
    pub(crate) body_at: usize,
    pub(crate) body_limit: usize,
    pub(crate) timeout: Option<Duration>,
    pub(crate) param_names: Option<Arc<[Box<str>]>>,
    /// The depth of the handler (or, for a node chain, of the node).
    pub(crate) leaf_depth: u8,
    /// How many path parameters the handler sees.
    pub(crate) leaf_scope: u8,
    pub(crate) loaders: usize,
}

pub(crate) struct ChainStep<S> {
    pub(crate) step: Arc<dyn ErasedStep<S>>,
    pub(crate) sync: bool,
    pub(crate) depth: u8,
    pub(crate) scope: u8,
}

struct NodeInfo {
    /// False under an invalid prefix: its routes are not routed (the prefix is reported).
    valid: bool,
    full: String,
    path: Vec<usize>,
    names: Vec<Box<str>>,
}

pub(crate) fn build<S: Clone + Send + Sync + 'static>(
    tree: &Tree<S>,
    state: S,
) -> Result<App<S>, BuildError> {
    let mut problems = Vec::new();

    // Nodes: full prefixes and root-to-node paths (parents come before children).
    let mut nodes: Vec<NodeInfo> = Vec::with_capacity(tree.nodes.len());
    for (id, def) in tree.nodes.iter().enumerate() {
        let mut valid = def.parent.is_none_or(|parent| nodes[parent].valid);
        if let Some(reason) = check_prefix(&def.prefix) {
            problems.push(Problem::InvalidPath {
                what: format!("node prefix `{}`", def.prefix),
                reason,
            });
            valid = false;
        }
        let (full, mut path) = match def.parent {
            Some(parent) => (
                join(&nodes[parent].full, &def.prefix),
                nodes[parent].path.clone(),
            ),
            None => (def.prefix.clone(), Vec::new()),
        };
        path.push(id);
        let names = param_names(&full);
        nodes.push(NodeInfo {
            valid,
            full,
            path,
            names,
        });
    }

    // Node chains answer 404 and 405: the node's steps, then a refusal.
    let node_chains: Vec<Chain<S>> = nodes
        .iter()
        .map(|info| {
            let layers = layers_of(tree, &nodes, &info.path, None);
            let (chain, _) = compile(
                tree,
                &info.path,
                &layers,
                None,
                &info.names,
                "",
                &mut Vec::new(),
            );
            chain
        })
        .collect();

    // Routes: chains, and entries grouped by path for the router.
    let mut chains = Vec::with_capacity(tree.routes.len());
    let mut infos = Vec::with_capacity(tree.routes.len());
    let mut by_path: HashMap<String, usize> = HashMap::new();
    let mut paths: Vec<(String, Vec<usize>)> = Vec::new();
    for (id, route) in tree.routes.iter().enumerate() {
        let node = &nodes[route.node];
        let path = normalize(join(&node.full, &route.rule));
        let label = format!("{} {path}", route.method);
        let names = param_names(&path);
        if names.len() > MAX_PARAMS {
            problems.push(Problem::InvalidPath {
                what: label.clone(),
                reason: format!("at most {MAX_PARAMS} path parameters per route"),
            });
        }
        let layers = layers_of(tree, &nodes, &node.path, Some(&route.layer));
        let (chain, steps) = compile(
            tree,
            &node.path,
            &layers,
            Some(route),
            &names,
            &label,
            &mut problems,
        );
        chains.push(chain);
        infos.push(RouteInfo::new(route.method.clone(), path.clone(), steps));
        if !node.valid {
            continue;
        }
        let slot = *by_path.entry(path.clone()).or_insert_with(|| {
            paths.push((path.clone(), Vec::new()));
            paths.len() - 1
        });
        if let Some(&first) = paths[slot]
            .1
            .iter()
            .find(|&&other| tree.routes[other].method == route.method)
        {
            problems.push(Problem::Duplicate {
                first: describe(&infos[first]),
                second: describe(&infos[id]),
            });
            continue;
        }
        paths[slot].1.push(id);
    }

    let mut router = matchit::Router::new();
    let mut entries = Vec::with_capacity(paths.len());
    for (path, routes) in &paths {
        let methods: Vec<(Method, usize)> = routes
            .iter()
            .map(|&r| (tree.routes[r].method.clone(), r))
            .collect();
        let node = common_ancestor(routes.iter().map(|&r| &nodes[tree.routes[r].node].path));
        let entry = Entry {
            allow: allow_header(&methods),
            methods: methods.into_boxed_slice(),
            node,
        };
        match router.insert(path.as_str(), entries.len()) {
            Ok(()) => entries.push(entry),
            Err(matchit::InsertError::Conflict { with }) => {
                let with = paths
                    .iter()
                    .find(|(p, _)| *p == with)
                    .map_or(with.clone(), |(_, rs)| describe(&infos[rs[0]]));
                problems.push(Problem::Conflict {
                    route: describe(&infos[routes[0]]),
                    with,
                });
            }
            Err(e) => problems.push(Problem::InvalidPath {
                what: describe(&infos[routes[0]]),
                reason: format!("{e}"),
            }),
        }
    }

    if !problems.is_empty() {
        return Err(BuildError::new(problems));
    }

    let fallback = fallback_routers(&nodes);
    let view = tree_view(tree, &nodes, &infos);
    Ok(App {
        state,
        router,
        entries: entries.into_boxed_slice(),
        chains: chains.into_boxed_slice(),
        node_chains: node_chains.into_boxed_slice(),
        fallback,
        routes: infos,
        view,
    })
}

fn describe(info: &RouteInfo) -> String {
    format!(
        "`{} {}` ({})",
        info.method(),
        info.path(),
        info.handler().name()
    )
}

/// The layers of a chain root to leaf, each with the number of parameters in its scope.
fn layers_of<'t, S>(
    tree: &'t Tree<S>,
    nodes: &[NodeInfo],
    path: &[usize],
    route: Option<&'t Layer<S>>,
) -> Vec<(&'t Layer<S>, u8)> {
    let mut layers: Vec<(&Layer<S>, u8)> = path
        .iter()
        .map(|&n| (&tree.nodes[n].layer, nodes[n].names.len() as u8))
        .collect();
    if let Some(route) = route {
        // A route layer sees the route's own parameters too: set by the caller via names.
        layers.push((route, u8::MAX));
    }
    layers
}

/// Flattens layers into a chain, checking resources and parameters along the way.
fn compile<S: 'static>(
    tree: &Tree<S>,
    path: &[usize],
    layers: &[(&Layer<S>, u8)],
    route: Option<&crate::tree::RouteDef<S>>,
    names: &[Box<str>],
    label: &str,
    problems: &mut Vec<Problem>,
) -> (Chain<S>, Vec<StepInfo>) {
    let all = names.len().min(MAX_PARAMS) as u8;
    let mut steps = Vec::new();
    let mut infos = Vec::new();
    let mut loaded = Vec::new();
    let mut body_at = None;
    let mut loaders = 0;
    let node_name = |depth: usize| -> String {
        match path.get(depth) {
            Some(&n) => normalize(full_of(tree, n)),
            None => label
                .split_once(' ')
                .map_or("", |(_, path)| path)
                .to_owned(),
        }
    };
    for (depth, (layer, scope)) in layers.iter().enumerate() {
        let scope = (*scope).min(all);
        for def in &layer.steps {
            check_needs(&def.needs, scope, &loaded, label, &def.desc.name, problems);
            if body_at.is_none() && def.needs.iter().any(|n| n.body) {
                body_at = Some(steps.len());
            }
            if let Some(resource) = def.produces {
                loaded.push(resource.id);
                loaders += 1;
            }
            infos.push(StepInfo::new(
                def.desc.clone(),
                def.kind,
                node_name(depth),
                depth >= path.len(),
            ));
            steps.push(ChainStep {
                step: Arc::clone(&def.step),
                sync: def.sync,
                depth: depth as u8,
                scope,
            });
        }
    }
    if let Some(route) = route {
        check_needs(
            &route.handler_needs,
            all,
            &loaded,
            label,
            &route.handler_info.name,
            problems,
        );
        infos.push(StepInfo::new(
            route.handler_info.clone(),
            StepKind::Handler,
            node_name(layers.len() - 1),
            true,
        ));
    }
    // After hooks leaf to root; `after_from[d]` skips those of nodes deeper than `d`.
    let mut afters = Vec::new();
    let mut after_from = vec![0; layers.len()];
    for (depth, (layer, _)) in layers.iter().enumerate().rev() {
        after_from[depth] = afters.len();
        for def in &layer.afters {
            afters.push(Arc::clone(&def.hook));
            infos.push(StepInfo::new(
                crate::tree::StepDesc {
                    name: def.name.clone(),
                    doc: None,
                },
                StepKind::After,
                node_name(depth),
                depth >= path.len(),
            ));
        }
    }

    let renderer = path
        .iter()
        .rev()
        .find_map(|&n| tree.nodes[n].renderer.as_ref())
        .map_or_else(
            || Arc::new(default_renderer::<S>) as Arc<dyn Render<S>>,
            |def| Arc::clone(&def.renderer),
        );
    let setting =
        |pick: &dyn Fn(&Layer<S>) -> bool| layers.iter().rev().map(|(l, _)| *l).find(|l| pick(l));
    let body_limit = setting(&|l| l.settings.body_limit.is_some())
        .and_then(|l| l.settings.body_limit)
        .unwrap_or(DEFAULT_BODY_LIMIT);
    let timeout = setting(&|l| l.settings.timeout.is_some()).and_then(|l| l.settings.timeout);
    let chain = Chain {
        body_at: body_at.unwrap_or(steps.len()),
        steps: steps.into_boxed_slice(),
        handler: route.map(|r| Arc::clone(&r.handler)),
        handler_sync: route.is_none_or(|r| r.handler_sync),
        afters: afters.into_boxed_slice(),
        after_from: after_from.into_boxed_slice(),
        renderer,
        body_limit,
        timeout,
        param_names: (!names.is_empty()).then(|| names.iter().take(MAX_PARAMS).cloned().collect()),
        leaf_depth: (layers.len() - 1) as u8,
        leaf_scope: all,
        loaders,
    };
    (chain, infos)
}

fn full_of<S>(tree: &Tree<S>, node: usize) -> String {
    let def = &tree.nodes[node];
    match def.parent {
        Some(parent) => join(&full_of(tree, parent), &def.prefix),
        None => def.prefix.clone(),
    }
}

fn check_needs(
    needs: &[crate::Needs],
    scope: u8,
    loaded: &[std::any::TypeId],
    label: &str,
    step: &str,
    problems: &mut Vec<Problem>,
) {
    if label.is_empty() {
        return; // node chains: their routes report the same problems with a name
    }
    for need in needs {
        if let Some(resource) = need.resource {
            if !loaded.contains(&resource.id) {
                problems.push(Problem::MissingResource {
                    route: format!("`{label}`"),
                    step: step.to_owned(),
                    resource: resource.name,
                });
            }
        }
        if need.path_param && scope == 0 {
            problems.push(Problem::MissingParam {
                route: format!("`{label}`"),
                step: step.to_owned(),
            });
        }
    }
}

fn allow_header(methods: &[(Method, usize)]) -> HeaderValue {
    let mut names: Vec<&str> = methods.iter().map(|(m, _)| m.as_str()).collect();
    if names.contains(&"GET") && !names.contains(&"HEAD") {
        names.push("HEAD");
    }
    HeaderValue::from_str(&names.join(", ")).expect("method names are valid header text")
}

/// The deepest node shared by all the given root-to-node paths.
fn common_ancestor<'a>(mut paths: impl Iterator<Item = &'a Vec<usize>>) -> usize {
    let first = paths.next().expect("an entry has at least one route");
    let mut len = first.len();
    for path in paths {
        len = first
            .iter()
            .zip(path)
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    first[len.max(1) - 1]
}

/// One router per prefix depth (in segments), for requests that match no route: the deepest
/// node whose prefix the path reaches runs its guards, then answers 404. A group shares its
/// parent's prefix; the parent, inserted first, keeps it.
fn fallback_routers(nodes: &[NodeInfo]) -> Box<[matchit::Router<usize>]> {
    let mut levels: Vec<matchit::Router<usize>> = Vec::new();
    for (id, info) in nodes.iter().enumerate() {
        let full = info.full.trim_end_matches('/');
        let level = full.split('/').filter(|s| !s.is_empty()).count();
        while levels.len() <= level {
            levels.push(matchit::Router::new());
        }
        for pattern in [
            full.to_owned(),
            format!("{full}/"),
            format!("{full}/{{*__kotori_rest}}"),
        ] {
            if !pattern.is_empty() {
                // A conflict means a shallower node already owns this prefix: keep it.
                let _ = levels[level].insert(pattern, id);
            }
        }
    }
    levels.into_boxed_slice()
}

fn tree_view<S>(tree: &Tree<S>, nodes: &[NodeInfo], routes: &[RouteInfo]) -> TreeView {
    let mut views = Vec::new();
    let mut stack = vec![0usize];
    while let Some(id) = stack.pop() {
        let def = &tree.nodes[id];
        let full = normalize(nodes[id].full.clone());
        let steps = def
            .layer
            .steps
            .iter()
            .map(|s| StepInfo::new(s.desc.clone(), s.kind, full.clone(), false))
            .chain(def.layer.afters.iter().map(|a| {
                StepInfo::new(
                    crate::tree::StepDesc {
                        name: a.name.clone(),
                        doc: None,
                    },
                    StepKind::After,
                    full.clone(),
                    false,
                )
            }))
            .collect();
        views.push(NodeView {
            depth: nodes[id].path.len() - 1,
            prefix: def.prefix.clone(),
            full,
            steps,
            renderer: def.renderer.as_ref().map(|r| r.name.clone()),
            routes: def.routes.clone(),
        });
        stack.extend(def.children.iter().rev());
    }
    TreeView::new(views, routes.to_vec())
}
