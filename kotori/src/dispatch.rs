//! Dispatch: one router lookup, then a walk over the route's precomputed chain.
//!
//! Reads the compiled form (`compiled.rs`) only: nothing here depends on how the tree was
//! declared. The lookup is `resolve`, reading a body `request_body`, the measurements
//! `measure`, asking the tree about another request (`App::allows`) `probe`, and the future a
//! dispatch returns (with the rest of a request run to completion) `future`.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderValue};
use http::{Method, Request};
use http_body::Body as HttpBody;

use crate::compiled::{App, Chain};
use crate::render;
use crate::step::{Flow, Outcome};
use crate::{Ctx, Rejection, Reply, Response};

pub use crate::body::BoxError;

mod future;
mod measure;
mod probe;
mod request_body;
mod resolve;

#[cfg(feature = "metrics")]
use measure::measure;
#[cfg(feature = "metrics")]
use measure::timed;
use measure::{Began, blame_running, running};
use request_body::{read_body, take_empty_body};
use resolve::{ChainAt, End};

use future::Detach;
pub use future::Dispatch;

impl<S: Clone + Send + Sync + 'static> App<S> {
    /// Runs one request through the tree and returns its response.
    ///
    /// This is the whole of kotori's request path; [`serve`](crate::serve()) and the
    /// [test client](App::client) both call it. It is generic over the body type, so anything
    /// that implements `http_body::Body` can drive it.
    ///
    /// ```
    /// use http_body_util::Full;
    /// use kotori::Kotori;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let app = Kotori::new(());
    /// app.get("/hello", || async { "hi" });
    /// let app = app.build().unwrap();
    ///
    /// let req = http::Request::get("/hello").body(Full::new(bytes::Bytes::new())).unwrap();
    /// let res = app.dispatch(req).await;
    /// assert_eq!(res.status(), 200);
    /// # });
    /// ```
    pub fn dispatch<B>(&self, req: Request<B>) -> Dispatch<'_>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.dispatch_from(req, None)
    }

    /// [`App::dispatch`] for a request that came from `peer` ([`Ctx::peer_addr`]).
    ///
    /// ```
    /// use http_body_util::Full;
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.get("/ip", |cx: &mut Ctx<()>| {
    ///     let ip = cx.peer_addr().map_or("unknown".to_owned(), |a| a.ip().to_string());
    ///     async move { ip }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let req = http::Request::get("/ip").body(Full::new(bytes::Bytes::new())).unwrap();
    /// let res = app.dispatch_from(req, Some("198.51.100.4:1234".parse().unwrap())).await;
    /// assert_eq!(res.status(), 200);
    /// # });
    /// ```
    pub fn dispatch_from<B>(&self, req: Request<B>, peer: Option<SocketAddr>) -> Dispatch<'_>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        let is_head = parts.method == Method::HEAD;
        let mut cx = Ctx::new(parts, self.0.state.clone(), peer);
        let (chain, end, found) = self.resolve(&mut cx);
        place(&mut cx, chain);
        if chain.loaders > 0 {
            cx.resources.reserve_exact(chain.loaders);
        }
        let mut body = Some(body);
        // The fast path: the synchronous steps, called directly, under one `catch_unwind`
        // (the context stays out here, intact for the renderer and the after hooks).
        let start = if chain.timeout.is_none() {
            match catch_unwind(AssertUnwindSafe(|| {
                run_sync(chain, &end, &mut cx, &mut body)
            })) {
                Ok(Progress::Done(reply)) => {
                    return Dispatch::ready(finish(chain, &mut cx, reply, is_head));
                }
                Ok(Progress::Await(step)) => step,
                Err(panic) => {
                    blame_running(&mut cx);
                    let reply = panicked(&cx, &*panic);
                    return Dispatch::ready(finish(chain, &mut cx, reply, is_head));
                }
            }
        } else {
            0
        };
        // Something awaits (a step, the body, a timeout): box the rest, once.
        if chain.run_to_completion {
            return self.rest_to_completion(found, cx, body, start, is_head);
        }
        Dispatch::pending(Box::pin(async move {
            run_pending(chain, &end, cx, body, start, is_head).await
        }))
    }

    /// The rest of a request under `run_to_completion`, from step `start`: a future that owns
    /// its handle on the tree, so that if it is dropped unfinished (its client left) it is
    /// handed to a task of its own and finishes there ([`Detach`]). The chain is taken again
    /// from that handle (`found`): what the caller holds borrows the caller's.
    #[inline(never)]
    fn rest_to_completion<B>(
        &self,
        found: ChainAt,
        cx: Ctx<S>,
        body: Option<B>,
        start: usize,
        is_head: bool,
    ) -> Dispatch<'static>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let app = self.clone();
        let rest = Box::pin(async move {
            let (chain, end) = app.chain_of(found);
            run_pending(chain, &end, cx, body, start, is_head).await
        });
        Dispatch::pending(Box::pin(Detach {
            rest: Some(rest),
            rests: Arc::clone(&self.0.rests),
        }))
    }

    /// Answers a request refused before its chain runs (its head was too large, its request
    /// line malformed): rendered by the renderer of the node the path falls under, with the
    /// root's after hooks (the request id, the access log), like a refusal from the tree.
    pub(crate) fn refuse_from<B>(
        &self,
        req: Request<B>,
        peer: Option<SocketAddr>,
        rejection: Rejection,
    ) -> Response {
        let (parts, _body) = req.into_parts();
        let is_head = parts.method == Method::HEAD;
        let mut cx = Ctx::new(parts, self.0.state.clone(), peer);
        let (chain, ..) = self.resolve(&mut cx);
        place(&mut cx, chain);
        // No node was entered: only the root's after hooks run.
        enter(&mut cx, 0, 0);
        finish(chain, &mut cx, Reply::Rejection(rejection), is_head)
    }
}

/// Where the request is measured, for `Ctx::route` and `Ctx::refused_by` in its steps, its
/// renderer and its after hooks: a reference count, not a copy of the names.
#[inline(always)]
fn place<S>(cx: &mut Ctx<S>, chain: &Chain<S>) {
    #[cfg(feature = "metrics")]
    {
        cx.series = chain.metrics.clone();
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (cx, chain);
}

/// Records that the node at `depth` is entered and what it may see.
fn enter<S>(cx: &mut Ctx<S>, depth: u8, scope: u8) {
    cx.depth = depth;
    cx.scope = scope;
}

/// A step's outcome applied to the context: a loaded resource stored, or the answer.
// The answer carries its response by value, as everywhere in dispatch: a move, not an allocation.
#[allow(clippy::result_large_err)]
fn apply<S>(cx: &mut Ctx<S>, outcome: Outcome) -> Result<(), Reply> {
    match outcome.0 {
        Ok(None) => Ok(()),
        Ok(Some(loaded)) => {
            cx.resources.push(loaded);
            Ok(())
        }
        Err(reply) => Err(reply),
    }
}

/// The answer of a chain that ends without a handler: 404, or 405 with `Allow`.
fn not_found() -> Reply {
    Reply::Rejection(Rejection::not_found())
}

fn not_allowed(allow: &HeaderValue) -> Reply {
    Reply::Rejection(Rejection::method_not_allowed(allow.clone()))
}

/// How far the synchronous fast path got.
enum Progress {
    /// The request is answered; `cx.depth` is the deepest node entered.
    Done(Reply),
    /// Step `n` (or the handler, at `steps.len()`) must be awaited, or the body read.
    Await(usize),
}

/// Runs the chain's leading synchronous steps (and a synchronous handler) as plain calls.
fn run_sync<S, B: HttpBody>(
    chain: &Chain<S>,
    end: &End<'_, S>,
    cx: &mut Ctx<S>,
    body: &mut Option<B>,
) -> Progress {
    for (i, step) in chain.steps.iter().enumerate() {
        if !step.sync || (i == chain.body_at && !take_empty_body(cx, body)) {
            return Progress::Await(i);
        }
        enter(cx, step.depth, step.scope);
        running(cx, i);
        let outcome = match step.step.run(cx) {
            Flow::Ready(outcome) => outcome,
            Flow::Pending(_) => unreachable_sync_step(),
        };
        if let Err(reply) = apply(cx, outcome) {
            blame_running(cx);
            return Progress::Done(reply);
        }
    }
    enter(cx, chain.leaf_depth, chain.leaf_scope);
    let reply = match end {
        End::NotFound => not_found(),
        End::NotAllowed(allow) => not_allowed(allow),
        End::Handler(handler) => {
            if !handler.sync || !take_empty_body(cx, body) {
                return Progress::Await(chain.steps.len());
            }
            running(cx, chain.steps.len());
            let reply = match handler.run.run(cx) {
                Flow::Ready(reply) => reply,
                Flow::Pending(_) => unreachable_sync_step(),
            };
            if matches!(reply, Reply::Rejection(_)) {
                blame_running(cx);
            }
            reply
        }
    };
    Progress::Done(reply)
}

/// A step registered as `mode::Sync` returned a future: a hand-written implementation broke
/// the contract of its marker. The future borrows the context, so it cannot be moved to the
/// slow path: answer 500 (through the panic handler) and say what to fix.
fn unreachable_sync_step() -> ! {
    panic!("a step marked `mode::Sync` returned `Flow::Pending`: mark it `mode::Async`")
}

/// The rest of a request that awaits: its remaining steps and handler from step `start` (under
/// the chain's timeout, a panic caught), then [`finish`].
async fn run_pending<S, B>(
    chain: &Chain<S>,
    end: &End<'_, S>,
    mut cx: Ctx<S>,
    body: Option<B>,
    start: usize,
    is_head: bool,
) -> Response
where
    S: Clone + Send + Sync + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    // In flight until answered, or dropped (with the connection, unless it runs to completion).
    #[cfg(feature = "metrics")]
    let _active = chain.metrics.as_ref().map(|series| {
        crate::metrics::ActiveRequest::enter(series, crate::metrics::method_index(cx.method()))
    });
    let ran = match chain.timeout {
        None => Some(CatchUnwind(pin!(run_chain(chain, end, &mut cx, body, start))).await),
        Some(limit) => {
            let steps = CatchUnwind(pin!(run_chain(chain, end, &mut cx, body, start)));
            tokio::time::timeout(limit, steps).await.ok()
        }
    };
    if !matches!(ran, Some(Ok(_))) {
        blame_running(&mut cx);
    }
    let reply = match ran {
        Some(Ok(reply)) => reply,
        Some(Err(panic)) => panicked(&cx, &*panic),
        None => Reply::Rejection(Rejection::unavailable().with_message("request timed out")),
    };
    finish(chain, &mut cx, reply, is_head)
}

/// Runs the steps in order until one answers, then the handler (or the 404/405 refusal).
/// `cx.depth` is left at the deepest node entered.
async fn run_chain<S, B>(
    chain: &Chain<S>,
    end: &End<'_, S>,
    cx: &mut Ctx<S>,
    mut body: Option<B>,
    start: usize,
) -> Reply
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    for (i, step) in chain.steps.iter().enumerate().skip(start) {
        if i == chain.body_at && !take_empty_body(cx, &mut body) {
            // Boxed: collecting a body is a big future, and only requests with one need it.
            if let Err(rejection) = Box::pin(read_body(cx, &mut body, chain)).await {
                return Reply::Rejection(rejection);
            }
        }
        enter(cx, step.depth, step.scope);
        running(cx, i);
        // Synchronous steps finish inside `run`; only a step that awaits returns a future.
        let (outcome, awaited) = match step.step.run(cx) {
            Flow::Ready(outcome) => (outcome, None),
            Flow::Pending(fut) => {
                let began = Began::now();
                (fut.await, Some(began))
            }
        };
        #[cfg(feature = "metrics")]
        if let (Some(began), Some(series)) = (awaited, &step.metrics) {
            timed(cx, series, began, outcome.0.is_ok());
        }
        #[cfg(not(feature = "metrics"))]
        let _ = awaited;
        if let Err(reply) = apply(cx, outcome) {
            blame_running(cx);
            return reply;
        }
    }
    enter(cx, chain.leaf_depth, chain.leaf_scope);
    match end {
        End::NotFound => not_found(),
        End::NotAllowed(allow) => not_allowed(allow),
        End::Handler(handler) => {
            if !take_empty_body(cx, &mut body) {
                if let Err(rejection) = Box::pin(read_body(cx, &mut body, chain)).await {
                    return Reply::Rejection(rejection);
                }
            }
            running(cx, chain.steps.len());
            let (reply, awaited) = match handler.run.run(cx) {
                Flow::Ready(reply) => (reply, None),
                Flow::Pending(fut) => {
                    let began = Began::now();
                    (fut.await, Some(began))
                }
            };
            #[cfg(feature = "metrics")]
            if let (Some(began), Some(series)) = (awaited, &handler.metrics) {
                timed(cx, series, began, !matches!(reply, Reply::Rejection(_)));
            }
            #[cfg(not(feature = "metrics"))]
            let _ = awaited;
            if matches!(reply, Reply::Rejection(_)) {
                blame_running(cx);
            }
            reply
        }
    }
}

/// Renders a rejection with the chain's renderer, adds its headers, and runs the after hooks
/// of the nodes entered (down to `cx.depth`), leaf to root.
fn finish<S: 'static>(chain: &Chain<S>, cx: &mut Ctx<S>, reply: Reply, is_head: bool) -> Response {
    #[cfg(feature = "metrics")]
    let code = match &reply {
        Reply::Rejection(rejection) => Some(rejection.code()),
        Reply::Response(_) => None,
    };
    #[cfg(feature = "metrics")]
    {
        cx.rejection_code = code;
    }
    let cx = &*cx;
    let mut res = match reply {
        Reply::Response(res) => res,
        Reply::Rejection(rejection) => {
            match catch_unwind(AssertUnwindSafe(|| chain.renderer.render(cx, &rejection))) {
                Ok(mut res) => {
                    if let Some(headers) = rejection.headers() {
                        for (name, value) in headers {
                            res.headers_mut().append(name, value.clone());
                        }
                    }
                    res
                }
                Err(panic) => plain_500(cx, &*panic),
            }
        }
    };
    let from = chain.after_from[usize::from(cx.depth)];
    for after in &chain.afters[from..] {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| after.call(cx, &mut res))) {
            // Fail closed: the response the hook was changing (a header half-removed, a body
            // half-redacted) is never sent. Outer hooks still see the 500.
            res = plain_500(cx, &*panic);
        }
    }
    if is_head {
        strip_body(&mut res);
    }
    #[cfg(feature = "metrics")]
    if let Some(series) = &chain.metrics {
        measure(series, cx, &mut res, code);
    }
    res
}

/// Logs a panic with the request id and turns it into a 500; nothing of it reaches the client.
fn panicked<S>(cx: &Ctx<S>, panic: &(dyn Any + Send)) -> Reply {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(
        request_id = cx.request_id(),
        method = %cx.method(),
        path = cx.path(),
        panic = message,
        "a step panicked; answering 500"
    );
    Reply::Rejection(Rejection::internal())
}

/// What a panicking renderer or after hook leaves: a plain 500, the panic logged.
fn plain_500<S>(cx: &Ctx<S>, panic: &(dyn Any + Send)) -> Response {
    panicked(cx, panic);
    render::text(&Rejection::internal())
}

/// `HEAD` is served by `GET`: keep the headers (with the length the body would have had), drop
/// the body.
fn strip_body(res: &mut Response) {
    let len = res.body().size_hint().exact().unwrap_or(0);
    res.headers_mut()
        .entry(CONTENT_LENGTH)
        .or_insert_with(|| HeaderValue::from(len));
    *res.body_mut() = Default::default();
}

/// Polls a future inside `catch_unwind`, so that a panicking step becomes a 500 with its context
/// (and after hooks) intact.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(task))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}
