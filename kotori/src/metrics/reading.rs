//! Reading every series of a built app: [`Metrics`], over the places counted into.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, PoisonError};

use super::histogram::Histogram;
use super::labels::{StreamKind, method_name};
use super::places::{RequestSeries, StepSeries};
use super::series::{Instrument, Series, Value};

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

    /// Answers not recorded because their place had [`EXTRA_PER_PLACE`](super::EXTRA_PER_PLACE) undeclared series
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
