//! How refusals look under `/manage`: the JSON envelope for `.json` paths (the console's API),
//! a plain page for everything else (a browser that strayed).

use http::header::{CONTENT_TYPE, HeaderValue};
use kotori::{Ctx, Rejection, Response};

use crate::envelope;

/// The `/manage` renderer.
pub fn render<S>(cx: &Ctx<S>, rejection: &Rejection) -> Response {
    if cx.path().ends_with(".json") {
        return envelope::refusal(rejection);
    }
    let status = rejection.status();
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let mut res =
        Response::new(format!("<!doctype html><title>{title}</title><h1>{title}</h1>\n").into());
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}
