//! An in-process test client: requests go through the full dispatch, without a socket.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use serde::Serialize;

use crate::App;

mod response;

pub use response::TestResponse;

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
///
/// ```
/// use kotori::{Ctx, Kotori};
///
/// let app = Kotori::new(());
/// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
/// app.post("/echo", |body: bytes::Bytes| async move { body });
/// app.get("/hello", || async { "hello" });
/// app.delete("/notes/{id}", || async { "deleted" });
/// app.get("/who", |cx: &mut Ctx<()>| {
///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
///     async move { who }
/// });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let res = app.client().post("/echo").header("x-trace", "1").form(&[("a", "1")]).send().await;
/// assert_eq!(res.text(), "a=1");
/// # });
/// ```
pub struct TestRequest<'a, S> {
    app: &'a App<S>,
    request: http::request::Builder,
    body: Bytes,
    peer: Option<std::net::SocketAddr>,
}

impl<S: Clone + Send + Sync + 'static> App<S> {
    /// A test client for this app.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let client = app.client();
    /// assert_eq!(client.get("/hello").send().await.text(), "hello");
    /// assert_eq!(client.get("/nothing").send().await.status(), 404);
    /// # });
    /// ```
    pub fn client(&self) -> TestClient<'_, S> {
        TestClient { app: self }
    }
}

impl<'a, S: Clone + Send + Sync + 'static> TestClient<'a, S> {
    /// A request with any method.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().request(kotori::http::Method::PUT, "/echo").body("x").send().await;
    /// assert_eq!(res.text(), "x");
    /// # });
    /// ```
    pub fn request(&self, method: Method, uri: &str) -> TestRequest<'a, S> {
        TestRequest {
            app: self.app,
            request: Request::builder().method(method).uri(uri),
            body: Bytes::new(),
            peer: None,
        }
    }

    /// A `GET` request.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/hello").send().await.text(), "hello");
    /// # });
    /// ```
    pub fn get(&self, uri: &str) -> TestRequest<'a, S> {
        self.request(Method::GET, uri)
    }

    /// A `POST` request.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().post("/echo").body("hi").send().await.text(), "hi");
    /// # });
    /// ```
    pub fn post(&self, uri: &str) -> TestRequest<'a, S> {
        self.request(Method::POST, uri)
    }

    /// A `DELETE` request.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().delete("/notes/1").send().await.text(), "deleted");
    /// # });
    /// ```
    pub fn delete(&self, uri: &str) -> TestRequest<'a, S> {
        self.request(Method::DELETE, uri)
    }
}

impl<S: Clone + Send + Sync + 'static> TestRequest<'_, S> {
    /// Adds a header.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().get("/who").header("x-user", "ann").send().await;
    /// assert_eq!(res.text(), r#"Some("ann") None"#);
    /// # });
    /// ```
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
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().get("/who").peer("192.0.2.1:5000".parse().unwrap()).send().await;
    /// assert_eq!(res.text(), "None Some(192.0.2.1:5000)");
    /// # });
    /// ```
    pub fn peer(mut self, peer: std::net::SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// Sets a raw body.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().post("/echo").body(vec![b'o', b'k']).send().await.text(), "ok");
    /// # });
    /// ```
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().post("/echo").form(&[("q", "a b"), ("n", "1")]).send().await;
    /// assert_eq!(res.text(), "q=a+b&n=1");
    /// # });
    /// ```
    pub fn form<T: Serialize + ?Sized>(self, form: &T) -> Self {
        let body = serde_urlencoded::to_string(form).expect("a form that serializes");
        self.header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    }

    /// Sets a JSON body.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().post("/echo").json(&serde_json::json!({"a": 1})).send().await;
    /// assert_eq!(res.text(), r#"{"a":1}"#);
    /// # });
    /// ```
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("a value that serializes");
        self.header(CONTENT_TYPE, "application/json").body(body)
    }

    /// Dispatches the request and reads the whole response.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.route(kotori::http::Method::PUT, "/echo", |body: bytes::Bytes| async move { body });
    /// app.post("/echo", |body: bytes::Bytes| async move { body });
    /// app.get("/hello", || async { "hello" });
    /// app.delete("/notes/{id}", || async { "deleted" });
    /// app.get("/who", |cx: &mut Ctx<()>| {
    ///     let who = format!("{:?} {:?}", cx.header("x-user"), cx.peer_addr());
    ///     async move { who }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().get("/hello").send().await;
    /// assert_eq!(res.status(), 200);
    /// # });
    /// ```
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
