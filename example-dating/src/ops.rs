//! Operations: health and readiness, the request id, and the access log.

use http::StatusCode;
use http::header::HeaderValue;
use kotori::{Ctx, Json, Response, State};
use serde_json::{Value, json};

use crate::codes::{self, AppError};
use crate::envelope::ok;
use crate::state::AppState;

/// `GET /healthz`: 200 while the process serves.
pub async fn healthz() -> Json<Value> {
    ok(json!({}))
}

/// `GET /readyz`: 200 when the database and the store answer and the store's indexes are
/// loaded, else 503 naming what is missing.
pub async fn readyz(State(state): State<AppState>) -> Result<(StatusCode, Json<Value>), AppError> {
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness: database");
        return Err(codes::unavailable("database"));
    }
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "readiness: store");
        return Err(codes::unavailable(state.store.name()));
    }
    let indexes = state.indexes();
    if !(indexes.geo() && indexes.hot()) {
        return Err(codes::unavailable("the store's indexes (loading)"));
    }
    Ok((
        StatusCode::OK,
        ok(json!({ "database": "ok", "store": state.store.name(), "indexes": "ok" })),
    ))
}

/// On every response: the `X-Request-Id` header and one access-log line with the same id.
pub fn request_log<S>(cx: &Ctx<S>, res: &mut Response) {
    let id = cx.request_id();
    if let Ok(value) = HeaderValue::from_str(id) {
        res.headers_mut().insert("x-request-id", value);
    }
    tracing::info!(
        target: "access",
        request_id = id,
        method = %cx.method(),
        path = cx.path(),
        status = res.status().as_u16(),
        micros = cx.started().elapsed().as_micros() as u64,
    );
}
