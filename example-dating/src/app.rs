//! The whole URL space on one screen: every prefix, guard, loader and route of the API.

use kotori::{App, BuildError, Kotori};

use crate::auth;
use crate::envelope;
use crate::ops;
use crate::params::load_params;
use crate::state::AppState;

/// Form bodies of this API are small: anything larger is 41301 before it is parsed.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// Builds the tree.
pub fn build(state: AppState) -> Result<App<AppState>, BuildError> {
    let app = Kotori::new(state);
    // Every response wears the JSON envelope, refusals included (API.md §1).
    app.render(envelope::render).after(ops::request_log);
    app.get("/healthz", ops::healthz);
    app.get("/readyz", ops::readyz);

    // /api: every request is signed by a client app (40101–40104).
    let api = app
        .node("/api")
        .body_limit(API_BODY_LIMIT)
        .load(load_params)
        .before(auth::verify_client_signature);
    api.post("/auth/sendsms", auth::send_sms);
    api.post("/auth/login", auth::login);

    // Everything else under /api needs a live token (40105).
    let user = api.group().load(auth::load_caller);
    user.post("/auth/logout", auth::logout);

    // /pay: notices from payment providers, signed with their own apps.
    app.node("/pay")
        .body_limit(API_BODY_LIMIT)
        .load(load_params)
        .before(auth::verify_payment_signature);

    app.build()
}
