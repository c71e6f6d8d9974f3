//! Operations: health and readiness, the request id, the access log, and `/metrics`.

use std::future::{Ready, ready};
use std::sync::Arc;

use http::StatusCode;
use http::header::HeaderValue;
use kotori::metrics::MetricsHandle;
use kotori::{Ctx, Json, Response, State};
use prometheus_client::registry::Registry;
use serde_json::{Value, json};

use crate::codes::{self, AppError};
use crate::envelope::ok;
use crate::round_trips;
use crate::state::AppState;

/// `GET /healthz`: 200 while the process serves.
pub async fn healthz() -> Json<Value> {
    ok(json!({}))
}

/// `GET /readyz`: 200 when the database and the store answer and the store's indexes are
/// loaded, else 503 naming what is missing.
pub async fn readyz(State(state): State<AppState>) -> Result<(StatusCode, Json<Value>), AppError> {
    if state.schema().gave_up() {
        // An operator's problem, not a wait: the log has the database's words.
        return Err(codes::unavailable(
            "database (its migration failed: see the log)",
        ));
    }
    if !state.schema().is_ready() {
        return Err(codes::unavailable("database"));
    }
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness: database");
        return Err(codes::unavailable("database"));
    }
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "readiness: store");
        return Err(codes::unavailable(state.store.name()));
    }
    if !(state.places().loaded() && state.hot_ranking().is_ready()) {
        return Err(codes::unavailable("the store's indexes (loading)"));
    }
    Ok((
        StatusCode::OK,
        ok(json!({ "database": "ok", "store": state.store.name(), "indexes": "ok" })),
    ))
}

/// Above every route that uses the database: until its schema is migrated (a database that
/// was down at start, `startup`), 50301 at once — not a wait for a connection, nor a request
/// run against tables that are not there yet.
pub fn database_migrated(cx: &mut Ctx<AppState>) -> Result<(), AppError> {
    match cx.state().schema().is_ready() {
        true => Ok(()),
        false => Err(codes::unavailable("database")),
    }
}

/// What database_migrated answers, for `/openapi.json`.
pub fn database_migrated_doc() -> kotori::openapi::Declares {
    kotori::openapi::Declares::new().refuses(
        503,
        50301,
        "the database is not migrated yet (it was down at start)",
    )
}

/// On every request, first: its database statements and store round trips are counted from
/// here (`round_trips`) until [`request_log`] records them — or until the request is dropped
/// unanswered, with this resource.
pub fn count_round_trips() -> Option<round_trips::Counting> {
    Some(round_trips::begin())
}

/// On every response: the `X-Request-Id` header and one access-log line with the same id, the
/// route (or node), the business code and the step that refused the request, if one did, and
/// the request's round trips.
pub fn request_log<S>(cx: &Ctx<S>, res: &mut Response) {
    let id = cx.request_id();
    if let Ok(value) = HeaderValue::from_str(id) {
        res.headers_mut().insert("x-request-id", value);
    }
    let (statements, store) = round_trips::end().unwrap_or_default();
    tracing::info!(
        target: "access",
        request_id = id,
        method = %cx.method(),
        path = cx.path(),
        // The route's template (or, when none matched, the node the path fell under): what
        // was asked, countable across users; and who refused it, with which code.
        route = cx.route().or(cx.node()),
        status = res.status().as_u16(),
        code = cx.rejection_code(),
        refused_by = cx.refused_by(),
        micros = cx.started().elapsed().as_micros() as u64,
        statements,
        store,
    );
}

/// `GET /metrics`: kotori's measurements of the tree (`http_server_request_duration_seconds`
/// and the rest, docs/src/observability.md) and the app's round trips per request, in
/// Prometheus's text format.
pub fn metrics(
    tree: MetricsHandle,
) -> impl Fn() -> Ready<Response> + Clone + Send + Sync + 'static {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(tree));
    round_trips::register(&mut registry);
    let registry = Arc::new(registry);
    move || ready(kotori::metrics::prometheus::render(&registry))
}

/// What healthz answers, for `/openapi.json`.
pub fn healthz_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(crate::openapi::empty())
}

/// What readyz answers, for `/openapi.json`: each dependency `ok` (the store by its kind);
/// a 503 names the one that is not.
pub fn readyz_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([
        ("database", json!({"const": "ok"})),
        ("store", json!({"enum": ["memory", "redis"]})),
        ("indexes", json!({"const": "ok"})),
    ]))
}

/// What `metrics` answers, for `/openapi.json`.
pub fn metrics_doc() -> kotori::openapi::Declares {
    kotori::openapi::Declares::new()
        .success_as(
            200,
            "text/plain; version=0.0.4",
            json!({"type": "string", "description": "Prometheus's text exposition format"}),
        )
        .summary("The server's measurements, for Prometheus to scrape")
}
