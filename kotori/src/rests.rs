//! The rests of an app's requests that run in tasks of their own, their clients gone
//! ([`Node::run_to_completion`](crate::Node::run_to_completion)): counted, so that a graceful
//! shutdown ([`serve`](crate::serve())) waits for them as for open connections, and a deploy
//! does not cut what a departed client started.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// An app's running rests (one per app, shared by its clones).
#[derive(Default)]
pub(crate) struct Rests {
    running: AtomicUsize,
    finished: Notify,
}

impl Rests {
    /// Runs `rest` in a task of its own on `runtime`, counted until it ends — or until the task
    /// is dropped (a panic, a runtime that shut down).
    pub(crate) fn spawn(
        self: &Arc<Self>,
        runtime: &tokio::runtime::Handle,
        rest: impl Future<Output = ()> + Send + 'static,
    ) {
        let running = Running::new(self);
        runtime.spawn(async move {
            rest.await;
            drop(running);
        });
    }

    /// How many are running now.
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// Completes when none is running.
    pub(crate) async fn finished(&self) {
        loop {
            // Registered before the count is read: a rest that ends in between still wakes us.
            let mut finished = std::pin::pin!(self.finished.notified());
            finished.as_mut().enable();
            if self.running() == 0 {
                return;
            }
            finished.await;
        }
    }
}

/// One running rest, counted from its hand-off to its task's end.
struct Running(Arc<Rests>);

impl Running {
    fn new(rests: &Arc<Rests>) -> Self {
        rests.running.fetch_add(1, Ordering::AcqRel);
        Running(Arc::clone(rests))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.finished.notify_waiters();
        }
    }
}
