//! The login form, logout, and the home page.

use http::StatusCode;
use http::header::SET_COOKIE;
use kotori::{Ctx, Res, Response};

use crate::codes::AppError;
use crate::manage::page::{self, Page};
use crate::manage::session::{self, Session};
use crate::manage::{Operator, cookie};
use crate::params::Params;
use crate::state::AppState;

/// `GET /manage/login`: the form (`next`: the console page to return to).
#[kotori::handler]
pub async fn login_form(cx: &mut Ctx<AppState>, params: Res<Params>) -> Response {
    let next = page::local_or(params.get("next"), page::HOME).to_owned();
    Page::new("login.html", "Log in")
        .with("next", next)
        .render(cx)
        .await
}

/// `POST /manage/login`: the same check as `login.json` ([`session::authenticate`]); the
/// session goes in the console's cookie and the browser to `next`. A refusal shows the form
/// again with what went wrong (401, or 429 with `Retry-After`).
#[kotori::handler]
pub async fn login_submit(
    cx: &mut Ctx<AppState>,
    params: Res<Params>,
) -> Result<Response, AppError> {
    let next = page::local_or(params.get("next"), page::HOME).to_owned();
    let name = params.get("name").unwrap_or("").trim();
    let password = params.get("password").unwrap_or("");
    let refused = |status: StatusCode, message: &str| {
        Page::new("login.html", "Log in")
            .status(status)
            .with("next", next.clone())
            .with("name", name.to_owned())
            .with("error", message.to_owned())
    };
    if name.is_empty() || password.is_empty() {
        let page = refused(StatusCode::BAD_REQUEST, "Enter your name and password.");
        return Ok(page.render(cx).await);
    }
    match session::authenticate(cx, name, password).await {
        Ok(opened) => {
            let mut res = page::redirect(&next);
            let max_age = opened.expire_at - crate::clock::now();
            let value = cookie::set_cookie(&opened.token, max_age, cookie::over_tls(cx));
            res.headers_mut().insert(SET_COOKIE, value);
            Ok(res)
        }
        Err(AppError::Refused(r)) if r.status() == StatusCode::UNAUTHORIZED => {
            Ok(refused(r.status(), "Wrong name or password.")
                .render(cx)
                .await)
        }
        Err(AppError::Refused(r)) if r.status() == StatusCode::TOO_MANY_REQUESTS => {
            let page = refused(
                r.status(),
                "Too many failed logins from this address: wait, then try again.",
            );
            let mut res = page.render(cx).await;
            if let Some(headers) = r.headers() {
                res.headers_mut().extend(headers.clone());
            }
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

/// `POST /manage/logout`: ends the session (on every instance), forgets the cookie, and
/// shows the login form.
#[kotori::handler]
pub async fn logout(
    cx: &mut Ctx<AppState>,
    session: Res<Session>,
    operator: Res<Operator>,
) -> Result<Response, AppError> {
    session::end_session(cx.state(), &session.token, &operator).await?;
    let mut res = page::redirect(page::LOGIN);
    res.headers_mut()
        .insert(SET_COOKIE, cookie::set_cookie("", 0, cookie::over_tls(cx)));
    Ok(res)
}

/// `GET /manage`: who is logged in, and the sections they may open.
#[kotori::handler]
pub async fn home(cx: &mut Ctx<AppState>) -> Response {
    Page::new("home.html", "Console").render(cx).await
}

/// `GET /manage/assets/live.js`: the live page's feed script (no session needed: it holds
/// nothing but code).
pub fn live_js() -> Response {
    let mut res = Response::new(include_str!("../../templates/assets/live.js").into());
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("public, max-age=300"),
    );
    res
}
