//! Reading a request's body: at most once, within the chain's size limit and timeout.

use std::pin::pin;
use std::task::Poll;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http_body::Body as HttpBody;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::BoxError;
use crate::compiled::Chain;
use crate::{Ctx, Rejection};

/// The common case without an await: no body left to read (already read, or a GET without
/// one). `true` when there is nothing to read.
pub(super) fn take_empty_body<S, B: HttpBody>(cx: &mut Ctx<S>, body: &mut Option<B>) -> bool {
    match body {
        None => true,
        Some(b) if b.is_end_stream() => {
            *body = None;
            cx.body = Some(Bytes::new());
            true
        }
        Some(_) => false,
    }
}

/// Reads the whole body into the context, once, within the chain's size limit and timeout.
pub(super) async fn read_body<S, B>(
    cx: &mut Ctx<S>,
    body: &mut Option<B>,
    chain: &Chain<S>,
) -> Result<(), Rejection>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let Some(body) = body.take() else {
        return Ok(());
    };
    if body.is_end_stream() {
        cx.body = Some(Bytes::new());
        return Ok(());
    }
    // Refuse a declared oversize body without reading any of it.
    let declared = cx
        .header(CONTENT_LENGTH)
        .and_then(|len| len.parse::<u64>().ok());
    let limit = chain.body_limit;
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large(limit));
    }
    let mut collect = pin!(Limited::new(body, limit).collect());
    // A body already here (a small request, the test client) needs no timer.
    let read = match std::future::poll_fn(|task| Poll::Ready(collect.as_mut().poll(task))).await {
        Poll::Ready(read) => read,
        Poll::Pending => match tokio::time::timeout(chain.body_timeout, collect).await {
            Ok(read) => read,
            Err(_) => {
                tracing::debug!(
                    request_id = cx.request_id(),
                    "the request body stalled; answering 408"
                );
                return Err(Rejection::request_timeout().with_message(format!(
                    "the request body stalled: send all of it within {} s",
                    chain.body_timeout.as_secs_f64()
                )));
            }
        },
    };
    match read {
        Ok(collected) => {
            cx.body = Some(collected.to_bytes());
            Ok(())
        }
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(e) => {
            tracing::debug!(request_id = cx.request_id(), error = %e, "could not read the body");
            Err(Rejection::bad_request("could not read the request body"))
        }
    }
}

/// 413, saying what the limit is: the client's fix is a smaller body, and by how much.
fn too_large(limit: usize) -> Rejection {
    Rejection::payload_too_large().with_message(format!(
        "the request body is larger than this route's limit of {limit} bytes"
    ))
}
