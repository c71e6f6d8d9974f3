//! Orders and products.

use http::Method;
use kotori::{Ctx, Res, Response, State};

use super::ADMIN;
use crate::codes::AppError;
use crate::envelope::data_of;
use crate::manage::admin;
use crate::manage::page::Page;
use crate::params::Params;
use crate::state::AppState;

/// `GET …/orders` (`pay`, `user_id`, `page`).
#[kotori::handler]
pub async fn orders(
    cx: &mut Ctx<AppState>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let found = admin::orders(&state, &params).await?;
    Ok(Page::listing("orders.html", "Orders", found, &params)
        .with("pay", params.get("pay").unwrap_or("").to_owned())
        .render(cx)
        .await)
}

/// `GET …/products`: every product; the create form for an operator who may create.
#[kotori::handler]
pub async fn products(
    cx: &mut Ctx<AppState>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let mut all = data_of(admin::list_products(State(state)).await?);
    let may_create = Page::may(cx, Method::POST, &format!("{ADMIN}/products/create")).await;
    // Each product's edit form where the tree allows editing that product.
    if let Some(list) = all["list"].as_array_mut() {
        for product in list {
            let edit = format!("{ADMIN}/products/{}/edit", product["product_id"]);
            product["may_edit"] = Page::may(cx, Method::POST, &edit).await.into();
        }
    }
    Ok(Page::new("products.html", "Products")
        .with("products", all["list"].take())
        .with("may_create", may_create)
        .render(cx)
        .await)
}
