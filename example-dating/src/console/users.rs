//! User search and a user's page: their profile, the reports about them, their orders, and
//! the ban — each part shown only where the tree lets the operator in.

use http::Method;
use kotori::{Ctx, Res, Response, State};
use serde_json::{Value, json};

use super::ADMIN;
use crate::codes::AppError;
use crate::db::entity::users::user_info;
use crate::envelope::data_of;
use crate::manage::admin::{self, admin_user_json};
use crate::manage::page::Page;
use crate::params::Params;
use crate::safety::moderation;
use crate::state::AppState;

/// `GET …/users` (`q`, `page`): the search form and what it found.
#[kotori::handler]
pub async fn search(
    cx: &mut Ctx<AppState>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    // Nothing is listed before a search: the list of everyone would count every user.
    let searched = params.get("q").is_some_and(|q| !q.trim().is_empty());
    let found = if searched {
        data_of(admin::search_users(params.clone(), State(state)).await?)
    } else {
        Value::Null
    };
    Ok(Page::listing("users.html", "Users", found, &params)
        .with("q", params.get("q").unwrap_or("").to_owned())
        .render(cx)
        .await)
}

/// `GET …/users/{user_id}`: the user, the reports about them and their orders (for an
/// operator who may read those), and the ban or unban form (for one who may press it).
#[kotori::handler]
pub async fn show(
    cx: &mut Ctx<AppState>,
    user: Res<user_info::Model>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let id = user.user_id;
    let by_user = Params::from_pairs([("user_id", id.to_string()), ("pageCount", "20".into())]);
    let reports = if Page::may(cx, Method::GET, &format!("{ADMIN}/reports")).await {
        moderation::reports(&state, &by_user).await?
    } else {
        Value::Null
    };
    let orders = if Page::may(cx, Method::GET, &format!("{ADMIN}/orders")).await {
        admin::orders(&state, &by_user).await?
    } else {
        Value::Null
    };
    let here = format!("{ADMIN}/users/{id}");
    let may_ban = Page::may(cx, Method::POST, &format!("{here}/ban")).await;
    let may_unban = Page::may(cx, Method::POST, &format!("{here}/unban")).await;
    Ok(Page::new("user.html", format!("User {id}"))
        .with("user", admin_user_json(&user))
        .with("reports", reports)
        .with("orders", orders)
        .with("may", json!({ "ban": may_ban, "unban": may_unban }))
        .render(cx)
        .await)
}
