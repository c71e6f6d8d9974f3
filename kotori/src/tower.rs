//! tower, both ways (feature `tower`): a built [`App`] is a `tower::Service`, so tower-http
//! layers wrap it and axum can nest it; and [`Node::service`] mounts any `tower::Service` under
//! a node, behind every guard above it.

use std::any::type_name;
use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Uri};
use http_body::Body as HttpBody;
use tower_service::Service;

use crate::body::BoxError;
use crate::extract::Needs;
use crate::introspect::MethodFilter;
use crate::step::{Flow, Handler, mode};
use crate::{App, Body, Ctx, Node, Rejection, Reply, Response};

impl<S, B> Service<Request<B>> for App<S>
where
    S: Clone + Send + Sync + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let app = self.clone();
        Box::pin(async move { Ok(app.dispatch(req).await) })
    }
}

impl<S: Clone + Send + Sync + 'static> Node<S> {
    /// Mounts `service` at `prefix` under this node, for every method: it sees the requests
    /// for `prefix` and below (with `prefix` cut from the path, as axum's `nest_service`
    /// does), after every guard and loader above it. The printed tree and audits list it as
    /// two `ANY` routes (the prefix itself, and everything below).
    ///
    /// The request body is read first, within the node's body limit.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    ///
    /// fn require_token(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     cx.header("authorization").map(|_| ()).ok_or_else(Rejection::unauthorized)
    /// }
    ///
    /// let app = Kotori::new(());
    /// let files = tower::service_fn(|req: http::Request<kotori::Body>| async move {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(kotori::Body::from(req.uri().path().to_owned())))
    /// });
    /// app.node("/private").guard(require_token).service("/files", files);
    /// let app = app.build().unwrap();
    /// assert!(app.audit().under("/private/files").require("require_token").is_ok());
    /// ```
    pub fn service<T, RB>(&self, prefix: &str, service: T) -> Node<S>
    where
        T: Service<Request<Body>, Response = http::Response<RB>> + Clone + Send + Sync + 'static,
        T::Future: Send,
        T::Error: Into<BoxError>,
        RB: HttpBody<Data = Bytes> + Send + 'static,
        RB::Error: Into<BoxError>,
    {
        let mount = self.node(prefix);
        let mounted = Mounted { service };
        mount.route_for(MethodFilter::Any, "", mounted.clone());
        mount.route_for(MethodFilter::Any, "/{*__kotori_rest}", mounted);
        mount
    }
}

/// A tower service as a route's handler.
#[derive(Clone)]
struct Mounted<T> {
    service: T,
}

/// The `Args` marker of a mounted service.
enum Service_ {}

impl<S, T, RB> Handler<S, Service_, mode::Async> for Mounted<T>
where
    S: 'static,
    T: Service<Request<Body>, Response = http::Response<RB>> + Clone + Send + Sync + 'static,
    T::Future: Send,
    T::Error: Into<BoxError>,
    RB: HttpBody<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Reply> {
        let request = match request_for(cx) {
            Ok(request) => request,
            Err(rejection) => return Flow::Ready(Reply::Rejection(rejection)),
        };
        let mut service = self.service.clone();
        let request_id = cx.request_id().to_owned();
        Flow::Pending(Box::pin(async move {
            let answered = async {
                poll_fn(|task| service.poll_ready(task)).await?;
                service.call(request).await
            };
            match answered.await {
                Ok(res) => Reply::Response(res.map(Body::wrap)),
                Err(e) => {
                    let e: BoxError = e.into();
                    tracing::error!(request_id, error = %e, "a mounted service failed; answering 500");
                    Reply::Rejection(Rejection::internal())
                }
            }
        }))
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::body()]
    }

    fn name(&self) -> std::borrow::Cow<'static, str> {
        let full = type_name::<T>();
        let short = full.split('<').next().unwrap_or(full);
        let short = short.rsplit("::").next().unwrap_or(short);
        format!("service({short})").into()
    }
}

/// The request as the mounted service sees it: the rest of the path, the same head, the body.
fn request_for<S>(cx: &mut Ctx<S>) -> Result<Request<Body>, Rejection> {
    let rest = cx.last_raw_param().unwrap_or("");
    let path_and_query = match cx.query() {
        Some(query) => format!("/{rest}?{query}"),
        None => format!("/{rest}"),
    };
    let uri = Uri::builder()
        .path_and_query(path_and_query)
        .build()
        .map_err(|_| Rejection::bad_request("the path cannot be passed on"))?;
    let body = Body::from(cx.body()?.clone());
    let parts = cx.parts_mut();
    let mut request = Request::new(body);
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = uri;
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    *request.extensions_mut() = std::mem::take(&mut parts.extensions);
    Ok(request)
}
