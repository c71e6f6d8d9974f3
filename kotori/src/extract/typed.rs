//! Extractors that describe what they read, from the types (schemars).

use schemars::{JsonSchema, generate::SchemaSettings};
use serde_json::{Value, json};

use super::{Form, FromCtx, Json, Needs, Query};
use crate::openapi::{Declares, In, Param};
use crate::{Ctx, Rejection};

/// An extractor that also declares what it reads, its JSON Schema derived from the type with
/// schemars: `Typed<Query<T>>` each field of `T` as a query parameter, `Typed<Form<T>>` as a
/// form field, `Typed<Json<T>>` as a JSON body. It extracts exactly as the inner extractor.
///
/// ```
/// use kotori::extract::Typed;
/// use kotori::openapi::OpenApi;
/// use kotori::{Kotori, Query};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Search {
///     /// What to look for.
///     q: String,
///     page: Option<u32>,
/// }
///
/// async fn search(Typed(Query(s)): Typed<Query<Search>>) -> String {
///     format!("{} {:?}", s.q, s.page)
/// }
///
/// let app = Kotori::new(());
/// app.get("/search", search);
/// let doc = app.build().unwrap().openapi(&OpenApi::new("t", "1")).unwrap();
/// let params = &doc["paths"]["/search"]["get"]["parameters"];
/// // One parameter per field, in alphabetical order.
/// assert_eq!((params[0]["name"].as_str(), params[0]["required"].as_bool()), (Some("page"), Some(false)));
/// assert_eq!((params[1]["name"].as_str(), params[1]["required"].as_bool()), (Some("q"), Some(true)));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Typed<E>(pub E);

/// The schema of `T`, every subschema inlined (a parameter cannot point into `$defs`).
fn schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut schema =
        serde_json::to_value(generator.into_root_schema_for::<T>()).unwrap_or(json!({}));
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
    }
    schema
}

/// One parameter per property of `T`'s object schema, required as the schema says.
fn fields<T: JsonSchema>(location: In) -> Declares {
    let schema = schema::<T>();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut declares = Declares::new();
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            let mut property = property.clone();
            let description = property
                .as_object_mut()
                .and_then(|o| o.remove("description"))
                .and_then(|d| d.as_str().map(str::to_owned));
            let mut param = Param::new(name.clone(), location, property);
            if required.contains(&name.as_str()) {
                param = param.required();
            }
            if let Some(description) = description {
                param = param.describe(description);
            }
            declares = declares.param(param);
        }
    }
    declares.refuses(400, 40001, "the parameters do not match their types")
}

impl<S, T> FromCtx<S> for Typed<Query<T>>
where
    Query<T>: FromCtx<S>,
    T: JsonSchema,
{
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        Query::<T>::from_ctx(cx).map(Typed)
    }

    fn needs() -> Needs {
        Query::<T>::needs()
    }

    fn declares() -> Declares {
        fields::<T>(In::Query)
    }
}

impl<S, T> FromCtx<S> for Typed<Form<T>>
where
    Form<T>: FromCtx<S>,
    T: JsonSchema,
{
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        Form::<T>::from_ctx(cx).map(Typed)
    }

    fn needs() -> Needs {
        Form::<T>::needs()
    }

    fn declares() -> Declares {
        fields::<T>(In::Field)
    }
}

impl<S, T> FromCtx<S> for Typed<Json<T>>
where
    Json<T>: FromCtx<S>,
    T: JsonSchema,
{
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        Json::<T>::from_ctx(cx).map(Typed)
    }

    fn needs() -> Needs {
        Json::<T>::needs()
    }

    fn declares() -> Declares {
        Declares::new()
            .body("application/json", schema::<T>())
            .refuses(400, 40001, "the body is not JSON of the expected shape")
    }
}
