//! Finding a request's chain: one router lookup, its path parameters kept as byte ranges.

use http::Method;
use http::header::HeaderValue;

use crate::Ctx;
use crate::compiled::{App, Chain, ChainHandler};

/// How a chain ends once its steps have passed.
pub(super) enum End<'a, S> {
    Handler(&'a ChainHandler<S>),
    NotFound,
    NotAllowed(HeaderValue),
}

/// Where a request's chain is, by index: what a task holding its own handle on the tree needs
/// to find the chain again without a second router lookup.
#[derive(Clone, Copy)]
pub(super) enum ChainAt {
    /// A route's chain (`route_chains`), ended by its handler.
    Route(usize),
    /// The path's node chain, for a method the path does not have (`entries`): 405.
    NotAllowed(usize),
    /// The chain of the deepest node the path falls under (`node_chains`): 404.
    NotFound(usize),
}

impl<S: Clone + Send + Sync + 'static> App<S> {
    /// Finds the chain for the request and records its path parameters in the context.
    pub(super) fn resolve(&self, cx: &mut Ctx<S>) -> (&Chain<S>, End<'_, S>, ChainAt) {
        let (found, ranges, count) = self.find(cx.method(), cx.path());
        let (chain, end) = self.chain_of(found);
        cx.params.ranges = ranges;
        cx.params.names = chain.param_names.clone();
        cx.params.len = count.min(chain.param_names.as_ref().map_or(0, |n| n.len())) as u8;
        (chain, end, found)
    }

    /// The chain for `method path`, with the byte ranges of its path parameters in `path`.
    #[allow(clippy::type_complexity)]
    pub(super) fn lookup(
        &self,
        method: &Method,
        path: &str,
    ) -> (
        &Chain<S>,
        End<'_, S>,
        [(u32, u32); crate::limits::MAX_PARAMS],
        usize,
    ) {
        let (found, ranges, count) = self.find(method, path);
        let (chain, end) = self.chain_of(found);
        (chain, end, ranges, count)
    }

    /// The chain [`ChainAt`] names, and how it ends.
    // Inlined where it is called: made a call, it cost every request 22 instructions
    // (callgrind, `benches/load/instructions.sh`).
    #[inline(always)]
    pub(super) fn chain_of(&self, found: ChainAt) -> (&Chain<S>, End<'_, S>) {
        let app = &*self.0;
        match found {
            ChainAt::Route(route) => {
                let route = &app.route_chains[route];
                (&route.chain, End::Handler(&route.handler))
            }
            ChainAt::NotAllowed(entry) => {
                let entry = &app.entries[entry];
                (
                    &app.node_chains[entry.node],
                    End::NotAllowed(entry.allow.clone()),
                )
            }
            ChainAt::NotFound(node) => (&app.node_chains[node], End::NotFound),
        }
    }

    /// Where the chain for `method path` is, with the byte ranges of its path parameters in
    /// `path`.
    fn find(
        &self,
        method: &Method,
        path: &str,
    ) -> (ChainAt, [(u32, u32); crate::limits::MAX_PARAMS], usize) {
        let base = path.as_ptr() as usize;
        let mut ranges = [(0u32, 0u32); crate::limits::MAX_PARAMS];
        let mut count = 0;
        let mut record = |params: &matchit::Params<'_, '_>| {
            for (slot, (_, value)) in ranges.iter_mut().zip(params.iter()) {
                // matchit hands out slices of the path itself: keep their offsets, not copies.
                let start = (value.as_ptr() as usize - base) as u32;
                *slot = (start, start + value.len() as u32);
                count += 1;
            }
        };
        let app = &*self.0;
        let found = match app.router.at(path) {
            Ok(matched) => {
                record(&matched.params);
                let entry = &app.entries[*matched.value];
                match entry.route_for(method) {
                    Some(route) => ChainAt::Route(route),
                    None => ChainAt::NotAllowed(*matched.value),
                }
            }
            Err(_) => {
                let node = app
                    .fallback
                    .iter()
                    .rev()
                    .find_map(|level| level.at(path).ok())
                    .map_or(0, |matched| {
                        record(&matched.params);
                        *matched.value
                    });
                ChainAt::NotFound(node)
            }
        };
        (found, ranges, count)
    }
}
