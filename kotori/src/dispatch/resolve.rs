//! Finding a request's chain: one router lookup, its path parameters kept as byte ranges.

use http::Method;

use super::End;
use crate::Ctx;
use crate::compiled::{App, Chain};

impl<S: Clone + Send + Sync + 'static> App<S> {
    /// Finds the chain for the request and records its path parameters in the context.
    pub(super) fn resolve(&self, cx: &mut Ctx<S>) -> (&Chain<S>, End<'_, S>) {
        let (chain, end, ranges, count) = self.lookup(cx.method(), cx.path());
        cx.params.ranges = ranges;
        cx.params.names = chain.param_names.clone();
        cx.params.len = count.min(chain.param_names.as_ref().map_or(0, |n| n.len())) as u8;
        (chain, end)
    }

    /// The chain for `method path`, with the byte ranges of its path parameters in `path`.
    // Inlined where it is called (every request's, and again in a task run to completion):
    // called from two places, the compiler made it a call, 56 instructions more per request.
    #[allow(clippy::type_complexity)]
    #[inline(always)]
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
        let (chain, end) = match app.router.at(path) {
            Ok(found) => {
                record(&found.params);
                let entry = &app.entries[*found.value];
                match entry.route_for(method) {
                    Some(route) => {
                        let route = &app.route_chains[route];
                        (&route.chain, End::Handler(&route.handler))
                    }
                    None => (
                        &app.node_chains[entry.node],
                        End::NotAllowed(entry.allow.clone()),
                    ),
                }
            }
            Err(_) => {
                let node = app
                    .fallback
                    .iter()
                    .rev()
                    .find_map(|level| level.at(path).ok())
                    .map_or(0, |found| {
                        record(&found.params);
                        *found.value
                    });
                (&app.node_chains[node], End::NotFound)
            }
        };
        (chain, end, ranges, count)
    }
}
