//! How the console looks: pages rendered on the server from templates (`templates/`), and
//! refusals under `/manage` — the JSON envelope for `.json` paths (the console's API), a page
//! for everything else: a browser without a session is sent to the login page (303), a
//! missing privilege is a 403 page, a missing resource a 404 page.
//!
//! What an operator may follow or press is never listed here or in a template: [`Page::may`]
//! asks the built tree whether the operator passes that route's guards.

use std::sync::LazyLock;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, LOCATION};
use http::{Method, StatusCode};
use kotori::{Ctx, Rejection, Response};
use minijinja::Environment;
use serde_json::{Map, Value, json};

use super::operators::Operator;
use super::session::Session;
use crate::codes;
use crate::envelope;
use crate::params::Params;
use crate::state::AppState;

/// The templates, compiled once; `.html` names are escaped automatically.
static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_formatter(html_formatter);
    for (name, source) in [
        ("base.html", include_str!("../../templates/base.html")),
        ("error.html", include_str!("../../templates/error.html")),
        ("login.html", include_str!("../../templates/login.html")),
        ("home.html", include_str!("../../templates/home.html")),
        ("users.html", include_str!("../../templates/users.html")),
        ("user.html", include_str!("../../templates/user.html")),
        ("reports.html", include_str!("../../templates/reports.html")),
        ("report.html", include_str!("../../templates/report.html")),
        ("orders.html", include_str!("../../templates/orders.html")),
        (
            "products.html",
            include_str!("../../templates/products.html"),
        ),
        ("lives.html", include_str!("../../templates/lives.html")),
        ("live.html", include_str!("../../templates/live.html")),
        ("audit.html", include_str!("../../templates/audit.html")),
        ("pager.html", include_str!("../../templates/pager.html")),
    ] {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env
});

/// Writes a value into a page: nothing for a missing or null value, and text escaped for HTML
/// (`& < > " '`: minijinja's own escaping also turns every `/` of a URL into `&#x2f;`, which
/// browsers read the same but people reading the page source do not).
fn html_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    if value.is_safe() || matches!(state.auto_escape(), minijinja::AutoEscape::None) {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_str(&rest[..at])?;
        out.write_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)?;
    Ok(())
}

/// The names of every template, for the test that renders each.
pub fn template_names() -> Vec<&'static str> {
    TEMPLATES.templates().map(|(name, _)| name).collect()
}

/// Where the console starts, and where the login page sends an operator by default.
pub const HOME: &str = "/manage";
/// The login page.
pub const LOGIN: &str = "/manage/login";

/// The sections of the console: label and page. Shown to an operator only where the tree
/// lets them in.
const SECTIONS: &[(&str, &str)] = &[
    ("Users", "/manage/dating/admin/api/users"),
    ("Reports", "/manage/dating/admin/api/reports"),
    ("Orders", "/manage/dating/admin/api/orders"),
    ("Products", "/manage/dating/admin/api/products"),
    ("Lives", "/manage/dating/admin/api/live"),
    ("Audit log", "/manage/dating/admin/api/audit"),
    ("My lives", "/manage/dating/shops/api/live"),
];

/// A page being put together for the operator of the request.
pub struct Page {
    template: &'static str,
    context: Map<String, Value>,
    status: StatusCode,
}

impl Page {
    /// The page `template` (a name under `templates/`) titled `title`.
    pub fn new(template: &'static str, title: impl Into<String>) -> Self {
        let mut context = Map::new();
        context.insert("title".into(), Value::String(title.into()));
        Page {
            template,
            context,
            status: StatusCode::OK,
        }
    }

    /// Adds `value` under `name`.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.context.insert(name.into(), value.into());
        self
    }

    /// A list page: `found` (a paged answer: `total`, `has_next`, `list`) and the page numbers
    /// around `params`' page for its links (`page.prev`, `page.next`).
    pub fn listing(
        template: &'static str,
        title: impl Into<String>,
        found: Value,
        params: &Params,
    ) -> Self {
        let page = params
            .parse_optional::<u64>("page")
            .ok()
            .flatten()
            .unwrap_or(1)
            .max(1);
        let around = json!({ "prev": page.checked_sub(1).filter(|p| *p > 0), "next": page + 1 });
        Page::new(template, title)
            .with("found", found)
            .with("page", around)
    }

    /// Answers with `status` instead of 200.
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Whether the operator of `cx` may `method path`: asked of the built tree (its guards and
    /// loaders run; its handler does not). The answer for a template's button.
    pub async fn may(cx: &mut Ctx<AppState>, method: Method, path: &str) -> bool {
        match cx.state().app() {
            Some(app) => app.allows(cx, method, path).await,
            None => false,
        }
    }

    /// Renders the page for the operator of `cx`: who they are, the CSRF token their forms
    /// send back, the page's own path (where a form returns), and the sections they may open.
    pub async fn render(mut self, cx: &mut Ctx<AppState>) -> Response {
        let mut sections = Vec::new();
        // Only an operator has sections (the login page has none to ask about).
        if cx.resource::<Operator>().is_some() {
            for (label, path) in SECTIONS {
                if Page::may(cx, Method::GET, path).await {
                    sections.push(json!({ "label": label, "path": path }));
                }
            }
        }
        let operator = cx
            .resource::<Operator>()
            .map(|op| json!({ "id": op.id, "name": op.name, "role": op.role.as_str() }));
        let csrf = cx.resource::<Session>().map(Session::csrf);
        let here = here(cx);
        self.context
            .insert("sections".into(), Value::Array(sections));
        self.context.insert("operator".into(), json!(operator));
        self.context.insert("csrf".into(), json!(csrf));
        // A page may set its own (the live page's forms post under its path, not its query).
        self.context.entry("here").or_insert(Value::String(here));
        html(self.status, render_template(self.template, &self.context))
    }
}

/// `template` rendered with `context`; a template error is a bug, logged and shown as a 500.
fn render_template(template: &str, context: &Map<String, Value>) -> String {
    let rendered = TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(context)));
    match rendered {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(template, error = %e, "a console template failed to render");
            "<!doctype html><html lang=\"en\"><title>500 Internal Server Error</title><h1>500 Internal Server Error</h1></html>".to_owned()
        }
    }
}

/// An HTML response. Console pages are never cached: they show what an operator may do now.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut res = Response::new(body.into());
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    res
}

/// A 303 to `location` (a form's answer: the browser follows it with a GET).
pub fn redirect(location: &str) -> Response {
    let mut res = Response::new(Default::default());
    *res.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        res.headers_mut().insert(LOCATION, value);
    }
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `target` if it is a page of the console (a path under `/manage`, not another site), else
/// `fallback`: where a login or a form may send the browser, never off the console.
pub fn local_or<'a>(target: Option<&'a str>, fallback: &'a str) -> &'a str {
    match target {
        Some(t)
            if (t == HOME || t.starts_with("/manage/") || t.starts_with("/manage?"))
                && !t.contains("//")
                && !t.contains("..")
                && !t.contains('\\')
                && t.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            t
        }
        _ => fallback,
    }
}

/// The `/manage` renderer.
pub fn render<S>(cx: &Ctx<S>, rejection: &Rejection) -> Response {
    if cx.path().ends_with(".json") {
        return envelope::refusal(rejection);
    }
    let status = rejection.status();
    if status == StatusCode::UNAUTHORIZED {
        // The 401 page is the login form, at the page's own address: a browser without a live
        // session logs in there and comes back (a GET page only: a form's POST is not repeated
        // after a login), and a script sees a plain 401, not a redirect
        // (docs/src/dating/api/console.md).
        let back = if cx.method() == Method::GET {
            local_or(Some(&here(cx)), HOME).to_owned()
        } else {
            HOME.to_owned()
        };
        let mut context = Map::new();
        context.insert("title".into(), Value::String("Log in".into()));
        context.insert("next".into(), Value::String(back));
        return html(status, render_template("login.html", &context));
    }
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let mut context = Map::new();
    context.insert("title".into(), Value::String(title));
    context.insert(
        "message".into(),
        Value::String(codes::message_of(rejection).into()),
    );
    context.insert("code".into(), json!(rejection.code()));
    html(status, render_template("error.html", &context))
}

/// The path and query of the request (what a page returns to).
fn here<S>(cx: &Ctx<S>) -> String {
    match cx.query().filter(|q| !q.is_empty()) {
        Some(query) => format!("{}?{query}", cx.path()),
        None => cx.path().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        assert_eq!(template_names().len(), 14);
    }

    #[test]
    fn a_redirect_never_leaves_the_console() {
        for bad in [
            "https://evil.example/",
            "//evil.example/manage",
            "/manage//evil",
            "/managex",
            "/\\evil",
            "/manage/\u{1}",
            "/manage/../api/me",
            "/api/me",
        ] {
            assert_eq!(local_or(Some(bad), HOME), HOME, "{bad}");
        }
        for good in [
            "/manage",
            "/manage/dating/admin/api/users?q=a",
            "/manage?x=1",
        ] {
            assert_eq!(local_or(Some(good), HOME), good);
        }
    }

    #[test]
    fn values_are_escaped_for_html_and_urls_stay_readable() {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        env.add_template(
            "t.html",
            "<a href=\"{{ p }}\">{{ t }}</a>{{ missing }}{{ none }}",
        )
        .unwrap();
        let page = env
            .get_template("t.html")
            .unwrap()
            .render(
                minijinja::context! { p => "/manage/x?a=1&b=2", t => "<script>'\"", none => () },
            )
            .unwrap();
        assert_eq!(
            page,
            "<a href=\"/manage/x?a=1&amp;b=2\">&lt;script&gt;&#39;&quot;</a>"
        );
    }
}
