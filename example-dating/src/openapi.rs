//! `GET /openapi.json` (docs/src/dating/api/operations.md): the OpenAPI 3.1 document kotori derives from the tree when
//! the server starts — security from the guards on each path, refusals from every step — plus
//! the schemes, the envelope, and the parameter shapes this API's routes share.

use std::sync::{Arc, OnceLock};

use http::header::{CONTENT_TYPE, HeaderValue};
pub use kotori::openapi::{Declares, Param};
use kotori::openapi::{OpenApi, Refusal};
use kotori::{Body, Response};
use serde_json::Value;
pub use serde_json::json;

/// The description of this API: its security schemes, the envelope, what any route can answer.
pub fn config() -> OpenApi {
    let signed = "Signed as docs/src/dating/signing.md describes: `appkey`, `timestamp`, `nonce` and `sign` travel \
                  with the other parameters (query string or form body); `sign` is the MD5 (v1) \
                  or HMAC-SHA256 (v2) of the canonical request with the app's secret.";
    OpenApi::new("example-dating", env!("CARGO_PKG_VERSION"))
        .description(
            "The dating API of the kotori reference app. Every response but this document is \
             the envelope `{\"code\", \"msg\", \"data\"}`; the HTTP status follows the code's \
             class. Generated from the route tree: an operation's `security` lists the schemes \
             of the guards on its path.",
        )
        .security_scheme(
            "client_signature",
            json!({"type": "apiKey", "in": "query", "name": "sign", "description": signed}),
        )
        .security_scheme(
            "payment_signature",
            json!({"type": "apiKey", "in": "query", "name": "sign",
                   "description": "Signed like /api, with a payment provider's app (see the book: dating/signing.md, dating/api/vip.md)."}),
        )
        .security_scheme(
            "token",
            json!({"type": "apiKey", "in": "query", "name": "token",
                   "description": "A user session from POST /api/auth/login, signed with the request."}),
        )
        .security_scheme(
            "operator_bearer",
            json!({"type": "http", "scheme": "bearer",
                   "description": "An operator token from POST /manage/login.json."}),
        )
        .everywhere(
            Declares::new()
                .refuses(413, 41301, "request body too large")
                .refuses(503, 50301, "a dependency is unavailable; nothing was half-written")
                .header(
                    Some(429),
                    "Retry-After",
                    json!({"description": "seconds to wait before trying again", "required": true,
                           "schema": {"type": "integer", "minimum": 1}}),
                )
                .header(
                    None,
                    "X-Request-Id",
                    json!({"description": "the request's id, as the access log carries it: the \
                                           client's when it sent a safe one, else a fresh one",
                           "required": true, "schema": {"type": "string"}}),
                ),
        )
        .success_body(|data| {
            json!({
                "type": "object",
                "required": ["code", "msg", "data"],
                "properties": {
                    "code": {"const": 0},
                    "msg": {"type": "string"},
                    "data": data,
                }
            })
        })
        .refusal_body(|refusals: &[Refusal]| {
            let codes: Vec<i64> = refusals.iter().map(|r| r.code).collect();
            json!({
                "type": "object",
                "required": ["code", "msg"],
                "properties": {"code": {"enum": codes}, "msg": {"type": "string"}}
            })
        })
}

/// The handler of `GET /openapi.json`: the document, filled in once the tree is built.
pub fn document(
    doc: Arc<OnceLock<String>>,
) -> impl Fn() -> std::future::Ready<Response> + Send + Sync + 'static {
    move || {
        let text = doc.get().cloned().unwrap_or_else(|| "{}".into());
        let mut res = Response::new(Body::from(text));
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        std::future::ready(res)
    }
}

/// The document without the console's pages and forms (HTML for browsers): it describes the
/// JSON API — every path outside `/manage`, and the `.json` paths under it.
pub fn without_pages(mut document: Value) -> Value {
    if let Some(paths) = document["paths"].as_object_mut() {
        paths.retain(|path, _| !path.starts_with("/manage") || path.ends_with(".json"));
    }
    document
}

/// An integer with inclusive bounds.
pub fn int(min: i64, max: i64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max})
}

/// Text of `min` to `max` characters.
pub fn text(min: u64, max: u64) -> Value {
    json!({"type": "string", "minLength": min, "maxLength": max})
}

/// An id in the path.
pub fn id(name: &'static str) -> Param {
    Param::path(name, json!({"type": "integer", "minimum": 1}))
}

/// A required form field.
pub fn required(name: &'static str, schema: Value) -> Param {
    Param::field(name, schema).required()
}

/// An optional form field.
pub fn optional(name: &'static str, schema: Value) -> Param {
    Param::field(name, schema)
}

/// A profile field that an empty value clears: `schema`, or the empty string.
pub fn clearable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"const": ""}], "description": "send it empty to clear it"})
}

/// An object answered with exactly these fields, every one present (`null` where a field
/// says so): what a client may rely on, and nothing it has not been told of.
pub fn shape<const N: usize>(fields: [(&str, Value); N]) -> Value {
    let required: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    let properties: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect();
    json!({
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": false,
    })
}

/// A `shape` with more fields (an answer that adds its own to a shared shape).
pub fn extended<const N: usize>(mut object: Value, fields: [(&str, Value); N]) -> Value {
    for (name, schema) in fields {
        object["properties"][name] = schema;
        if let Some(required) = object["required"].as_array_mut() {
            required.push(json!(name));
        }
    }
    object
}

/// A `shape` with fields present only sometimes (each says when).
pub fn with_optional<const N: usize>(mut object: Value, fields: [(&str, Value); N]) -> Value {
    for (name, schema) in fields {
        object["properties"][name] = schema;
    }
    object
}

/// `{}`: an answer with nothing to say but its code.
pub fn empty() -> Value {
    json!({"type": "object", "maxProperties": 0})
}

/// `schema`, or `null`.
pub fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

/// An integer.
pub fn integer() -> Value {
    json!({"type": "integer"})
}

/// A string.
pub fn string() -> Value {
    json!({"type": "string"})
}

/// A time as every answer writes it: UTC, `YYYY-MM-DD HH:MM:SS`.
pub fn time() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"})
}

/// An amount of money in an answer: yuan, as a number with at most two decimals.
pub fn yuan() -> Value {
    json!({"type": "number", "minimum": 0})
}

/// `{"list": [item, ...]}`: a whole list, unpaged.
pub fn list_of(item: Value) -> Value {
    shape([("list", json!({"type": "array", "items": item}))])
}

/// A success answering `data`.
pub fn answers(data: Value) -> Declares {
    Declares::new().success(data)
}

/// `paged` whose list holds `item`s.
pub fn paged_of(item: Value) -> Declares {
    paged().success(shape([
        ("total", json!({"type": "integer", "minimum": 0})),
        ("list", json!({"type": "array", "items": item})),
        ("has_next", json!({"type": "boolean"})),
    ]))
}

/// `page` and `pageCount` (docs/src/dating/api/conventions.md).
pub fn paged() -> Declares {
    Declares::new()
        .param(optional(
            "page",
            json!({"type": "integer", "minimum": 1, "default": 1}),
        ))
        .param(optional(
            "pageCount",
            json!({"type": "integer", "minimum": 1, "maximum": 50, "default": 10}),
        ))
        .success(json!({
            "type": "object",
            "required": ["total", "list", "has_next"],
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "list": {"type": "array"},
                "has_next": {"type": "boolean"},
            }
        }))
}

/// A phone number (docs/src/dating/api/auth.md): an optional `+` and 6 to 15 digits.
pub fn phone() -> Value {
    json!({"type": "string", "pattern": "^\\+?[0-9]{6,15}$"})
}

/// An `http` or `https` URL of at most 255 characters.
pub fn url() -> Value {
    // What `validate::url` takes: the scheme in any case, a host (not ending in `@`), and none
    // of the characters RFC 3986 never allows unencoded.
    let bad = r#"\s\u0000-\u001f\u007f-\u009f"<>\\^`{|}"#;
    let pattern = format!("^[Hh][Tt][Tt][Pp][Ss]?://[^{bad}/?#]*[^{bad}/?#@]([/?#][^{bad}]*)?$");
    json!({"type": "string", "format": "uri", "pattern": pattern, "maxLength": 255})
}

/// An amount of money in yuan, to the cent: what `commerce::money::cents` takes (zeros past
/// the cent allowed, 12 digits at most on either side).
pub fn money() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{1,12}(\\.[0-9]{1,2}0{0,10})?$"})
}

/// The parameters every signed request carries besides `sign` (docs/src/dating/signing.md), for a signature
/// guard's declaration.
pub fn signature_params(declares: Declares) -> Declares {
    let text = json!({"type": "string", "minLength": 1});
    declares
        .param(Param::query("appkey", text.clone()).required())
        .param(
            Param::query(
                "timestamp",
                json!({"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}),
            )
            .required(),
        )
        .param(
            Param::query(
                "nonce",
                json!({"type": "string", "minLength": 1, "maxLength": 64}),
            )
            .required(),
        )
        .refuses(401, 40101, "appkey missing or unknown")
        .refuses(401, 40102, "timestamp missing or outside the window")
        .refuses(401, 40103, "nonce missing, too long, or used (replay)")
        .refuses(401, 40104, "sign missing or wrong")
}

/// What `/openapi.json` answers: the document itself, not the envelope.
pub fn document_doc() -> Declares {
    Declares::new().success_as(200, "application/json", json!({"type": "object"}))
}
