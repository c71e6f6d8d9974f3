//! Renderers: how a rejection looks under a subtree, and kotori's default one.

use std::borrow::Cow;

use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};

use crate::body::Body;
use crate::reply::json_response;
use crate::step::default_name;
use crate::{Ctx, Rejection, Response};

/// Turns a [`Rejection`] into a response. The nearest renderer on a route's path renders every
/// rejection of that route, whichever step refused; headers the rejection carries (`Allow`,
/// `Retry-After`) are added by kotori afterwards.
///
/// ```
/// use kotori::{Ctx, Kotori, Rejection, Response};
///
/// fn plain_page<S>(_cx: &Ctx<S>, rejection: &Rejection) -> Response {
///     let mut res = Response::new(format!("<h1>{}</h1>", rejection.message()).into());
///     *res.status_mut() = rejection.status();
///     res
/// }
///
/// let app = Kotori::new(());
/// app.node("/pages").render(plain_page);
/// ```
pub trait Render<S>: Send + Sync + 'static {
    /// Renders the rejection.
    fn render(&self, cx: &Ctx<S>, rejection: &Rejection) -> Response;
    /// The name shown in the printed tree.
    fn name(&self) -> Cow<'static, str> {
        default_name::<Self>()
    }
}

impl<S, F> Render<S> for F
where
    F: Fn(&Ctx<S>, &Rejection) -> Response + Send + Sync + 'static,
{
    fn render(&self, cx: &Ctx<S>, rejection: &Rejection) -> Response {
        self(cx, rejection)
    }
}

/// The renderer used where no node sets one: [`json`] when the path ends in `.json` or the
/// client accepts `application/json`, else [`text`].
///
/// ```
/// use kotori::{Kotori, Rejection};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let app = Kotori::new(());
/// app.get("/gone.json", || async { Rejection::not_found() });
/// let app = app.build().unwrap();
/// let res = app.client().get("/gone.json").send().await;
/// assert_eq!(res.json::<serde_json::Value>()["code"], 40401);
/// # });
/// ```
pub fn default<S>(cx: &Ctx<S>, rejection: &Rejection) -> Response {
    if wants_json(cx) {
        json(rejection)
    } else {
        text(rejection)
    }
}

/// A rejection as JSON: `{"code": 40401, "message": "Not Found"}`, with its status.
///
/// ```
/// use kotori::{Rejection, render};
///
/// let res = render::json(&Rejection::forbidden());
/// assert_eq!(res.status(), 403);
/// assert_eq!(res.headers()["content-type"], "application/json");
/// ```
pub fn json(rejection: &Rejection) -> Response {
    let body = serde_json::json!({ "code": rejection.code(), "message": rejection.message() });
    json_response(rejection.status(), body.to_string().into_bytes())
}

/// A rejection as its message in plain text, with its status.
///
/// ```
/// use kotori::{Rejection, render};
///
/// let res = render::text(&Rejection::not_found().with_message("no such page"));
/// assert_eq!(res.status(), 404);
/// assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
/// ```
pub fn text(rejection: &Rejection) -> Response {
    let mut res = Response::new(Body::from(rejection.message().to_owned()));
    *res.status_mut() = rejection.status();
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// Whether the request asks for JSON: a `.json` path, or an `Accept` naming JSON.
///
/// ```
/// use kotori::{Ctx, Kotori, Rejection, Response, render};
///
/// // JSON for API clients, a page for browsers — on the same routes.
/// fn page_or_json(cx: &Ctx<()>, rejection: &Rejection) -> Response {
///     match render::wants_json(cx) {
///         true => render::json(rejection),
///         false => {
///             let mut res = Response::new(format!("<p>{}</p>", rejection.message()).into());
///             *res.status_mut() = rejection.status();
///             res
///         }
///     }
/// }
///
/// let app = Kotori::new(());
/// app.render(page_or_json).get("/gone", || async { Rejection::not_found() });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(app.client().get("/gone").send().await.text(), "<p>Not Found</p>");
/// let res = app.client().get("/gone").header("accept", "application/json").send().await;
/// assert_eq!(res.json::<serde_json::Value>()["code"], 40401);
/// # });
/// ```
pub fn wants_json<S>(cx: &Ctx<S>) -> bool {
    cx.path().ends_with(".json")
        || cx
            .header(ACCEPT)
            .is_some_and(|accept| accept.contains("application/json"))
}
