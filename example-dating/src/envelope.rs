//! The JSON envelope every API response wears: `{"code": 0, "msg": "success", "data": ...}`.

use kotori::{Ctx, Json, Rejection, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// A successful response carrying `data`.
pub fn ok(data: impl Serialize) -> Json<Value> {
    Json(json!({ "code": 0, "msg": "success", "data": data }))
}

/// Renders every rejection as the envelope, whatever the path looks like: clients of this API
/// always parse JSON.
pub fn render<S>(_: &Ctx<S>, rejection: &Rejection) -> Response {
    kotori::render::json(rejection)
}
