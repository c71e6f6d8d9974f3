//! The request body, once read, and its decodings: a query string, a form, JSON.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::Ctx;
use crate::Rejection;

impl<S> Ctx<S> {
    /// The request body, once read.
    ///
    /// kotori reads the body (within the route's limit) right before the first step whose
    /// extractors need it ([`Form`](crate::Form), [`Json`](crate::Json), [`Bytes`]) and before
    /// the handler. A guard taking `&mut Ctx` that wants the body should take a `Bytes` or
    /// `Form` extractor instead; otherwise this answers a 500 and logs what to do.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// // kotori reads the body before the handler runs: a handler on the raw context sees it.
    /// app.post("/size", |cx: &mut Ctx<()>| {
    ///     let size = cx.body().map(|b| b.len()).unwrap_or(0);
    ///     async move { size.to_string() }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().post("/size").body("hello").send().await.text(), "5");
    /// # });
    /// ```
    pub fn body(&self) -> Result<&Bytes, Rejection> {
        self.body.as_ref().ok_or_else(|| {
            tracing::error!(
                request_id = self.request_id(),
                "the body is not read yet at this step: take a Bytes, Form or Json extractor; answering 500"
            );
            Rejection::internal()
        })
    }

    /// The query string deserialized as `T` (a 400 that names the problem otherwise).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// struct Paging { page: u32 }
    ///
    /// fn first_pages_only(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     let paging: Paging = cx.query_as()?; // malformed: 400 naming the problem
    ///     match paging.page <= 100 {
    ///         true => Ok(()),
    ///         false => Err(Rejection::bad_request("page: at most 100")),
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/list").guard(first_pages_only).get("", || async { "[]" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/list?page=3").send().await.status(), 200);
    /// #     assert_eq!(app.client().get("/list?page=101").send().await.status(), 400);
    /// #     assert_eq!(app.client().get("/list?page=x").send().await.status(), 400);
    /// # });
    /// ```
    pub fn query_as<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_urlencoded::from_str(self.query().unwrap_or(""))
            .map_err(|e| Rejection::bad_request(format!("bad query string: {e}")))
    }

    /// The body deserialized from `application/x-www-form-urlencoded`.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// struct Login { name: String }
    ///
    /// let app = Kotori::new(());
    /// app.post("/login", |cx: &mut Ctx<()>| {
    ///     let answer = match cx.form::<Login>() {
    ///         Ok(form) => format!("hello {}", form.name),
    ///         Err(rejection) => rejection.message().to_owned(),
    ///     };
    ///     async move { answer }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().post("/login").form(&[("name", "ann")]).send().await.text(), "hello ann");
    /// # });
    /// ```
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_urlencoded::from_bytes(self.body()?)
            .map_err(|e| Rejection::bad_request(format!("bad form body: {e}")))
    }

    /// The body deserialized from JSON.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori};
    ///
    /// let app = Kotori::new(());
    /// app.post("/sum", |cx: &mut Ctx<()>| {
    ///     let answer = match cx.json::<Vec<i64>>() {
    ///         Ok(numbers) => numbers.iter().sum::<i64>().to_string(),
    ///         Err(rejection) => rejection.message().to_owned(),
    ///     };
    ///     async move { answer }
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().post("/sum").json(&[1, 2, 3]).send().await.text(), "6");
    /// # });
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Rejection> {
        serde_json::from_slice(self.body()?)
            .map_err(|e| Rejection::bad_request(format!("bad JSON body: {e}")))
    }
}
