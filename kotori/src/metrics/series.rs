//! The storage of every series, made at `build()`, and what reading it gives.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::histogram::{Histogram, Snapshot};
use super::labels::{METHODS, NO_STEP, StreamKind, method_index, method_name};
use crate::compiled::{Chain, ChainHandler};
use crate::introspect::{MethodFilter, StepDesc};

/// At most this many series are added, per route (or node), for answers nobody declared;
/// past that such answers are only counted ([`Metrics::dropped`]).
pub const EXTRA_PER_PLACE: usize = 32;

/// What a series measures.
///
/// ```
/// use kotori::Kotori;
///
/// let app = Kotori::new(());
/// let metrics = app.metrics();
/// app.get("/users/{id}", || async { "a user" });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// app.client().get("/users/7").send().await;
/// # });
/// let metrics = metrics.get().expect("built");
///
/// use kotori::metrics::Instrument;
/// let durations = metrics.series().into_iter().filter(|s| s.instrument == Instrument::RequestDuration);
/// assert!(durations.count() >= 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Instrument {
    /// `http.server.request.duration`: seconds from a request's arrival to its response's head.
    RequestDuration,
    /// `kotori.step.duration`: seconds an awaiting guard, loader or handler took.
    StepDuration,
    /// `http.server.active_requests`: requests in flight.
    ActiveRequests,
    /// `kotori.open_streams`: SSE responses and WebSockets open.
    OpenStreams,
}

impl Instrument {
    /// Its OpenTelemetry name.
    ///
    /// ```
    /// use kotori::metrics::Instrument;
    ///
    /// assert_eq!(Instrument::RequestDuration.name(), "http.server.request.duration");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Instrument::RequestDuration => "http.server.request.duration",
            Instrument::StepDuration => "kotori.step.duration",
            Instrument::ActiveRequests => "http.server.active_requests",
            Instrument::OpenStreams => "kotori.open_streams",
        }
    }
}

/// One series: an instrument and its labels, named as OpenTelemetry attributes
/// (`http.route`), in a fixed order.
///
/// ```
/// use kotori::Kotori;
///
/// let app = Kotori::new(());
/// let metrics = app.metrics();
/// app.get("/users/{id}", || async { "a user" });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// app.client().get("/users/7").send().await;
/// # });
/// let metrics = metrics.get().expect("built");
///
/// for (series, value) in metrics.observed() {
///     println!("{} {:?} {:?}", series.instrument.name(), series.labels, value.count());
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Series {
    /// What it measures.
    pub instrument: Instrument,
    /// `(attribute, value)` pairs.
    pub labels: Vec<(&'static str, String)>,
}

impl Series {
    /// The value of the label `name`, if the series has it.
    ///
    /// ```
    /// use kotori::Kotori;
    ///
    /// let app = Kotori::new(());
    /// let metrics = app.metrics();
    /// app.get("/users/{id}", || async { "a user" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// app.client().get("/users/7").send().await;
    /// # });
    /// let metrics = metrics.get().expect("built");
    ///
    /// let (series, _) = &metrics.observed()[0];
    /// assert_eq!(series.label("http.route"), Some("/users/{id}"));
    /// ```
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A series' value when read.
///
/// ```
/// use kotori::Kotori;
///
/// let app = Kotori::new(());
/// let metrics = app.metrics();
/// app.get("/users/{id}", || async { "a user" });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// app.client().get("/users/7").send().await;
/// # });
/// let metrics = metrics.get().expect("built");
///
/// use kotori::metrics::{Instrument, Value};
/// let (_, value) = metrics
///     .observed()
///     .into_iter()
///     .find(|(s, _)| s.instrument == Instrument::RequestDuration && s.label("http.response.status_code") == Some("200"))
///     .unwrap();
/// match value {
///     Value::Histogram(h) => assert_eq!(h.count, 1),
///     Value::Gauge(_) => unreachable!("a duration is a histogram"),
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A histogram's buckets, sum and count.
    Histogram(Snapshot),
    /// A gauge's value.
    Gauge(i64),
}

impl Value {
    /// How many observations a histogram holds (`None` for a gauge).
    ///
    /// ```
    /// use kotori::metrics::Value;
    ///
    /// assert_eq!(Value::Gauge(3).count(), None);
    /// ```
    pub fn count(&self) -> Option<u64> {
        match self {
            Value::Histogram(h) => Some(h.count),
            Value::Gauge(_) => None,
        }
    }
}

/// Every measurement of a built app. Read it with [`Metrics::observed`] (or export it: the
/// `prometheus` feature); [`Metrics::series`] lists what the tree declares.
///
/// ```
/// use kotori::Kotori;
///
/// let app = Kotori::new(());
/// let metrics = app.metrics();
/// app.get("/users/{id}", || async { "a user" });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// app.client().get("/users/7").send().await;
/// # });
/// let metrics = metrics.get().expect("built");
///
/// assert!(!metrics.series().is_empty());
/// assert_eq!(metrics.dropped(), 0);
/// ```
pub struct Metrics {
    places: Box<[Arc<RequestSeries>]>,
    steps: Box<[Arc<StepSeries>]>,
}

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

struct Cell {
    key: Key,
    histogram: Histogram,
}

/// The series of one chain: request durations, active requests, open streams.
pub(crate) struct RequestSeries {
    place: Place,
    /// The chain's guards and loaders, then (for a route) its handler.
    steps: Box<[Arc<str>]>,
    /// Made at build from the declarations; never changes, so read without a lock.
    declared: Box<[Cell]>,
    /// Answers nobody declared, added as they happen (read and written under the lock).
    extra: Mutex<Vec<Cell>>,
    dropped: AtomicU64,
    pub(crate) active: [AtomicI64; METHODS],
    pub(crate) streams: [AtomicI64; 2],
    streamed: AtomicBool,
    #[cfg(feature = "otel")]
    otel: Option<Arc<super::otel::Otel>>,
}

/// The durations of one awaiting step, wherever it sits in the tree.
pub(crate) struct StepSeries {
    name: Arc<str>,
    pass: Histogram,
    refuse: Histogram,
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
    fn place_label(&self) -> (&'static str, String) {
        match &self.place {
            Place::Route { template, .. } => ("http.route", template.to_string()),
            Place::Node { prefix } => ("kotori.node", prefix.to_string()),
        }
    }

    fn duration_series(&self, key: &Key) -> Series {
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

    fn gauge(&self, instrument: Instrument, extra: (&'static str, String)) -> Series {
        let labels = match instrument {
            Instrument::OpenStreams => vec![self.place_label(), extra],
            _ => vec![extra, self.place_label()],
        };
        Series { instrument, labels }
    }

    /// The method of a route that answers one; `None` for a node or a mounted service.
    fn own_method(&self) -> Option<u8> {
        match &self.place {
            Place::Route {
                method: MethodFilter::Only(m),
                ..
            } => Some(method_index(m)),
            _ => None,
        }
    }
}

impl Metrics {
    /// Every series the tree declares: per route, its method with its success and with each
    /// refusal a step on its chain declares; per awaiting step, passes and refusals; per
    /// route that answers one method, its active requests. An app whose steps declare what
    /// they answer produces exactly these (and the open-streams gauges of routes that stream).
    ///
    /// ```
    /// use kotori::Kotori;
    ///
    /// let app = Kotori::new(());
    /// let metrics = app.metrics();
    /// app.get("/users/{id}", || async { "a user" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// app.client().get("/users/7").send().await;
    /// # });
    /// let metrics = metrics.get().expect("built");
    ///
    /// // Known at build: every label value a dashboard or an alert can use.
    /// assert!(metrics.series().iter().any(|s| s.label("http.route") == Some("/users/{id}")));
    /// ```
    pub fn series(&self) -> Vec<Series> {
        let mut all = Vec::new();
        for place in &*self.places {
            all.extend(place.declared.iter().map(|c| place.duration_series(&c.key)));
            if let Some(method) = place.own_method() {
                let label = ("http.request.method", method_name(method).to_owned());
                all.push(place.gauge(Instrument::ActiveRequests, label));
            }
        }
        for step in &*self.steps {
            all.extend(step_series(step).into_iter().map(|(s, _)| s));
        }
        all
    }

    /// Every series with its value now: the declared ones (also at zero), those added for
    /// undeclared answers, active requests where a route answers one method or some are in
    /// flight, and the open streams of routes that ever streamed.
    ///
    /// ```
    /// use kotori::Kotori;
    ///
    /// let app = Kotori::new(());
    /// let metrics = app.metrics();
    /// app.get("/users/{id}", || async { "a user" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// app.client().get("/users/7").send().await;
    /// # });
    /// let metrics = metrics.get().expect("built");
    ///
    /// use kotori::metrics::Instrument;
    /// let requests: u64 = metrics
    ///     .observed()
    ///     .iter()
    ///     .filter(|(s, _)| s.instrument == Instrument::RequestDuration)
    ///     .filter_map(|(_, v)| v.count())
    ///     .sum();
    /// assert_eq!(requests, 1); // the one request, in one histogram
    /// ```
    pub fn observed(&self) -> Vec<(Series, Value)> {
        let mut all = Vec::new();
        for place in &*self.places {
            for cell in &*place.declared {
                let value = Value::Histogram(cell.histogram.snapshot());
                all.push((place.duration_series(&cell.key), value));
            }
            let extra = place.extra.lock().unwrap_or_else(PoisonError::into_inner);
            for cell in extra.iter() {
                let value = Value::Histogram(cell.histogram.snapshot());
                all.push((place.duration_series(&cell.key), value));
            }
            drop(extra);
            for (m, active) in place.active.iter().enumerate() {
                let now = active.load(Relaxed);
                if now != 0 || place.own_method() == Some(m as u8) {
                    let label = ("http.request.method", method_name(m as u8).to_owned());
                    all.push((
                        place.gauge(Instrument::ActiveRequests, label),
                        Value::Gauge(now),
                    ));
                }
            }
            if place.streamed.load(Relaxed) {
                for kind in [StreamKind::Sse, StreamKind::WebSocket] {
                    let open = place.streams[kind as usize].load(Relaxed);
                    let label = ("kotori.stream", kind.name().to_owned());
                    all.push((
                        place.gauge(Instrument::OpenStreams, label),
                        Value::Gauge(open),
                    ));
                }
            }
        }
        for step in &*self.steps {
            all.extend(step_series(step));
        }
        all
    }

    /// Answers not recorded because their place had [`EXTRA_PER_PLACE`] undeclared series
    /// already.
    ///
    /// ```
    /// use kotori::Kotori;
    ///
    /// let app = Kotori::new(());
    /// let metrics = app.metrics();
    /// app.get("/users/{id}", || async { "a user" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// app.client().get("/users/7").send().await;
    /// # });
    /// let metrics = metrics.get().expect("built");
    ///
    /// assert_eq!(metrics.dropped(), 0);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.places.iter().map(|p| p.dropped.load(Relaxed)).sum()
    }
}

fn step_series(step: &StepSeries) -> [(Series, Value); 2] {
    let series = |outcome: &str, h: &Histogram| {
        (
            Series {
                instrument: Instrument::StepDuration,
                labels: vec![
                    ("kotori.step", step.name.to_string()),
                    ("kotori.outcome", outcome.to_owned()),
                ],
            },
            Value::Histogram(h.snapshot()),
        )
    };
    [series("pass", &step.pass), series("refuse", &step.refuse)]
}

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
