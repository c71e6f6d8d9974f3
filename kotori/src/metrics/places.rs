//! Where requests are counted: one place per route (or node) and per awaiting step, each made
//! at build time with a cell for every series it declares.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::histogram::Histogram;
use super::labels::{METHODS, StreamKind, method_index, method_name};
use super::series::{EXTRA_PER_PLACE, Instrument, Series};
use crate::introspect::MethodFilter;

/// Where requests of one chain are counted: a route (its template) or, for requests no route
/// matched, a node (its prefix).
pub(crate) enum Place {
    Route {
        template: Arc<str>,
        method: MethodFilter,
    },
    Node {
        prefix: Arc<str>,
    },
}

/// The key of one request-duration series within its place.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) method: u8,
    pub(crate) status: u16,
    /// Index into the place's step names, or `NO_STEP`.
    pub(crate) step: u16,
    pub(crate) code: Option<u32>,
}

pub(super) struct Cell {
    pub(super) key: Key,
    pub(super) histogram: Histogram,
}

/// The series of one chain: request durations, active requests, open streams.
pub(crate) struct RequestSeries {
    pub(super) place: Place,
    /// The chain's guards and loaders, then (for a route) its handler.
    pub(super) steps: Box<[Arc<str>]>,
    /// Made at build from the declarations; never changes, so read without a lock.
    pub(super) declared: Box<[Cell]>,
    /// Answers nobody declared, added as they happen (read and written under the lock).
    pub(super) extra: Mutex<Vec<Cell>>,
    pub(super) dropped: AtomicU64,
    pub(crate) active: [AtomicI64; METHODS],
    pub(crate) streams: [AtomicI64; 2],
    pub(super) streamed: AtomicBool,
    #[cfg(feature = "otel")]
    pub(super) otel: Option<Arc<super::otel::Otel>>,
}

/// The durations of one awaiting step, wherever it sits in the tree.
pub(crate) struct StepSeries {
    pub(super) name: Arc<str>,
    pub(super) pass: Histogram,
    pub(super) refuse: Histogram,
    /// Whether its times go to the request's span (OpenTelemetry export on).
    #[cfg(feature = "otel")]
    pub(crate) export: bool,
}

impl StepSeries {
    /// The step's name, as the tree prints it.
    #[cfg(feature = "otel")]
    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    pub(crate) fn observe(&self, passed: bool, took: Duration) {
        if passed {
            self.pass.observe(took)
        } else {
            self.refuse.observe(took)
        }
    }
}

impl RequestSeries {
    /// Where these requests are counted.
    pub(crate) fn place(&self) -> &Place {
        &self.place
    }

    /// The name of step `step` of the chain (the handler's is the last), `None` for `NO_STEP`.
    pub(crate) fn step_name(&self, step: u16) -> Option<&str> {
        self.steps.get(usize::from(step)).map(|name| &**name)
    }

    pub(crate) fn observe(&self, key: Key, took: Duration) {
        if let Some(cell) = self.declared.iter().find(|c| c.key == key) {
            cell.histogram.observe(took);
            return;
        }
        let mut extra = self.extra.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cell) = extra.iter().find(|c| c.key == key) {
            cell.histogram.observe(took);
        } else if extra.len() < EXTRA_PER_PLACE {
            let cell = Cell {
                key,
                histogram: Histogram::default(),
            };
            cell.histogram.observe(took);
            extra.push(cell);
        } else {
            self.dropped.fetch_add(1, Relaxed);
        }
    }

    /// Hands a finished request to OpenTelemetry (feature `otel`).
    #[cfg(feature = "otel")]
    pub(crate) fn export(
        &self,
        key: Key,
        started: std::time::Instant,
        headers: &http::HeaderMap,
        awaited: &[super::otel::Awaited],
    ) {
        let Some(otel) = &self.otel else {
            return;
        };
        let (route, node) = match &self.place {
            Place::Route { template, .. } => (Some(template), None),
            Place::Node { prefix } => (None, Some(prefix)),
        };
        otel.record(&super::otel::Finished {
            method: method_name(key.method),
            route,
            node,
            status: key.status,
            step: self.steps.get(usize::from(key.step)),
            code: key.code,
            started,
            headers,
            awaited,
        });
    }

    pub(crate) fn stream_opened(&self, kind: StreamKind) {
        self.streamed.store(true, Relaxed);
        self.streams[kind as usize].fetch_add(1, Relaxed);
    }

    /// The labels that say where: `http.route` or `kotori.node`.
    pub(super) fn place_label(&self) -> (&'static str, String) {
        match &self.place {
            Place::Route { template, .. } => ("http.route", template.to_string()),
            Place::Node { prefix } => ("kotori.node", prefix.to_string()),
        }
    }

    pub(super) fn duration_series(&self, key: &Key) -> Series {
        let mut labels = vec![
            ("http.request.method", method_name(key.method).to_owned()),
            self.place_label(),
            ("http.response.status_code", key.status.to_string()),
        ];
        if let Some(step) = self.steps.get(usize::from(key.step)) {
            labels.push(("kotori.step", step.to_string()));
        }
        if let Some(code) = key.code {
            labels.push(("kotori.code", code.to_string()));
        }
        Series {
            instrument: Instrument::RequestDuration,
            labels,
        }
    }

    pub(super) fn gauge(&self, instrument: Instrument, extra: (&'static str, String)) -> Series {
        let labels = match instrument {
            Instrument::OpenStreams => vec![self.place_label(), extra],
            _ => vec![extra, self.place_label()],
        };
        Series { instrument, labels }
    }

    /// The method of a route that answers one; `None` for a node or a mounted service.
    pub(super) fn own_method(&self) -> Option<u8> {
        match &self.place {
            Place::Route {
                method: MethodFilter::Only(m),
                ..
            } => Some(method_index(m)),
            _ => None,
        }
    }
}
