//! What build knows of the nodes: their full paths and parameters, the rules those must keep,
//! and the routers that find the deepest node a path reaches.

use crate::error::Problem;
use crate::limits::MAX_PARAMS;
use crate::path::{check_prefix, join, normalize, param_names};
use crate::tree::Tree;

/// What build knows of a node once its ancestors are known.
pub(super) struct NodeInfo {
    /// False under an invalid prefix: its routes are not routed (the prefix is reported).
    pub(super) valid: bool,
    /// The full path, as the printed tree and step infos show it (`/` for the root).
    pub(super) full: String,
    /// The node ids from the root to this node.
    pub(super) path: Vec<usize>,
    pub(super) names: Vec<Box<str>>,
}

/// Phase 1: each node's full prefix, parameters and root-to-node path. Parents come before
/// children in the tree's list, so one pass suffices; an invalid prefix is reported once, and
/// the nodes under it are left unrouted.
pub(super) fn resolve_nodes<S>(tree: &Tree<S>, problems: &mut Vec<Problem>) -> Vec<NodeInfo> {
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
        let (joined, mut path) = match def.parent {
            Some(parent) => (
                join(&nodes[parent].full, &def.prefix),
                nodes[parent].path.clone(),
            ),
            None => (def.prefix.clone(), Vec::new()),
        };
        path.push(id);
        let names = param_names(&joined);
        let full = normalize(joined);
        // Reported where they first appear: children inherit the problem, not the report.
        let parent_ok = def.parent.is_none_or(|parent| nodes[parent].valid);
        if let Some(problem) = check_params(&names, &path, &nodes, &full) {
            if parent_ok {
                problems.push(problem);
            }
            valid = false;
        }
        nodes.push(NodeInfo {
            valid,
            names,
            full,
            path,
        });
    }

    nodes
}

/// A path's parameters are unique and few: `Path<T>` and `cx.param` must agree on what a
/// name means, and matchit panics past its own limit. `at` is the node or route checked; the
/// problem names the ancestor that used the name first.
pub(super) fn check_params(
    names: &[Box<str>],
    path: &[usize],
    nodes: &[NodeInfo],
    at: &str,
) -> Option<Problem> {
    if names.len() > MAX_PARAMS {
        return Some(Problem::InvalidPath {
            what: format!("`{at}`"),
            reason: format!(
                "at most {MAX_PARAMS} path parameters per path; it has {}",
                names.len()
            ),
        });
    }
    let (i, name) = names
        .iter()
        .enumerate()
        .find(|(i, name)| names[..*i].contains(name))?;
    // The first node whose prefix brings the name in (i.e. has more than `i` parameters' worth
    // up to the first use).
    let first_index = names[..i].iter().position(|n| n == name)?;
    let first = path
        .iter()
        .map(|&n| &nodes[n])
        .find(|n| n.names.len() > first_index)
        .map_or_else(|| at.to_owned(), |n| n.full.clone());
    Some(Problem::DuplicateParam {
        name: name.to_string(),
        first,
        second: at.to_owned(),
    })
}

/// One router per prefix depth (in segments), for requests that match no route: the deepest
/// node whose prefix the path reaches runs its guards, then answers 404. A group shares its
/// parent's prefix; the parent, inserted first, keeps it.
pub(super) fn fallback_routers(nodes: &[NodeInfo]) -> Box<[matchit::Router<usize>]> {
    let mut levels: Vec<matchit::Router<usize>> = Vec::new();
    for (id, info) in nodes.iter().enumerate() {
        if !info.valid {
            continue; // reported; and matchit must not see what it cannot take
        }
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
