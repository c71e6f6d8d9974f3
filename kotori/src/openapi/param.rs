//! A parameter a step reads ([`Param`]) and where it travels ([`In`]).

use std::borrow::Cow;

use serde_json::{Value, json};

/// Where a parameter travels.
///
/// ```
/// use kotori::openapi::{In, Param};
/// use serde_json::json;
///
/// assert_eq!(Param::field("phone", json!({"type": "string"})).location(), In::Field);
/// assert_eq!(Param::query("q", json!({"type": "string"})).location(), In::Query);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    /// The query string.
    Query,
    /// A path segment (`{name}` of the route).
    Path,
    /// A request header.
    Header,
    /// A field of a form: the query string of a `GET`, `HEAD` or `DELETE`, an
    /// `application/x-www-form-urlencoded` body otherwise — what HTML forms do.
    Field,
}

/// A parameter a step reads, with its JSON Schema.
///
/// ```
/// use kotori::openapi::Param;
/// use serde_json::json;
///
/// let page = Param::field("page", json!({"type": "integer", "minimum": 1, "default": 1}));
/// let id = Param::path("user_id", json!({"type": "integer", "minimum": 1}));
/// assert!(id.is_required() && !page.is_required());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub(crate) name: Cow<'static, str>,
    pub(crate) location: In,
    pub(crate) required: bool,
    pub(crate) schema: Value,
    pub(crate) description: Option<Cow<'static, str>>,
}

impl Param {
    /// A parameter in `location` with this JSON Schema; optional unless it is in the path.
    ///
    /// ```
    /// use kotori::openapi::{In, Param};
    /// use serde_json::json;
    ///
    /// let id = Param::new("id", In::Path, json!({"type": "integer"}));
    /// assert!(id.is_required()); // a path parameter always is
    /// assert!(!Param::new("q", In::Query, json!({"type": "string"})).is_required());
    /// ```
    pub fn new(name: impl Into<Cow<'static, str>>, location: In, schema: Value) -> Self {
        Param {
            name: name.into(),
            location,
            required: location == In::Path,
            schema,
            description: None,
        }
    }

    /// An optional query parameter.
    ///
    /// ```
    /// use kotori::openapi::Param;
    /// use serde_json::json;
    ///
    /// let page = Param::query("page", json!({"type": "integer", "minimum": 1, "default": 1}));
    /// assert_eq!(page.name(), "page");
    /// ```
    pub fn query(name: impl Into<Cow<'static, str>>, schema: Value) -> Self {
        Param::new(name, In::Query, schema)
    }

    /// A path parameter (always required).
    ///
    /// ```
    /// use kotori::openapi::Param;
    /// use serde_json::json;
    ///
    /// assert!(Param::path("user_id", json!({"type": "integer"})).is_required());
    /// ```
    pub fn path(name: impl Into<Cow<'static, str>>, schema: Value) -> Self {
        Param::new(name, In::Path, schema)
    }

    /// An optional header.
    ///
    /// ```
    /// use kotori::openapi::{In, Param};
    /// use serde_json::json;
    ///
    /// let id = Param::header("X-Request-Id", json!({"type": "string", "maxLength": 64}));
    /// assert_eq!(id.location(), In::Header);
    /// ```
    pub fn header(name: impl Into<Cow<'static, str>>, schema: Value) -> Self {
        Param::new(name, In::Header, schema)
    }

    /// An optional form field (see [`In::Field`]).
    ///
    /// ```
    /// use kotori::openapi::Param;
    /// use serde_json::json;
    ///
    /// let phone = Param::field("phone", json!({"type": "string", "pattern": "^\\+?[0-9]{6,15}$"})).required();
    /// assert!(phone.is_required());
    /// ```
    pub fn field(name: impl Into<Cow<'static, str>>, schema: Value) -> Self {
        Param::new(name, In::Field, schema)
    }

    /// A parameter whose schema is derived from the type `T` with schemars.
    ///
    /// ```
    /// use kotori::openapi::{In, Param};
    ///
    /// let limit = Param::of::<u16>("limit", In::Query);
    /// assert_eq!(limit.schema()["type"], "integer");
    /// ```
    #[cfg(feature = "schemars")]
    pub fn of<T: schemars::JsonSchema>(name: impl Into<Cow<'static, str>>, location: In) -> Self {
        let mut schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(json!({}));
        if let Some(object) = schema.as_object_mut() {
            // The draft marker belongs to a document, not to a parameter's schema.
            object.remove("$schema");
        }
        Param::new(name, location, schema)
    }

    /// Makes it required.
    ///
    /// ```
    /// use kotori::openapi::Param;
    /// use serde_json::json;
    ///
    /// assert!(Param::query("q", json!({"type": "string"})).required().is_required());
    /// ```
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Describes it.
    ///
    /// ```
    /// use kotori::openapi::Param;
    /// use serde_json::json;
    ///
    /// let radius = Param::query("radius_km", json!({"type": "number"})).describe("at most 100");
    /// assert_eq!(radius.name(), "radius_km");
    /// ```
    pub fn describe(mut self, description: impl Into<Cow<'static, str>>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Its name.
    ///
    /// ```
    /// use kotori::openapi::Param;
    /// use serde_json::json;
    ///
    /// assert_eq!(Param::query("q", json!({"type": "string"})).name(), "q");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it travels.
    ///
    /// ```
    /// use kotori::openapi::{In, Param};
    /// use serde_json::json;
    ///
    /// assert_eq!(Param::path("id", json!({"type": "integer"})).location(), In::Path);
    /// ```
    pub fn location(&self) -> In {
        self.location
    }

    /// Whether a request must carry it.
    ///
    /// ```
    /// use kotori::openapi::Param;
    /// use serde_json::json;
    ///
    /// assert!(!Param::header("x-trace", json!({"type": "string"})).is_required());
    /// ```
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// Its JSON Schema.
    ///
    /// ```
    /// use kotori::openapi::Param;
    /// use serde_json::json;
    ///
    /// assert_eq!(Param::query("q", json!({"type": "string"})).schema()["type"], "string");
    /// ```
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// The default schema of a path parameter nobody declared: a non-empty string.
    pub(crate) fn undeclared_path(name: &str) -> Self {
        Param::path(name.to_owned(), json!({"type": "string", "minLength": 1}))
    }
}
