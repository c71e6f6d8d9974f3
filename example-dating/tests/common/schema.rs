//! A small subset of JSON Schema, enough to check an answer against the schema
//! `/openapi.json` documents for it: types, `properties`, `required`,
//! `additionalProperties: false`, `items`, `enum`, `const`, `anyOf`, `oneOf`, bounds and
//! `maxProperties`. Patterns and formats are left to schemathesis (tests/schemathesis.rs).

use serde_json::Value;

/// Operations that answer something other than the envelope (a raw document, Prometheus's
/// text, an event stream, a protocol switch): documented as such, not toured.
pub const NOT_ENVELOPED: [(&str, &str); 4] = [
    ("get", "/openapi.json"),
    ("get", "/metrics"),
    ("get", "/api/ws"),
    ("get", "/api/events"),
];

/// Whether `value` is of the JSON Schema type `name`.
fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("the document uses a type this check does not know: {other}"),
    }
}

/// Where `value` breaks `schema`, as `path: why` lines (none: it conforms).
pub fn violations(schema: &Value, value: &Value, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(schema) = schema.as_object() else {
        return out;
    };
    let mut fail = |why: String| out.push(format!("{path}: {why}"));
    match schema.get("type") {
        Some(Value::String(t)) if !has_type(value, t) => fail(format!("{value} is not {t}")),
        Some(Value::Array(ts)) if !ts.iter().any(|t| has_type(value, t.as_str().unwrap())) => {
            fail(format!("{value} is none of {ts:?}"))
        }
        _ => {}
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        fail(format!("{value} is not {c}"));
    }
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.contains(value)
    {
        fail(format!("{value} is not one of {options:?}"));
    }
    if let (Some(min), Some(v)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && v < min
    {
        fail(format!("{v} is below {min}"));
    }
    if let (Some(max), Some(v)) = (
        schema.get("maximum").and_then(Value::as_f64),
        value.as_f64(),
    ) && v > max
    {
        fail(format!("{v} is above {max}"));
    }
    if let Some(Value::Array(options)) = schema.get("anyOf")
        && !options
            .iter()
            .any(|s| violations(s, value, path).is_empty())
    {
        fail(format!("{value} matches none of anyOf"));
    }
    if let Some(Value::Array(options)) = schema.get("oneOf") {
        let matching = options
            .iter()
            .filter(|s| violations(s, value, path).is_empty())
            .count();
        if matching != 1 {
            fail(format!("{value} matches {matching} of oneOf, not one"));
        }
    }
    if let Some(object) = value.as_object() {
        if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
            && object.len() as u64 > max
        {
            fail(format!("more than {max} fields"));
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !object.contains_key(name.as_str().unwrap()) {
                fail(format!("no field {name}"));
            }
        }
        for (name, field) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(s) => out.extend(violations(s, field, &format!("{path}.{name}"))),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    out.push(format!("{path}: field {name:?} is not documented"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, item) in list.iter().enumerate() {
            out.extend(violations(items, item, &format!("{path}[{i}]")));
        }
    }
    out
}
