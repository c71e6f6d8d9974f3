//! The whole URL space on one screen: every prefix, guard, loader and route of the API.
//! Reading top to bottom: who may reach a route is decided by the nodes above it.

use kotori::{App, BuildError, Kotori};

use crate::auth;
use crate::chat::{contacts, messages};
use crate::commerce::{orders, payment, products, vip};
use crate::envelope;
use crate::live::{actions as live_actions, danmaku, rooms};
use crate::manage::{self, Role, admin};
use crate::ops;
use crate::params::load_params;
use crate::realtime;
use crate::safety::{account, blocks, moderation, reports};
use crate::state::AppState;
use crate::users::{album, discover, labels, profile, target, visits};

/// The largest request body: the API's form bodies are small.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// Builds the tree.
pub fn build(state: AppState) -> Result<App<AppState>, BuildError> {
    let app = Kotori::new(state);
    // Every response wears the JSON envelope, refusals included (API.md §1).
    // Form bodies of this API are small: anything larger is 41301 before it is parsed.
    app.render(envelope::render)
        .after(ops::request_log)
        .body_limit(API_BODY_LIMIT);
    app.get("/healthz", ops::healthz);
    app.get("/readyz", ops::readyz);

    // /api: every request is signed by a client app (40101–40104).
    let api = app
        .node("/api")
        .load(load_params)
        .guard(auth::verify_client_signature);
    api.post("/auth/sendsms", auth::send_sms);
    api.post("/auth/login", auth::login);

    // Everything else under /api needs a live token (40105).
    let user = api.group().load(auth::load_caller);
    user.post("/auth/logout", auth::logout);
    // Real time: the guards above run before the upgrade (§10).
    user.get("/ws", realtime::ws);
    user.get("/events", realtime::events);
    user.get("/labels", labels::list);
    user.get("/products", products::list);
    user.get("/contacts", contacts::list);
    user.get("/user/hot/list", discover::hot);
    user.get("/user/nearby/list", discover::nearby);

    let me = user.node("/me").load(profile::load_me);
    me.get("", profile::show_me);
    me.post("/update", profile::update_me);
    me.post("/location", profile::set_location);
    me.post("/labels", labels::set_mine);
    me.get("/vip", vip::mine);
    me.get("/album", album::list);
    me.post("/album/add", album::add);
    me.node("/album/{photo_id}")
        .load(album::load_own_photo)
        .post("/delete", album::delete);
    me.get("/blocks", blocks::list);
    me.post("/blocks/add", blocks::add);
    me.node("/blocks/{user_id}")
        .load(blocks::load_own_block)
        .post("/delete", blocks::delete);
    me.post("/delete", account::delete_me);
    me.get("/export", account::export_me);
    user.post("/reports", reports::create);

    // Another user: loaded once, 40401 unless the caller may see them.
    let other = user.node("/users/{user_id}").load(target::load_target);
    other.get("/show", visits::show);
    other.post("/messages", messages::send);
    other.get("/messages", messages::history);

    // VIPs only (40302).
    user.node("/vip")
        .guard(vip::require_vip)
        .get("/visitors", visits::visitors);

    user.get("/live/list", rooms::list_on_air);
    let on_air = user.node("/live/{live_id}").load(rooms::load_on_air_live);
    on_air.get("/show", live_actions::show);
    on_air.get("/danmaku", danmaku::list);
    on_air.post("/danmaku", danmaku::post);

    user.post("/orders", orders::create);
    let order = user.node("/orders/{order_id}").load(orders::load_own_order);
    order.get("/show", orders::show);
    order.post("/cancel", orders::cancel);

    // /pay: notices from payment providers, signed with their own apps.
    let pay = app
        .node("/pay")
        .load(load_params)
        .guard(auth::verify_payment_signature);
    pay.post("/notify", payment::notify);

    // /manage: the console. Not signed; operators log in and send a bearer token.
    // `.json` paths answer refusals in the envelope, others with a plain page.
    let console = app
        .node("/manage")
        .render(manage::page::render)
        .load(load_params);
    console.post("/login.json", manage::login);
    let operator = console.group().load(manage::load_operator);
    let dating = operator.node("/dating");

    // Admins: every route also needs its privilege.
    let admin = dating
        .node("/admin/api")
        .guard(manage::require_role(Role::Admin));
    admin
        .get("/users/search.json", admin::search_users)
        .guard(manage::require_privilege("users:read"));
    let someone = admin.node("/users/{user_id}").load(admin::load_any_user);
    someone
        .get("/show.json", admin::show_user)
        .guard(manage::require_privilege("users:read"));
    someone
        .post("/ban.json", admin::ban)
        .guard(manage::require_privilege("users:ban"));
    someone
        .post("/unban.json", admin::unban)
        .guard(manage::require_privilege("users:ban"));
    admin
        .get("/products/list.json", admin::list_products)
        .guard(manage::require_privilege("products:read"));
    admin
        .post("/products/create.json", admin::create_product)
        .guard(manage::require_privilege("products:write"));
    admin
        .node("/products/{product_id}")
        .guard(manage::require_privilege("products:write"))
        .load(admin::load_any_product)
        .post("/edit.json", admin::edit_product);
    admin
        .get("/orders/list.json", admin::list_orders)
        .guard(manage::require_privilege("orders:read"));
    admin
        .get("/live/list.json", rooms::list_all)
        .guard(manage::require_privilege("live:read"));
    // The moderation queue.
    admin
        .get("/reports/list.json", moderation::list)
        .guard(manage::require_privilege("reports:read"));
    let report = admin
        .node("/reports/{report_id}")
        .load(moderation::load_report);
    report
        .get("/show.json", moderation::show)
        .guard(manage::require_privilege("reports:read"));
    report
        .post("/resolve.json", moderation::resolve)
        .guard(manage::require_privilege("reports:write"));
    let any_live = live_actions::mount(&admin.node("/live/{live_id}").load(rooms::load_any_live));
    any_live.read.guard(manage::require_privilege("live:read"));
    any_live
        .write
        .guard(manage::require_privilege("live:write"));

    // Hosts: their own lives only.
    let shops = dating
        .node("/shops/api")
        .guard(manage::require_role(Role::Host));
    shops.post("/live/create.json", rooms::create);
    shops.get("/live/list.json", rooms::list_own);
    // Hosts may read and act on their own lives: no privilege on either group.
    live_actions::mount(&shops.node("/live/{live_id}").load(rooms::load_own_live));

    app.build()
}
