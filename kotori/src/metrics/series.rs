//! What a series is: its instrument and labels, and the value reading it gives.

use super::histogram::Snapshot;

/// At most this many series are added, per route (or node), for answers nobody declared;
/// past that such answers are only counted ([`Metrics::dropped`](super::Metrics::dropped)).
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
