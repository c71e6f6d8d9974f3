//! An in-process test client: requests go through the full dispatch, without a socket.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::App;

/// Sends requests to an [`App`] in process: the same dispatch as the server, no socket.
///
/// ```
/// use kotori::Kotori;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let app = Kotori::new(());
/// app.post("/echo", |body: bytes::Bytes| async move { body });
/// let app = app.build().unwrap();
///
/// let res = app.client().post("/echo").form(&[("a", "1")]).send().await;
/// assert_eq!(res.status(), 200);
/// assert_eq!(res.text(), "a=1");
/// # });
/// ```
pub struct TestClient<'a, S> {
    app: &'a App<S>,
}

/// A request being prepared by a [`TestClient`].
pub struct TestRequest<'a, S> {
    app: &'a App<S>,
    request: http::request::Builder,
    body: Bytes,
    peer: Option<std::net::SocketAddr>,
}

/// A response received by a [`TestClient`], its body read in full.
#[derive(Debug)]
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl<S: Clone + Send + Sync + 'static> App<S> {
    /// A test client for this app.
    pub fn client(&self) -> TestClient<'_, S> {
        TestClient { app: self }
    }
}

impl<'a, S: Clone + Send + Sync + 'static> TestClient<'a, S> {
    /// A request with any method.
    pub fn request(&self, method: Method, uri: &str) -> TestRequest<'a, S> {
        TestRequest {
            app: self.app,
            request: Request::builder().method(method).uri(uri),
            body: Bytes::new(),
            peer: None,
        }
    }

    /// A `GET` request.
    pub fn get(&self, uri: &str) -> TestRequest<'a, S> {
        self.request(Method::GET, uri)
    }

    /// A `POST` request.
    pub fn post(&self, uri: &str) -> TestRequest<'a, S> {
        self.request(Method::POST, uri)
    }

    /// A `DELETE` request.
    pub fn delete(&self, uri: &str) -> TestRequest<'a, S> {
        self.request(Method::DELETE, uri)
    }
}

impl<S: Clone + Send + Sync + 'static> TestRequest<'_, S> {
    /// Adds a header.
    pub fn header<K>(mut self, name: K, value: &str) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
    {
        let value = HeaderValue::from_str(value).expect("a header value of visible ASCII");
        self.request = self.request.header(name, value);
        self
    }

    /// Pretends the request came from `peer` ([`Ctx::peer_addr`](crate::Ctx::peer_addr)).
    pub fn peer(mut self, peer: std::net::SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// Sets a raw body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    pub fn form<T: Serialize + ?Sized>(self, form: &T) -> Self {
        let body = serde_urlencoded::to_string(form).expect("a form that serializes");
        self.header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    }

    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("a value that serializes");
        self.header(CONTENT_TYPE, "application/json").body(body)
    }

    /// Dispatches the request and reads the whole response.
    pub async fn send(self) -> TestResponse {
        let request = self
            .request
            .body(Full::new(self.body))
            .expect("a valid test request (method, URI and headers)");
        let response = self.app.dispatch_from(request, self.peer).await;
        let (parts, body) = response.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => panic!("the response body failed mid-way: {e}"),
        };
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

impl TestResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// One header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (invalid UTF-8 panics: this is a test helper).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }

    /// The body parsed as JSON (a parse failure panics with the body in the message).
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not the expected JSON ({e}): {}", self.text()))
    }
}
