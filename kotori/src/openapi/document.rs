//! The OpenAPI 3.1 document of a built app, derived from the tree.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use http::Method;
use serde_json::{Map, Value, json};

use super::{Declares, In, Param, Refusal};
use crate::introspect::{MethodFilter, RouteInfo, StepKind};

type Wrap = Arc<dyn Fn(Value) -> Value + Send + Sync>;
type RefusalBody = Arc<dyn Fn(&[Refusal]) -> Value + Send + Sync>;

/// How to describe an app: its title and version, its security schemes, the refusals every
/// operation can answer, and the shapes of its success and refusal bodies. Pass it to
/// [`App::openapi`](crate::App::openapi).
///
/// ```
/// use kotori::openapi::{Declares, OpenApi};
/// use kotori::{Kotori, named};
/// use serde_json::json;
///
/// fn require_token(cx: &mut kotori::Ctx<()>) -> Result<(), kotori::Rejection> {
///     cx.header("authorization").map(|_| ()).ok_or_else(kotori::Rejection::unauthorized)
/// }
///
/// let app = Kotori::new(());
/// app.node("/manage")
///     .guard(named("require_token", require_token)
///         .declares(Declares::new().security("bearer").refuses(401, 0, "no token")))
///     .get("/me", || async { "me" });
/// let app = app.build().unwrap();
///
/// let doc = app
///     .openapi(&OpenApi::new("console", "1.0")
///         .security_scheme("bearer", json!({"type": "http", "scheme": "bearer"})))
///     .unwrap();
/// assert_eq!(doc["openapi"], "3.1.0");
/// assert_eq!(doc["paths"]["/manage/me"]["get"]["security"], json!([{"bearer": []}]));
/// assert!(doc["paths"]["/manage/me"]["get"]["responses"]["401"].is_object());
/// ```
#[derive(Clone)]
pub struct OpenApi {
    info: Map<String, Value>,
    schemes: BTreeMap<String, Value>,
    everywhere: Declares,
    success: Wrap,
    refusal: RefusalBody,
}

impl fmt::Debug for OpenApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenApi")
            .field("info", &self.info)
            .field("schemes", &self.schemes)
            .field("everywhere", &self.everywhere)
            .finish_non_exhaustive()
    }
}

impl OpenApi {
    /// A document titled `title`, for version `version` of the API. Success bodies are the
    /// declared data itself, refusals kotori's default `{"code", "message"}`, until
    /// [`OpenApi::success_body`] and [`OpenApi::refusal_body`] say otherwise.
    ///
    /// ```
    /// use kotori::openapi::OpenApi;
    ///
    /// let app = kotori::Kotori::new(()).build().unwrap();
    /// let doc = app.openapi(&OpenApi::new("dating", "2.0")).unwrap();
    /// assert_eq!((doc["info"]["title"].as_str(), doc["info"]["version"].as_str()), (Some("dating"), Some("2.0")));
    /// ```
    pub fn new(title: &str, version: &str) -> Self {
        let mut info = Map::new();
        info.insert("title".into(), json!(title));
        info.insert("version".into(), json!(version));
        OpenApi {
            info,
            schemes: BTreeMap::new(),
            everywhere: Declares::new(),
            success: Arc::new(|data| data),
            refusal: Arc::new(|refusals| {
                let codes: Vec<i64> = refusals.iter().map(|r| r.code).collect();
                json!({
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"enum": codes}, "message": {"type": "string"}}
                })
            }),
        }
    }

    /// The document's description (`info.description`, Markdown).
    ///
    /// ```
    /// use kotori::openapi::OpenApi;
    ///
    /// let app = kotori::Kotori::new(()).build().unwrap();
    /// let doc = app.openapi(&OpenApi::new("dating", "2.0").description("Signed requests; see *Signing*.")).unwrap();
    /// assert_eq!(doc["info"]["description"], "Signed requests; see *Signing*.");
    /// ```
    pub fn description(mut self, text: &str) -> Self {
        self.info.insert("description".into(), json!(text));
        self
    }

    /// Defines the security scheme `name` (an OpenAPI Security Scheme Object). Steps name it
    /// with [`Declares::security`].
    ///
    /// ```
    /// use kotori::openapi::OpenApi;
    /// use serde_json::json;
    ///
    /// let app = kotori::Kotori::new(()).build().unwrap();
    /// let config = OpenApi::new("console", "1").security_scheme("bearer", json!({"type": "http", "scheme": "bearer"}));
    /// let doc = app.openapi(&config).unwrap();
    /// assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    /// ```
    pub fn security_scheme(mut self, name: &str, scheme: Value) -> Self {
        self.schemes.insert(name.to_owned(), scheme);
        self
    }

    /// Refusals every operation can answer whatever its steps (a dependency that is down,
    /// a body too large).
    ///
    /// ```
    /// use kotori::openapi::{Declares, OpenApi};
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/me", || async { "me" });
    /// let app = app.build().unwrap();
    /// let config = OpenApi::new("api", "1").everywhere(Declares::new().refuses(503, 50301, "a dependency is down"));
    /// let doc = app.openapi(&config).unwrap();
    /// assert!(doc["paths"]["/me"]["get"]["responses"]["503"].is_object());
    /// ```
    pub fn everywhere(mut self, declares: Declares) -> Self {
        self.everywhere = self.everywhere.and(declares);
        self
    }

    /// The schema of a success body around the declared data schema (an envelope, say).
    ///
    /// ```
    /// use kotori::openapi::{Declares, OpenApi};
    /// use serde_json::json;
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/me", || async { "me" }).declares(Declares::new().success(json!({"type": "object"})));
    /// let app = app.build().unwrap();
    /// // Every success is wrapped in an envelope: {"code": 0, "data": ...}.
    /// let config = OpenApi::new("api", "1").success_body(|data| json!({
    ///     "type": "object",
    ///     "properties": {"code": {"const": 0}, "data": data},
    /// }));
    /// let doc = app.openapi(&config).unwrap();
    /// let schema = &doc["paths"]["/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    /// assert_eq!(schema["properties"]["code"]["const"], 0);
    /// ```
    pub fn success_body(mut self, wrap: impl Fn(Value) -> Value + Send + Sync + 'static) -> Self {
        self.success = Arc::new(wrap);
        self
    }

    /// The schema of a refusal body for the refusals answered with one HTTP status.
    ///
    /// ```
    /// use kotori::openapi::{Declares, OpenApi};
    /// use serde_json::json;
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/me", || async { "me" }).declares(Declares::new().refuses(404, 40401, "gone"));
    /// let app = app.build().unwrap();
    /// // The business codes of the refusals sharing a status, listed in their body's schema.
    /// let config = OpenApi::new("api", "1").refusal_body(|refusals| json!({
    ///     "type": "object",
    ///     "properties": {"code": {"enum": refusals.iter().map(|r| r.code).collect::<Vec<_>>()}},
    /// }));
    /// let doc = app.openapi(&config).unwrap();
    /// let schema = &doc["paths"]["/me"]["get"]["responses"]["404"]["content"]["application/json"]["schema"];
    /// assert_eq!(schema["properties"]["code"]["enum"], json!([40401]));
    /// ```
    pub fn refusal_body(
        mut self,
        body: impl Fn(&[Refusal]) -> Value + Send + Sync + 'static,
    ) -> Self {
        self.refusal = Arc::new(body);
        self
    }
}

/// A document that cannot be made: a step names a security scheme nobody defined.
///
/// ```
/// use kotori::openapi::{Declares, OpenApi};
/// use kotori::{Ctx, Kotori, declare};
///
/// let app = Kotori::new(());
/// app.guard(declare(|_: &mut Ctx<()>| {}, Declares::new().security("bearer")))
///     .get("/me", || async { "me" });
/// let app = app.build().unwrap();
/// // "bearer" is used but never defined.
/// let error = app.openapi(&OpenApi::new("api", "1")).unwrap_err();
/// assert!(error.to_string().contains("bearer"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenApiError {
    scheme: String,
    operation: String,
}

impl fmt::Display for OpenApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} declares the security scheme `{}`, which the OpenApi description does not \
             define: add `.security_scheme(\"{}\", ...)`",
            self.operation, self.scheme, self.scheme
        )
    }
}

impl std::error::Error for OpenApiError {}

/// Everything the steps of one route declare, in chain order.
fn declared(route: &RouteInfo) -> Declares {
    route
        .chain()
        .iter()
        .filter(|s| s.kind() != StepKind::After)
        .fold(Declares::new(), |all, s| all.and(s.declares().clone()))
}

/// `/files/{*rest}` → `/files/{rest}`: OpenAPI has no catch-all syntax.
fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

fn path_params(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}'))
        .map(|(name, _)| name.trim_start_matches('*').to_owned())
        .collect()
}

fn in_query(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::DELETE].contains(method)
}

fn parameter(p: &Param, location: &str) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": location,
        "required": p.required,
        "schema": p.schema,
    });
    if let Some(d) = &p.description {
        v["description"] = json!(d);
    }
    v
}

fn operation(route: &RouteInfo, config: &OpenApi, id: String) -> Result<Value, OpenApiError> {
    let all = declared(route).and(config.everywhere.clone());
    let name = format!("{} {}", route.method(), route.path());
    // Security: every scheme the chain declares, all required.
    let mut schemes: Vec<&str> = Vec::new();
    for scheme in &all.security {
        if !config.schemes.contains_key(scheme.as_ref()) {
            return Err(OpenApiError {
                scheme: scheme.to_string(),
                operation: name,
            });
        }
        if !schemes.contains(&scheme.as_ref()) {
            schemes.push(scheme);
        }
    }
    let security = if schemes.is_empty() {
        json!([])
    } else {
        json!([schemes
            .iter()
            .map(|s| (s.to_string(), json!([])))
            .collect::<Map<_, _>>()])
    };

    // Parameters: the path's own, then the declared; a later declaration of the same name and
    // place (closer to the handler) wins.
    let mut params: Vec<Param> = path_params(route.path())
        .iter()
        .map(|n| Param::undeclared_path(n))
        .collect();
    for p in &all.params {
        let location = match p.location {
            In::Field if route.method().method().is_some_and(in_query) => In::Query,
            other => other,
        };
        let p = Param {
            location,
            ..p.clone()
        };
        match params
            .iter_mut()
            .find(|q| q.name == p.name && q.location == p.location)
        {
            Some(q) => *q = p,
            None => params.push(p),
        }
    }
    let mut parameters = Vec::new();
    let mut fields = Map::new();
    let mut required_fields = Vec::new();
    for p in &params {
        match p.location {
            In::Query => parameters.push(parameter(p, "query")),
            In::Path => parameters.push(parameter(p, "path")),
            In::Header => parameters.push(parameter(p, "header")),
            In::Field => {
                let mut schema = p.schema.clone();
                if let (Some(d), Some(o)) = (&p.description, schema.as_object_mut()) {
                    o.insert("description".into(), json!(d));
                }
                fields.insert(p.name.to_string(), schema);
                if p.required {
                    required_fields.push(json!(p.name));
                }
            }
        }
    }

    // Responses: the success, then each status's refusals (one entry per code).
    let mut responses = Map::new();
    match &all.raw_success {
        Some((101, _, _)) => {
            responses.insert("101".into(), json!({"description": "Switching Protocols"}));
        }
        Some((status, media, schema)) => {
            responses.insert(
                status.to_string(),
                json!({"description": "OK", "content": {media.to_string(): {"schema": schema}}}),
            );
        }
        None => {
            responses.insert(
                "200".into(),
                json!({
                    "description": "OK",
                    "content": {"application/json": {
                        "schema": (config.success)(all.success.clone().unwrap_or(json!({})))
                    }}
                }),
            );
        }
    }
    // A code declared for two reasons (a guard's, and one every route has) is listed once,
    // with both: a client must not read the first reason as the only one.
    let mut by_status: BTreeMap<u16, Vec<Refusal>> = BTreeMap::new();
    for r in &all.refusals {
        let list = by_status.entry(r.status).or_default();
        match list.iter_mut().find(|x| x.code == r.code) {
            None => list.push(r.clone()),
            Some(known) if known.description.split(", or ").any(|d| d == r.description) => {}
            Some(known) => {
                known.description = format!("{}, or {}", known.description, r.description).into()
            }
        }
    }
    for (status, mut refusals) in by_status {
        refusals.sort_by_key(|r| r.code);
        let description = refusals
            .iter()
            .map(|r| format!("{}: {}", r.code, r.description))
            .collect::<Vec<_>>()
            .join("; ");
        responses.insert(
            status.to_string(),
            json!({
                "description": description,
                "content": {"application/json": {"schema": (config.refusal)(&refusals)}}
            }),
        );
    }

    for (status, name, header) in &all.headers {
        for (answered, response) in responses.iter_mut() {
            if status.is_none_or(|s| s.to_string() == *answered) {
                response["headers"][name.as_ref()] = header.clone();
            }
        }
    }

    let mut op = json!({
        "operationId": id,
        "parameters": parameters,
        "responses": responses,
        "security": security,
    });
    if let Some(tag) = route.path().split('/').find(|s| !s.is_empty()) {
        op["tags"] = json!([tag]);
    }
    let summary = all
        .summary
        .as_deref()
        .map(str::to_owned)
        .or_else(|| route.handler().doc().map(str::to_owned));
    if let Some(summary) = summary {
        op["summary"] = json!(summary);
    }
    if let Some((media, schema)) = &all.body {
        op["requestBody"] = json!({
            "required": true,
            "content": {media.to_string(): {"schema": schema}}
        });
    } else if !fields.is_empty() {
        let mut schema = json!({"type": "object", "properties": fields});
        if !required_fields.is_empty() {
            schema["required"] = json!(required_fields);
        }
        op["requestBody"] = json!({
            "required": !required_fields.is_empty(),
            "content": {"application/x-www-form-urlencoded": {"schema": schema}}
        });
    }
    Ok(op)
}

/// The operation ids: the handler's name, made unique with its path where a handler serves
/// several routes.
fn operation_ids(routes: &[&RouteInfo]) -> Vec<String> {
    let short = |r: &RouteInfo| {
        let name = r.handler().name();
        name.rsplit("::").next().unwrap_or(name).to_owned()
    };
    let mut count: HashMap<String, usize> = HashMap::new();
    for r in routes {
        *count.entry(short(r)).or_default() += 1;
    }
    routes
        .iter()
        .map(|r| {
            let name = short(r);
            if count[&name] == 1 {
                return name;
            }
            let path: String = r
                .path()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            format!(
                "{name}_{}{}",
                r.method().as_str().to_ascii_lowercase(),
                path.trim_end_matches('_')
            )
        })
        .collect()
}

pub(crate) fn document(routes: &[RouteInfo], config: &OpenApi) -> Result<Value, OpenApiError> {
    // A mounted service answers any method: it has no operations to describe.
    let routes: Vec<&RouteInfo> = routes
        .iter()
        .filter(|r| *r.method() != MethodFilter::Any)
        .collect();
    let ids = operation_ids(&routes);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (route, id) in routes.iter().zip(ids) {
        let op = operation(route, config, id)?;
        paths
            .entry(openapi_path(route.path()))
            .or_default()
            .insert(route.method().as_str().to_ascii_lowercase(), op);
    }
    Ok(json!({
        "openapi": "3.1.0",
        "info": config.info,
        "paths": paths,
        "components": {"securitySchemes": config.schemes},
    }))
}
