//! The admin subtree's own routes: users, products, orders. (Live rooms are the shared
//! live-actions subtree, in `live`.)

use kotori::{Json, Path, Res, State};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};

use crate::codes::{self, AppError};
use crate::commerce::money;
use crate::commerce::orders::order_json;
use crate::commerce::products::product_json;
use crate::db::{
    entity::commerce::{product, user_order},
    entity::users::user_info,
};
use crate::envelope::ok;
use crate::manage::{Audit, Operator};
use crate::paging::Page;
use crate::params::Params;
use crate::people::profile::Whole;
use crate::people::{self, Change, account, phone, visibility};
use crate::state::AppState;
use crate::validate;

/// A user as an admin sees them: everything, ban included.
pub fn admin_user_json(u: &user_info::Model) -> Value {
    let mut v = Whole::json_of(u);
    v["ban_reason"] = json!(u.ban_reason);
    v
}

/// `q` is a user id, a phone number (exact, in any spelling of it), or the start of a
/// nickname (ASCII letters in any case). The exact matches come first (at most two: the user
/// with that id, the one with that phone), then the nicknames in the order of their search
/// key — the order of the index the prefix is a range of, so that a page reads its own rows
/// and no more, even when the prefix matches a twelfth of a million users (newest first, it
/// sorted every match: 90 ms on SQLite at a million). Its total is counted like every list's
/// (`paging::total_of`): by the request only to the deepest page. Each lookup is an index, so
/// a search finds the same users on SQLite, MariaDB and PostgreSQL; `%` and `_` are characters
/// like any other. Without `q`: everyone, newest first, with the kept count of everyone.
pub async fn search_users(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    // Erased accounts are gone for admins too: their rows only carry what others still need.
    let everyone = visibility::everyone();
    let Some(q) = params.get("q").map(str::trim).filter(|q| !q.is_empty()) else {
        // Everyone is a count of the whole table: kept (sign-ups move it), never counted by
        // the request.
        let query = everyone.order_by_desc(user_info::Column::UserId);
        let kept = visibility::EVERYONE_COUNT;
        let (total, users) = page
            .load_kept(state.lists(), kept, visibility::PUBLIC_FRESH, query)
            .await?;
        return Ok(ok(
            page.answer(total, users.iter().map(admin_user_json).collect())
        ));
    };
    // A phone however it is written: stored in its one form.
    let mut exact = Condition::any();
    if let Ok(phone) = phone::canonical(q) {
        exact = exact.add(user_info::Column::Phone.eq(phone));
    }
    if let Ok(id) = q.parse::<i64>() {
        exact = exact.add(user_info::Column::UserId.eq(id));
    }
    let exact = match exact.is_empty() {
        true => Vec::new(),
        false => {
            let query = everyone.clone().filter(exact);
            query
                .order_by_desc(user_info::Column::UserId)
                .all(&state.db)
                .await?
        }
    };
    // Every key starting with `prefix` lies in [prefix, prefix + 0xFF): UTF-8 has no 0xFF.
    let prefix = user_info::search_key(q);
    let mut end = prefix.clone();
    end.push(0xFF);
    let mut named = everyone
        .filter(user_info::Column::SearchKey.gte(prefix))
        .filter(user_info::Column::SearchKey.lt(end));
    if !exact.is_empty() {
        // Listed once: first, as an exact match.
        named = named.filter(user_info::Column::UserId.is_not_in(exact.iter().map(|u| u.user_id)));
    }
    let named = named
        .order_by_asc(user_info::Column::SearchKey)
        .order_by_asc(user_info::Column::UserId);
    // The page of the exact matches followed by the named.
    let (offset, size) = (page.offset(), page.size);
    let head = exact.len() as u64;
    let mut users: Vec<user_info::Model> = exact
        .into_iter()
        .skip(offset as usize)
        .take(size as usize)
        .collect();
    let wanted = size - users.len() as u64;
    if wanted > 0 {
        let rows = named
            .clone()
            .offset(offset.saturating_sub(head))
            .limit(wanted)
            .all(&state.db)
            .await?;
        users.extend(rows);
    }
    let total = head + crate::paging::total_of(state.lists(), &named).await?;
    Ok(ok(page.answer(
        total,
        users.iter().map(admin_user_json).collect(),
    )))
}

/// The `users/{user_id}` loader for admins: any user, banned or hidden too; an erased account
/// is 40401.
#[kotori::loader]
pub async fn load_any_user(
    Path(user_id): Path<i64>,
    State(state): State<AppState>,
) -> Result<user_info::Model, AppError> {
    // The rule of whom admins find is the search's too: everyone not erased.
    visibility::everyone()
        .filter(user_info::Column::UserId.eq(user_id))
        .one(&state.db)
        .await?
        .ok_or_else(codes::not_found)
}

/// The loaded user.
pub async fn show_user(user: Res<user_info::Model>) -> Json<Value> {
    ok(admin_user_json(&user))
}

/// The privilege a ban needs, from `users/{id}/ban.json` or a report resolved with `ban`.
pub const BAN_PRIVILEGE: &str = "users:ban";

/// What the audit log notes for a ban given without a reason.
pub const NO_REASON: &str = "no reason given";

/// Bans the loaded user (`reason`, up to 200 characters, optional: a script banning by id is
/// not refused, and the audit log records who did it): their sessions end at once, their login
/// is 40303.
pub async fn ban(
    user: Res<user_info::Model>,
    operator: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let reason = match params.get("reason").filter(|r| !r.is_empty()) {
        Some(reason) => Some(validate::text("reason", reason, 1, 200)?),
        None => None,
    };
    let audit = Audit::new(&operator, "users.ban", format!("user:{}", user.user_id))
        .note(reason.as_deref().unwrap_or(NO_REASON));
    let txn = crate::db::begin(&state.db).await?;
    let (banned, moved) = account::ban_in(&state, &txn, user.user_id, reason).await?;
    audit.write(&txn).await?;
    txn.commit().await?;
    people::changed(&state, Change::Banned(user.user_id, moved)).await;
    Ok(ok(admin_user_json(&banned)))
}

/// Lifts the ban of the loaded user.
pub async fn unban(
    user: Res<user_info::Model>,
    operator: Res<Operator>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let audit = Audit::new(&operator, "users.unban", format!("user:{}", user.user_id));
    let txn = crate::db::begin(&state.db).await?;
    let (unbanned, moved) = account::unban_in(&txn, user.user_id).await?;
    audit.write(&txn).await?;
    txn.commit().await?;
    people::changed(&state, Change::Unbanned(user.user_id, moved)).await;
    Ok(ok(admin_user_json(&unbanned)))
}

fn admin_product_json(p: &product::Model) -> Value {
    let mut v = product_json(p);
    v["active"] = json!(p.active);
    v
}

/// Every product, on sale or not.
pub async fn list_products(State(state): State<AppState>) -> Result<Json<Value>, AppError> {
    let all = product::Entity::find()
        .order_by_asc(product::Column::Id)
        .all(&state.db)
        .await?;
    Ok(ok(
        json!({ "list": all.iter().map(admin_product_json).collect::<Vec<_>>() }),
    ))
}

fn vip_days(params: &Params, required: bool) -> Result<Option<i32>, AppError> {
    let days = if required {
        Some(params.parse_required::<i32>("vip_time")?)
    } else {
        params.parse_optional::<i32>("vip_time")?
    };
    match days {
        Some(d) if !(1..=3650).contains(&d) => Err(codes::malformed("vip_time", "1 to 3650 days")),
        other => Ok(other),
    }
}

/// A new product: name, desc, vip_time (days), price (yuan).
pub async fn create_product(
    operator: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let row = product::ActiveModel {
        name: Set(validate::text("name", params.required("name")?, 1, 32)?),
        description: Set(validate::text("desc", params.required("desc")?, 1, 200)?),
        vip_days: Set(vip_days(&params, true)?.unwrap_or(0)),
        price_cents: Set(money::cents("price", params.required("price")?)?),
        active: Set(true),
        ..Default::default()
    };
    let txn = crate::db::begin(&state.db).await?;
    let created = row.insert(&txn).await?;
    let note = format!(
        "{} ({} days, {} cents)",
        created.name, created.vip_days, created.price_cents
    );
    Audit::new(
        &operator,
        "products.create",
        format!("product:{}", created.id),
    )
    .note(note)
    .write(&txn)
    .await?;
    txn.commit().await?;
    Ok(ok(admin_product_json(&created)))
}

/// The `products/{product_id}` loader.
#[kotori::loader]
pub async fn load_any_product(
    Path(product_id): Path<i64>,
    State(state): State<AppState>,
) -> Result<product::Model, AppError> {
    product::Entity::find_by_id(product_id)
        .one(&state.db)
        .await?
        .ok_or_else(codes::not_found)
}

/// Changes any of name, desc, vip_time, price, active of the loaded product. Orders keep the
/// price and days they were placed at.
pub async fn edit_product(
    product: Res<product::Model>,
    operator: Res<Operator>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let mut row = (*product).clone().into_active_model();
    let mut changed = false;
    if let Some(name) = params.get("name").filter(|v| !v.is_empty()) {
        row.name = Set(validate::text("name", name, 1, 32)?);
        changed = true;
    }
    if let Some(desc) = params.get("desc").filter(|v| !v.is_empty()) {
        row.description = Set(validate::text("desc", desc, 1, 200)?);
        changed = true;
    }
    if let Some(days) = vip_days(&params, false)? {
        row.vip_days = Set(days);
        changed = true;
    }
    if let Some(price) = params.get("price").filter(|v| !v.is_empty()) {
        row.price_cents = Set(money::cents("price", price)?);
        changed = true;
    }
    if let Some(active) = params.get("active").filter(|v| !v.is_empty()) {
        row.active = Set(match active {
            "1" | "true" => true,
            "0" | "false" => false,
            _ => return Err(codes::malformed("active", "true or false")),
        });
        changed = true;
    }
    if !changed {
        return Err(codes::missing("any of name, desc, vip_time, price, active"));
    }
    let fields: Vec<&str> = params
        .pairs()
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| ["name", "desc", "vip_time", "price", "active"].contains(k))
        .collect();
    let txn = crate::db::begin(&state.db).await?;
    let edited = row.update(&txn).await?;
    Audit::new(&operator, "products.edit", format!("product:{}", edited.id))
        .note(fields.join(", "))
        .write(&txn)
        .await?;
    txn.commit().await?;
    Ok(ok(admin_product_json(&edited)))
}

/// Orders, newest first, filtered by `pay` and `user_id`.
pub async fn list_orders(
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    Ok(ok(orders(&state, &params).await?))
}

/// A page of orders as [`list_orders`] answers it, for `params`.
pub async fn orders(state: &AppState, params: &Params) -> Result<Value, AppError> {
    let page = Page::from_params(params)?;
    let mut query = user_order::Entity::find();
    let pay = validate::int_in(params, "pay", 0..=2)?;
    if let Some(pay) = pay {
        query = query.filter(user_order::Column::Pay.eq(pay));
    }
    let user = params.parse_optional::<i64>("user_id")?;
    if let Some(user) = user {
        query = query.filter(user_order::Column::UserId.eq(user));
    }
    // One user's orders are counted on their index; all of them (by `pay`) are a scan, cached.
    let cached = user
        .is_none()
        .then(|| crate::commerce::orders::total_key(pay));
    let query = query.order_by_desc(user_order::Column::Id);
    let (total, orders) = page.load_with(state.lists(), cached, query).await?;
    let list = orders
        .iter()
        .map(|o| {
            let mut v = order_json(o);
            v["user_id"] = json!(o.user_id);
            v
        })
        .collect();
    Ok(page.answer(total, list))
}

/// A user's schema as an admin sees them, for `/openapi.json`.
pub fn admin_user_schema() -> Value {
    use crate::openapi::*;
    extended(Whole::schema(), [("ban_reason", nullable(string()))])
}

/// What the routes answering one user answer (show, ban, unban), for `/openapi.json`.
pub fn user_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(admin_user_schema())
}

/// What search_users reads and answers, for `/openapi.json`.
pub fn search_users_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    paged_of(admin_user_schema()).param(optional("q", text(0, 64)))
}

/// What load_any_user reads and answers, for `/openapi.json`.
pub fn load_any_user_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(id("user_id"))
        .refuses(404, 40401, "no such user")
}

/// What ban reads and answers, for `/openapi.json`.
pub fn ban_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    user_doc().param(optional("reason", text(1, 200)))
}

/// A product's schema as an admin sees it (on sale or not), for `/openapi.json`.
pub fn admin_product_schema() -> Value {
    use crate::openapi::*;
    extended(
        crate::commerce::products::product_schema(),
        [("active", json!({"type": "boolean"}))],
    )
}

/// What list_products answers, for `/openapi.json`.
pub fn list_products_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(list_of(admin_product_schema()))
}

/// What create_product reads and answers, for `/openapi.json`.
pub fn create_product_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(admin_product_schema())
        .param(required("name", text(1, 32)))
        .param(required("desc", text(1, 200)))
        .param(required("vip_time", int(1, 3650)))
        .param(required("price", money()))
}

/// What load_any_product reads and answers, for `/openapi.json`.
pub fn load_any_product_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(id("product_id"))
        .refuses(404, 40401, "no such product")
}

/// What edit_product reads and answers, for `/openapi.json`.
pub fn edit_product_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(admin_product_schema())
        .param(optional("name", text(1, 32)))
        .param(optional("desc", text(1, 200)))
        .param(optional("vip_time", int(1, 3650)))
        .param(optional("price", money()))
        .param(optional(
            "active",
            json!({"enum": ["true", "false", "1", "0"]}),
        ))
}

/// What list_orders reads and answers, for `/openapi.json`.
pub fn list_orders_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    paged_of(extended(
        crate::commerce::orders::order_schema(),
        [("user_id", integer())],
    ))
    .param(optional("pay", int(0, 2)))
    .param(optional("user_id", json!({"type": "integer"})))
}
