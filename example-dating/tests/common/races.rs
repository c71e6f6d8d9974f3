//! Races made repeatable: each round's timing comes from its number, never from a clock, so a
//! failing round fails again in the same way.

use std::time::Duration;

/// A number from `round`, spread over the rounds (a multiplicative hash of `round ^ salt`).
pub fn mix(round: u64, salt: u64) -> u64 {
    (round ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33
}

/// Gives the runtime back `n` times: another task runs a step in between.
pub async fn turns(n: u64) {
    for _ in 0..n {
        tokio::task::yield_now().await;
    }
}

/// Starts `work` on a task after `wait % 64` scheduler turns and, for a third of the waits, up
/// to 20 ms more: the sides of a race start together, a few steps apart, or one while the
/// other is well under way.
pub fn start<T: Send + 'static>(
    wait: u64,
    work: impl Future<Output = T> + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    tokio::spawn(async move {
        turns(wait % 64).await;
        if wait % 3 == 0 {
            tokio::time::sleep(Duration::from_micros(wait % 20_000)).await;
        }
        work.await
    })
}
