//! The storage of every series, made at `build()`, and what reading it gives.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, PoisonError};

use super::histogram::{Histogram, Snapshot};
use super::labels::{StreamKind, method_name};
use super::places::{RequestSeries, StepSeries};

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
    pub(super) places: Box<[Arc<RequestSeries>]>,
    pub(super) steps: Box<[Arc<StepSeries>]>,
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
