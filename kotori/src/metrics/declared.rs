//! The series a built tree declares, made once by `build()`: every route's method with its
//! success and each refusal its chain declares, and the awaiting steps.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use super::histogram::Histogram;
use super::labels::{NO_STEP, method_index};
use super::places::{Cell, Key, Place, RequestSeries, StepSeries};
use super::reading::Metrics;
use crate::compiled::{Chain, ChainHandler};
use crate::introspect::{MethodFilter, StepDesc};

/// What the metrics of one chain are made from.
pub(crate) struct ChainPlace<'a, S> {
    pub(crate) chain: &'a mut Chain<S>,
    /// A route's handler, template and method; `None` for a node chain.
    pub(crate) route: Option<(&'a mut ChainHandler<S>, &'a str, &'a MethodFilter)>,
    /// The node's prefix (node chains).
    pub(crate) prefix: &'a str,
}

/// Makes the storage of every series and hands each chain (and each awaiting step of it) the
/// part it records into.
pub(crate) fn build_metrics<S>(places: Vec<ChainPlace<'_, S>>, otel: bool) -> Metrics {
    #[cfg(feature = "otel")]
    let otel = otel.then(|| Arc::new(super::otel::Otel::from_globals()));
    #[cfg(not(feature = "otel"))]
    let _ = otel;
    // One step series per distinct step (a node's guard sits in many chains), told apart by
    // the step itself, not its name: two steps may share a name.
    let mut by_step: HashMap<usize, Arc<StepSeries>> = HashMap::new();
    let mut steps = Vec::new();
    let mut step_series = |identity: usize, desc: &StepDesc| {
        Arc::clone(by_step.entry(identity).or_insert_with(|| {
            let series = Arc::new(StepSeries {
                name: Arc::from(&*desc.name),
                pass: Histogram::default(),
                refuse: Histogram::default(),
                #[cfg(feature = "otel")]
                export: otel.is_some(),
            });
            steps.push(Arc::clone(&series));
            series
        }))
    };
    let mut all = Vec::with_capacity(places.len());
    for place in places {
        let chain = place.chain;
        let mut names: Vec<Arc<str>> = Vec::with_capacity(chain.steps.len() + 1);
        let mut declared: Vec<Key> = Vec::new();
        let method = place
            .route
            .as_ref()
            .and_then(|(_, _, m)| m.method())
            .map(method_index);
        let mut declare = |key: Key| {
            if !declared.contains(&key) {
                declared.push(key);
            }
        };
        for (i, step) in chain.steps.iter_mut().enumerate() {
            names.push(Arc::from(&*step.desc.name));
            if !step.sync {
                let identity = Arc::as_ptr(&step.step) as *const () as usize;
                step.metrics = Some(step_series(identity, &step.desc));
            }
            if let Some(method) = method {
                for refusal in step.desc.declares.refusals() {
                    declare(Key {
                        method,
                        status: refusal.status,
                        step: i as u16,
                        code: declared_code(refusal.code),
                    });
                }
            }
        }
        let mut where_ = Place::Node {
            prefix: Arc::from(place.prefix),
        };
        if let Some((handler, template, filter)) = place.route {
            let at = names.len() as u16;
            names.push(Arc::from(&*handler.desc.name));
            if !handler.sync {
                let identity = Arc::as_ptr(&handler.run) as *const () as usize;
                handler.metrics = Some(step_series(identity, &handler.desc));
            }
            if let Some(method) = method {
                let success = handler
                    .desc
                    .declares
                    .raw_success
                    .as_ref()
                    .map_or(200, |(status, _, _)| *status);
                for refusal in handler.desc.declares.refusals() {
                    declare(Key {
                        method,
                        status: refusal.status,
                        step: at,
                        code: declared_code(refusal.code),
                    });
                }
                // The success first: most requests find their cell at once.
                declared.insert(
                    0,
                    Key {
                        method,
                        status: success,
                        step: NO_STEP,
                        code: None,
                    },
                );
            }
            where_ = Place::Route {
                template: Arc::from(template),
                method: filter.clone(),
            };
        }
        let series = Arc::new(RequestSeries {
            place: where_,
            steps: names.into_boxed_slice(),
            declared: declared
                .into_iter()
                .map(|key| Cell {
                    key,
                    histogram: Histogram::default(),
                })
                .collect(),
            extra: Mutex::new(Vec::new()),
            dropped: AtomicU64::new(0),
            active: Default::default(),
            streams: Default::default(),
            streamed: AtomicBool::new(false),
            #[cfg(feature = "otel")]
            otel: otel.clone(),
        });
        chain.metrics = Some(Arc::clone(&series));
        all.push(series);
    }
    Metrics {
        places: all.into_boxed_slice(),
        steps: steps.into_boxed_slice(),
    }
}

/// A declared business code as the rejection carries it (`0`: the API has none).
fn declared_code(code: i64) -> Option<u32> {
    u32::try_from(code).ok().filter(|c| *c != 0)
}
