//! How many `subscribe` frames a WebSocket client may send: a burst, then a steady rate. A
//! subscribe costs a database read (is the live on the air?); without a budget a client would
//! turn every 40 bytes it sends into one, as fast as the database answers. Other frames cost
//! what their bytes do and are not counted.

use std::time::Duration;

use tokio::time::Instant;

/// Subscribes a client may send at once.
pub const SUBSCRIBE_BURST: u32 = 20;
/// Subscribes a second a client may send after its burst.
pub const SUBSCRIBES_PER_SECOND: u32 = 10;

/// One connection's budget of subscribes: [`SUBSCRIBE_BURST`] to start with, one more every
/// 1/[`SUBSCRIBES_PER_SECOND`] s up to the burst again.
#[derive(Debug)]
pub struct SubscribeBudget {
    left: u32,
    // Time is earned from here: it moves by whole subscribes only, so a client sending a
    // little faster than the rate loses no fraction of one on the way.
    since: Instant,
}

impl SubscribeBudget {
    /// A full budget at `now`.
    pub fn new(now: Instant) -> Self {
        SubscribeBudget {
            left: SUBSCRIBE_BURST,
            since: now,
        }
    }

    /// Takes one at `now`: `false` when the budget is spent (the subscribe is not read).
    pub fn take(&mut self, now: Instant) -> bool {
        let per_one = Duration::from_secs(1) / SUBSCRIBES_PER_SECOND;
        let earned = now.saturating_duration_since(self.since).as_nanos() / per_one.as_nanos();
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            self.left = self.left.saturating_add(earned).min(SUBSCRIBE_BURST);
            self.since = if self.left == SUBSCRIBE_BURST {
                now
            } else {
                self.since + per_one * earned
            };
        }
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate_and_nothing_saved_past_the_burst() {
        let start = Instant::now();
        let mut budget = SubscribeBudget::new(start);
        for i in 0..SUBSCRIBE_BURST {
            assert!(budget.take(start), "subscribe {i} of the burst");
        }
        assert!(!budget.take(start), "past the burst");
        // A tenth of a second earns one subscribe; half of it earns nothing, and is not lost.
        let tenth = Duration::from_millis(100);
        assert!(!budget.take(start + tenth / 2));
        assert!(budget.take(start + tenth));
        assert!(!budget.take(start + tenth));
        assert!(budget.take(start + tenth * 2 + tenth / 2));
        assert!(!budget.take(start + tenth * 2 + tenth / 2));
        assert!(budget.take(start + tenth * 3));
        // An hour of silence earns a burst, not more.
        let later = start + Duration::from_secs(3600);
        let taken = (0..SUBSCRIBE_BURST * 2)
            .filter(|_| budget.take(later))
            .count();
        assert_eq!(taken, SUBSCRIBE_BURST as usize);
    }
}
