//! A small guarded tree for the measurement tests (`metrics.rs`, `otel.rs`): `/api` guarded by
//! a token (401/40105), `/api/users/{id}` loading a user (404/40402, it awaits), `show`
//! refusing user 13 (403/40301) — each declared, as the OpenAPI document wants them anyway.

use kotori::openapi::Declares;
use kotori::{Ctx, Kotori, Path, Rejection, Res, declare};

#[derive(Clone)]
pub struct User(pub u64);

pub fn require_token(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    cx.header("authorization")
        .map(|_| ())
        .ok_or_else(|| Rejection::unauthorized().with_code(40105))
}

pub async fn load_user(Path(id): Path<u64>) -> Result<User, Rejection> {
    tokio::task::yield_now().await;
    if id < 100 {
        Ok(User(id))
    } else {
        Err(Rejection::not_found().with_code(40402))
    }
}

pub async fn show(user: Res<User>) -> Result<String, Rejection> {
    tokio::task::yield_now().await;
    match user.0 {
        13 => Err(Rejection::forbidden().with_code(40301)),
        id => Ok(format!("user {id}")),
    }
}

/// Mounts the tree on `app`.
pub fn mount(app: &Kotori<()>) {
    let api = app.node("/api").guard(declare(
        require_token,
        Declares::new().refuses(401, 40105, "no token"),
    ));
    api.node("/users/{id}")
        .load(declare(
            load_user,
            Declares::new().refuses(404, 40402, "no such user"),
        ))
        .get(
            "/show",
            declare(show, Declares::new().refuses(403, 40301, "hidden")),
        );
}
