//! What a test request answered: [`TestResponse`].

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// A response received by a [`TestClient`](super::TestClient), its body read in full.
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
/// assert_eq!((res.status().as_u16(), res.text()), (200, "hello"));
/// assert_eq!(res.header("content-type"), Some("text/plain; charset=utf-8"));
/// # });
/// ```
#[derive(Debug)]
pub struct TestResponse {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl TestResponse {
    /// The status.
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
    /// assert_eq!(app.client().get("/nothing").send().await.status(), kotori::http::StatusCode::NOT_FOUND);
    /// # });
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
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
    /// assert!(res.headers().contains_key("content-type"));
    /// # });
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// One header as text.
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
    /// assert_eq!(res.header("content-type"), Some("text/plain; charset=utf-8"));
    /// # });
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The body.
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
    /// assert_eq!(&app.client().get("/hello").send().await.bytes()[..], b"hello");
    /// # });
    /// ```
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (invalid UTF-8 panics: this is a test helper).
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
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }

    /// The body parsed as JSON (a parse failure panics with the body in the message).
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
    /// // kotori's own refusals are JSON where the client accepts it.
    /// let res = app.client().get("/nothing").header("accept", "application/json").send().await;
    /// assert_eq!(res.json::<serde_json::Value>()["code"], 40401);
    /// # });
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not the expected JSON ({e}): {}", self.text()))
    }
}
