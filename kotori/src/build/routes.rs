//! The routes' phases of build: each route's chain, then the router's table — one entry per
//! path, its methods, and the node whose chain answers 404 and 405 there.

use std::collections::HashMap;
use std::sync::Arc;

use http::Method;
use http::header::HeaderValue;

use super::nodes::NodeInfo;
use super::{Target, check_needs, compile, describe};
use crate::compiled::{ChainHandler, Entry, RouteChain};
use crate::error::Problem;
use crate::introspect::{MethodFilter, RouteInfo, StepInfo, StepKind};
use crate::path::{join, normalize, param_names};
use crate::tree::Tree;

use super::nodes::check_params;

/// The compiled routes, in declaration order.
pub(super) struct Routes<S> {
    pub(super) chains: Vec<RouteChain<S>>,
    pub(super) infos: Vec<RouteInfo>,
    /// The routable routes grouped by full path, in first-declared order.
    paths: Vec<(String, Vec<usize>)>,
}

/// Phase 2: every route's chain (its nodes' steps, its own, its handler) and what
/// introspection shows of it; duplicates and parameter problems reported.
pub(super) fn compile_routes<S: 'static>(
    tree: &Tree<S>,
    nodes: &[NodeInfo],
    problems: &mut Vec<Problem>,
) -> Routes<S> {
    let mut chains = Vec::with_capacity(tree.routes.len());
    let mut infos = Vec::with_capacity(tree.routes.len());
    let mut by_path: HashMap<String, usize> = HashMap::new();
    let mut paths: Vec<(String, Vec<usize>)> = Vec::new();
    for (id, route) in tree.routes.iter().enumerate() {
        let node = &nodes[route.node];
        let path = normalize(join(&node.full, &route.rule));
        let label = format!("{} {path}", route.method);
        let names = param_names(&path);
        let mut routable = node.valid;
        if node.valid {
            if let Some(problem) = check_params(&names, &node.path, nodes, &label) {
                problems.push(problem);
                routable = false;
            }
        }
        let target = Target {
            def: route,
            path: &path,
            label: &label,
        };
        let compiled = compile(tree, nodes, &node.path, Some(target), &names, problems);
        let handler = &route.handler;
        let all = compiled.chain.leaf_scope;
        let name = &handler.desc.name;
        let at = format!("`{label}`");
        check_needs(&handler.needs, all, &compiled.loaded, &at, name, problems);
        let mut steps = compiled.before;
        steps.push(StepInfo::new(
            handler.desc.clone(),
            StepKind::Handler,
            path.clone(),
            true,
        ));
        steps.extend(compiled.after);
        chains.push(RouteChain {
            chain: compiled.chain,
            handler: ChainHandler {
                run: Arc::clone(&handler.run),
                sync: handler.sync,
                #[cfg(feature = "metrics")]
                desc: handler.desc.clone(),
                #[cfg(feature = "metrics")]
                metrics: None,
            },
        });
        infos.push(RouteInfo::new(route.method.clone(), path.clone(), steps));
        if !routable {
            continue;
        }
        let slot = *by_path.entry(path.clone()).or_insert_with(|| {
            paths.push((path, Vec::new()));
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

    Routes {
        chains,
        infos,
        paths,
    }
}

/// Phase 3: the router, and what each of its paths answers.
pub(super) fn route_table<S>(
    tree: &Tree<S>,
    nodes: &[NodeInfo],
    routes: &Routes<S>,
    problems: &mut Vec<Problem>,
) -> (matchit::Router<usize>, Vec<Entry>) {
    let (paths, infos) = (&routes.paths, &routes.infos);
    let mut router = matchit::Router::new();
    let mut entries = Vec::with_capacity(paths.len());
    for (path, routes) in paths {
        let mut methods: Vec<(Method, usize)> = Vec::with_capacity(routes.len());
        let mut any = None;
        for &r in routes {
            match &tree.routes[r].method {
                MethodFilter::Only(method) => methods.push((method.clone(), r)),
                MethodFilter::Any => any = Some(r),
            }
        }
        let node = common_ancestor(routes.iter().map(|&r| &nodes[tree.routes[r].node].path));
        let entry = Entry {
            allow: allow_header(&methods),
            methods: methods.into_boxed_slice(),
            any,
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

    (router, entries)
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
