//! The JSON envelope every API response wears, success and refusal alike (docs/src/dating/api/conventions.md):
//! `{"code": 0, "msg": "success", "data": ...}`, or `{"code": 40105, "msg": "..."}` with the
//! code's HTTP status.

use http::header::{CONTENT_TYPE, HeaderValue};
use kotori::{Body, Ctx, Json, Rejection, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// A successful response carrying `data`, moved in: `json!` would copy it whole (it
/// serializes its values into new ones), and a page of profiles is most of a response.
pub fn ok(data: impl Into<Value>) -> Json<Value> {
    let mut envelope = serde_json::Map::with_capacity(3);
    envelope.insert("code".into(), Value::from(0));
    envelope.insert("msg".into(), Value::from("success"));
    envelope.insert("data".into(), data.into());
    Json(Value::Object(envelope))
}

/// A successful response whose `data` is serialized straight from `T` into the body: no
/// `Value` tree is built and dropped on the way (lists of people are most of what the API
/// sends). The same bytes as [`ok`] on the same data.
///
/// ```
/// use example_dating::envelope::answer;
///
/// let kotori::Json(envelope) = answer([1, 2]);
/// let sent = serde_json::to_value(&envelope).unwrap();
/// assert_eq!(sent, serde_json::json!({"code": 0, "msg": "success", "data": [1, 2]}));
/// ```
pub fn answer<T: Serialize>(data: T) -> Json<Answer<T>> {
    Json(Answer {
        code: 0,
        msg: "success",
        data,
    })
}

/// The envelope of a success, typed: what [`answer`] sends.
#[derive(Debug, Serialize)]
pub struct Answer<T> {
    code: i32,
    msg: &'static str,
    data: T,
}

/// A success whose `data` is JSON text that `write` appends to the body: for answers made of
/// JSON kept already written (a page of people nearby is each kept card with its distance
/// added), which serde would parse again to check before copying it. `write` must append one
/// JSON value; the same envelope as [`answer`].
///
/// ```
/// use example_dating::envelope::answer_written;
///
/// let res = answer_written(16, |data| data.push_str("[1,2]"));
/// assert_eq!(res.headers()["content-type"], "application/json");
/// ```
pub fn answer_written(capacity: usize, write: impl FnOnce(&mut String)) -> Response {
    // What `Answer` serializes to around its `data` (a test holds the two to the same bytes).
    const OPEN: &str = r#"{"code":0,"msg":"success","data":"#;
    let mut body = String::with_capacity(OPEN.len() + capacity + 1);
    body.push_str(OPEN);
    write(&mut body);
    body.push('}');
    json_body(Body::from(body))
}

/// A refusal in the envelope, with its status and headers set by kotori afterwards.
pub fn refusal(rejection: &Rejection) -> Response {
    let msg = crate::codes::message_of(rejection);
    let body = json!({ "code": rejection.code(), "msg": msg });
    let mut res = json_body(Body::from(body.to_string()));
    *res.status_mut() = rejection.status();
    res
}

/// A response of JSON text this module wrote.
fn json_body(body: Body) -> Response {
    let mut res = Response::new(body);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// A JSON object of `fields`, moved in (`json!` copies every value it is given).
pub fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    )
}

/// The `data` of an envelope [`ok`] made: what a console page shows of an API answer.
pub fn data_of(answer: Json<Value>) -> Value {
    let Json(mut envelope) = answer;
    envelope["data"].take()
}

/// Renders every rejection as the envelope, whatever the path looks like: clients of this API
/// always parse JSON.
pub fn render<S>(_: &Ctx<S>, rejection: &Rejection) -> Response {
    refusal(rejection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// The envelope written by hand is, byte for byte, the one [`answer`] serializes.
    #[tokio::test]
    async fn a_written_answer_is_the_serialized_one() {
        let data = json!([1, {"name": "小明 \"q\""}, null]);
        let res = answer_written(0, |out| out.push_str(&data.to_string()));
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        let written = res.into_body().collect().await.unwrap().to_bytes();
        let Json(typed) = answer(&data);
        assert_eq!(written, serde_json::to_vec(&typed).unwrap());
    }
}
