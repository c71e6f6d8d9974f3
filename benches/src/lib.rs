//! Benchmarks of kotori's dispatch, side by side with the floor (a bare matchit lookup plus
//! direct calls of the same functions) and with axum 0.8 (nested routers and
//! `middleware::from_fn`), for the same request and the same trivial guard and handler.
//!
//! Every contender is driven in process with [`block_on`], a no-op-waker poll loop: none of
//! these futures waits on anything, so no executor overhead blurs the comparison.
//!
//! `cargo bench -p kotori-benches --no-default-features` runs the criterion benches (kotori as built by default: example-dating, a default feature here, turns its metrics on); `report` turns the last run into
//! `docs/src/benchmarks.md`; `load/run.sh` drives real servers over loopback with wrk.

pub mod alloc;
pub mod cases;
pub mod routes;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls a future to completion on this thread, without an executor.
///
/// ```
/// assert_eq!(kotori_benches::block_on(async { 40 + 2 }), 42);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::hint::spin_loop();
    }
}
