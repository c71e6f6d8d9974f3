//! What steps and routes declare: security, refusals, parameters, success data.

use std::borrow::Cow;

use serde_json::Value;

use super::param::Param;

/// What a step (guard, loader, handler) or a route declares about the API: the security scheme
/// it enforces, the refusals it can answer, the parameters it reads and the data it returns.
///
/// Declarations add up along a route's chain: an operation's `security` is every scheme its
/// guards declare, its error responses every refusal of every step on its path. A step
/// declares once, and every route below it is described correctly — also the routes added
/// later.
///
/// ```
/// use kotori::openapi::{Declares, Param};
/// use kotori::named;
///
/// fn require_token(cx: &mut kotori::Ctx<()>) -> Result<(), kotori::Rejection> {
///     cx.header("authorization").map(|_| ()).ok_or_else(kotori::Rejection::unauthorized)
/// }
///
/// let guard = named("require_token", require_token).declares(
///     Declares::new()
///         .security("bearer")
///         .refuses(401, 40105, "token missing or expired"),
/// );
/// let app = kotori::Kotori::new(());
/// app.node("/manage").guard(guard).get("/me", || async { "me" });
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Declares {
    pub(crate) security: Vec<Cow<'static, str>>,
    pub(crate) refusals: Vec<Refusal>,
    pub(crate) params: Vec<Param>,
    pub(crate) success: Option<Value>,
    /// A request body other than form fields: (media type, schema).
    pub(crate) body: Option<(Cow<'static, str>, Value)>,
    /// A success that is not the app's usual body: (status, media type, schema).
    pub(crate) raw_success: Option<(u16, Cow<'static, str>, Value)>,
    pub(crate) summary: Option<Cow<'static, str>>,
    /// Headers the answers carry: (the status whose answers do, or every answer; name, Header
    /// Object).
    pub(crate) headers: Vec<(Option<u16>, Cow<'static, str>, Value)>,
}

impl Declares {
    /// Nothing declared yet.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    ///
    /// assert!(Declares::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Declares::default()
    }

    /// The step enforces the security scheme `scheme` (a name of
    /// [`OpenApi::security_scheme`](super::OpenApi::security_scheme)). Several schemes on one
    /// path are all required.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    ///
    /// let token = Declares::new().security("token").refuses(401, 40105, "token missing or expired");
    /// assert_eq!(token.security_schemes(), ["token"]);
    /// ```
    pub fn security(mut self, scheme: impl Into<Cow<'static, str>>) -> Self {
        self.security.push(scheme.into());
        self
    }

    /// The step can refuse with HTTP `status` and the business `code` (0 when the API has no
    /// such codes), for the reason `why`.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    ///
    /// let vip = Declares::new().refuses(403, 40302, "VIP required");
    /// let refusal = &vip.refusals()[0];
    /// assert_eq!((refusal.status, refusal.code), (403, 40302));
    /// ```
    pub fn refuses(mut self, status: u16, code: i64, why: impl Into<Cow<'static, str>>) -> Self {
        self.refusals.push(Refusal {
            status,
            code,
            description: why.into(),
        });
        self
    }

    /// The step reads the parameter `param`.
    ///
    /// ```
    /// use kotori::openapi::{Declares, Param};
    /// use serde_json::json;
    ///
    /// let paged = Declares::new()
    ///     .param(Param::query("page", json!({"type": "integer", "minimum": 1})))
    ///     .param(Param::query("pageCount", json!({"type": "integer", "maximum": 50})));
    /// assert_eq!(paged.params().len(), 2);
    /// ```
    pub fn param(mut self, param: Param) -> Self {
        self.params.push(param);
        self
    }

    /// The step reads a request body of `media_type` with this JSON Schema (form fields are
    /// [`Param::field`]s instead).
    ///
    /// ```
    /// use kotori::openapi::Declares;
    /// use serde_json::json;
    ///
    /// let upload = Declares::new().body("application/json", json!({"type": "array", "items": {"type": "integer"}}));
    /// assert!(!upload.is_empty());
    /// ```
    pub fn body(mut self, media_type: impl Into<Cow<'static, str>>, schema: Value) -> Self {
        self.body = Some((media_type.into(), schema));
        self
    }

    /// The handler answers with data of this JSON Schema (what the success response carries).
    ///
    /// ```
    /// use kotori::openapi::{Declares, OpenApi};
    /// use serde_json::json;
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/count", || async { "3" })
    ///     .declares(Declares::new().success(json!({"type": "integer"})));
    /// let doc = app.build().unwrap().openapi(&OpenApi::new("counter", "1")).unwrap();
    /// assert!(doc["paths"]["/count"]["get"]["responses"]["200"].is_object());
    /// ```
    pub fn success(mut self, schema: Value) -> Self {
        self.success = Some(schema);
        self
    }

    /// The handler answers with `status` and a body of `media_type` that is not the app's
    /// usual success body ([`OpenApi::success_body`](super::OpenApi::success_body) does not wrap
    /// it): a document served as it is, an event stream, a protocol switch (101, no body).
    ///
    /// ```
    /// use kotori::openapi::{Declares, OpenApi};
    /// use serde_json::json;
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/metrics", || async { "up 1" })
    ///     .declares(Declares::new().success_as(200, "text/plain", json!({"type": "string"})));
    /// let doc = app.build().unwrap().openapi(&OpenApi::new("metrics", "1")).unwrap();
    /// assert!(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]["text/plain"].is_object());
    /// ```
    pub fn success_as(
        mut self,
        status: u16,
        media_type: impl Into<Cow<'static, str>>,
        schema: Value,
    ) -> Self {
        self.raw_success = Some((status, media_type.into(), schema));
        self
    }

    /// A header that answers carry: those of `status`, or every answer when `status` is `None`
    /// (a request id) — as an OpenAPI Header Object (`{"description", "schema"}`). It is added
    /// to each documented response it applies to; a status the operation does not answer gets
    /// nothing, so a header of every 429 can be declared once, in
    /// [`OpenApi::everywhere`](super::OpenApi::everywhere).
    ///
    /// ```
    /// use kotori::openapi::{Declares, OpenApi};
    /// use serde_json::json;
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/search", || async { "[]" })
    ///     .declares(Declares::new().refuses(429, 42901, "slow down"));
    /// app.get("/me", || async { "me" });
    /// let app = app.build().unwrap();
    /// let seconds = json!({"description": "seconds to wait", "schema": {"type": "integer"}});
    /// let config = OpenApi::new("api", "1")
    ///     .everywhere(Declares::new().header(Some(429), "Retry-After", seconds));
    /// let doc = app.openapi(&config).unwrap();
    /// let limited = &doc["paths"]["/search"]["get"]["responses"]["429"];
    /// assert_eq!(limited["headers"]["Retry-After"]["schema"]["type"], "integer");
    /// assert!(doc["paths"]["/me"]["get"]["responses"]["429"].is_null());
    /// ```
    pub fn header(
        mut self,
        status: Option<u16>,
        name: impl Into<Cow<'static, str>>,
        header: Value,
    ) -> Self {
        self.headers.push((status, name.into(), header));
        self
    }

    /// A one-line summary of the operation (a handler's doc line is used otherwise).
    ///
    /// ```
    /// use kotori::openapi::{Declares, OpenApi};
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/healthz", || async { "ok" })
    ///     .declares(Declares::new().summary("Whether the process serves"));
    /// let doc = app.build().unwrap().openapi(&OpenApi::new("ops", "1")).unwrap();
    /// assert_eq!(doc["paths"]["/healthz"]["get"]["summary"], "Whether the process serves");
    /// ```
    pub fn summary(mut self, summary: impl Into<Cow<'static, str>>) -> Self {
        self.summary = Some(summary.into());
        self
    }

    /// Adds everything `other` declares.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    ///
    /// let signed = Declares::new().security("signature").refuses(401, 40104, "sign wrong");
    /// let with_token = signed.clone().and(Declares::new().security("token"));
    /// assert_eq!(with_token.security_schemes(), ["signature", "token"]);
    /// ```
    pub fn and(mut self, other: Declares) -> Self {
        self.security.extend(other.security);
        self.refusals.extend(other.refusals);
        self.params.extend(other.params);
        self.success = other.success.or(self.success);
        self.body = other.body.or(self.body);
        self.raw_success = other.raw_success.or(self.raw_success);
        self.summary = other.summary.or(self.summary);
        self.headers.extend(other.headers);
        self
    }

    /// The security schemes declared.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    ///
    /// assert_eq!(Declares::new().security("bearer").security_schemes(), ["bearer"]);
    /// ```
    pub fn security_schemes(&self) -> &[Cow<'static, str>] {
        &self.security
    }

    /// The refusals declared.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    ///
    /// let d = Declares::new().refuses(404, 40401, "no such live");
    /// assert_eq!(d.refusals()[0].description, "no such live");
    /// ```
    pub fn refusals(&self) -> &[Refusal] {
        &self.refusals
    }

    /// The parameters declared.
    ///
    /// ```
    /// use kotori::openapi::{Declares, Param};
    /// use serde_json::json;
    ///
    /// let d = Declares::new().param(Param::path("live_id", json!({"type": "integer"})));
    /// assert_eq!(d.params()[0].name(), "live_id");
    /// ```
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// Whether nothing is declared.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    ///
    /// assert!(Declares::new().is_empty());
    /// assert!(!Declares::new().security("token").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Declares::default()
    }
}

/// A refusal a step can answer: HTTP status, business code and why.
///
/// ```
/// use kotori::openapi::Declares;
///
/// for refusal in Declares::new().refuses(429, 42901, "rate limited").refusals() {
///     println!("{} {}: {}", refusal.status, refusal.code, refusal.description);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The business code (0 if the API has none).
    pub code: i64,
    /// Why.
    pub description: Cow<'static, str>,
}
