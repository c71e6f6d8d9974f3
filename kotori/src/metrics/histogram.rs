//! A fixed-bucket histogram of durations: a few atomic adds per observation, no lock, no
//! allocation.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The bucket boundaries of `http.server.request.duration` in the OpenTelemetry HTTP semantic
/// conventions, in seconds.
pub const BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// [`BOUNDARIES`] in nanoseconds, for comparing without floating point.
const BOUNDARIES_NS: [u64; 14] = [
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    75_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    750_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    7_500_000_000,
    10_000_000_000,
];

/// Counts per bucket (the last one past every boundary) and the sum, in nanoseconds.
#[derive(Default)]
pub(crate) struct Histogram {
    buckets: [AtomicU64; BOUNDARIES.len() + 1],
    sum_ns: AtomicU64,
}

/// What a histogram held when it was read.
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
/// use kotori::metrics::{BOUNDARIES, Value};
/// for (_, value) in metrics.observed() {
///     if let Value::Histogram(snapshot) = value {
///         assert_eq!(snapshot.buckets.len(), BOUNDARIES.len() + 1);
///         assert_eq!(snapshot.buckets.iter().sum::<u64>(), snapshot.count);
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Observations per bucket, not cumulative: `buckets[i]` counts those at most
    /// `BOUNDARIES[i]` seconds and above the boundary before; the last counts the rest.
    pub buckets: [u64; BOUNDARIES.len() + 1],
    /// The sum of every observation, in seconds.
    pub sum: f64,
    /// How many observations.
    pub count: u64,
}

impl Histogram {
    pub(crate) fn observe(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        // Nearly every request lands in the first bucket: look from the bottom.
        let bucket = BOUNDARIES_NS
            .iter()
            .position(|&bound| ns <= bound)
            .unwrap_or(BOUNDARIES_NS.len());
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let buckets = std::array::from_fn(|i| self.buckets[i].load(Relaxed));
        Snapshot {
            count: buckets.iter().sum(),
            buckets,
            sum: self.sum_ns.load(Relaxed) as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_their_bucket_and_sum() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(7));
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_millis(6));
        h.observe(Duration::from_secs(11));
        let s = h.snapshot();
        assert_eq!(s.buckets[0], 2, "5 ms is at most the first boundary");
        assert_eq!(s.buckets[1], 1);
        assert_eq!(s.buckets[BOUNDARIES.len()], 1, "past every boundary");
        assert_eq!(s.count, 4);
        assert!((s.sum - 11.011007).abs() < 1e-9, "{}", s.sum);
    }

    #[test]
    fn the_boundaries_agree() {
        for (s, ns) in BOUNDARIES.iter().zip(BOUNDARIES_NS) {
            assert_eq!((s * 1e9).round() as u64, ns);
        }
    }
}
