//! The future a dispatch returns ([`Dispatch`]), and the rest of a request that runs to
//! completion ([`Detach`]): what is left of a request once its synchronous fast path is over.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::Response;
use crate::rests::Rests;

/// The future of [`App::dispatch`](crate::App::dispatch): complete at once when every step of
/// the route is synchronous (no allocation, nothing to poll), else a boxed continuation.
///
/// ```
/// use http_body_util::Full;
///
/// let app = kotori::Kotori::new(());
/// app.get("/", || async { "hi" });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let req = http::Request::get("/").body(Full::new(bytes::Bytes::new())).unwrap();
/// let dispatch = app.dispatch(req); // nothing runs until awaited
/// assert_eq!(dispatch.await.status(), 200);
/// # });
/// ```
#[must_use = "a dispatch does nothing until awaited"]
pub struct Dispatch<'a> {
    state: DispatchState<'a>,
}

enum DispatchState<'a> {
    Ready(Option<Response>),
    Pending(Pin<Box<dyn Future<Output = Response> + Send + 'a>>),
}

impl<'a> Dispatch<'a> {
    pub(super) fn ready(res: Response) -> Self {
        Dispatch {
            state: DispatchState::Ready(Some(res)),
        }
    }

    pub(super) fn pending(fut: Pin<Box<dyn Future<Output = Response> + Send + 'a>>) -> Self {
        Dispatch {
            state: DispatchState::Pending(fut),
        }
    }
}

impl Future for Dispatch<'_> {
    type Output = Response;

    fn poll(mut self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<Response> {
        match &mut self.state {
            DispatchState::Ready(res) => {
                Poll::Ready(res.take().expect("a Dispatch polled after it completed"))
            }
            DispatchState::Pending(fut) => fut.as_mut().poll(task),
        }
    }
}

/// The rest of a request under `run_to_completion` until it finishes. Dropped before that — its
/// connection closed under it — it is handed to a task of its own and finishes there: the
/// client that left drops the wait, not the work. The common case (the client waits for its
/// answer) costs no task. Without a tokio runtime to spawn on, the rest is dropped like any
/// other.
pub(super) struct Detach {
    pub(super) rest: Option<Pin<Box<dyn Future<Output = Response> + Send + 'static>>>,
    /// Where a handed-off rest is counted, so that a graceful shutdown waits for it.
    pub(super) rests: Arc<Rests>,
}

impl Future for Detach {
    type Output = Response;

    fn poll(mut self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<Response> {
        let rest = self
            .rest
            .as_mut()
            .expect("a Dispatch polled after it completed");
        let res = std::task::ready!(rest.as_mut().poll(task));
        self.rest = None;
        Poll::Ready(res)
    }
}

impl Drop for Detach {
    fn drop(&mut self) {
        if let (Some(rest), Ok(runtime)) = (self.rest.take(), tokio::runtime::Handle::try_current())
        {
            // The answer has nobody to go to.
            self.rests.spawn(&runtime, async move { drop(rest.await) });
        }
    }
}
