//! The whole URL space on one screen: every prefix, guard, loader and route of the API.
//! Reading top to bottom: who may reach a route is decided by the nodes above it.

use std::sync::{Arc, OnceLock};

use kotori::{App, BuildError, Kotori, declare, named};

use crate::auth;
use crate::chat::{contacts, messages};
use crate::commerce::{orders, payment, products, vip};
use crate::console;
use crate::envelope;
use crate::live::{actions as live_actions, danmaku, rooms};
use crate::manage::{self, Role, admin, forms};
use crate::openapi;
use crate::ops;
use crate::params::{self, load_params};
use crate::realtime;
use crate::safety::{account, blocks, export, moderation, reports};
use crate::state::AppState;
use crate::users::{album, discover, hot, labels, profile, target, visits};

/// The largest request body: the API's form bodies are small.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// Builds the tree. Each step and route declares what it reads and answers (`*_doc`), and
/// `/openapi.json` serves what kotori derives from them once the tree is built.
pub fn build(state: AppState) -> Result<App<AppState>, BuildError> {
    let app = Kotori::new(state.clone());
    // Requests go to OpenTelemetry when the process exports it (OTEL_EXPORTER_OTLP_ENDPOINT).
    app.opentelemetry(crate::telemetry::installed());
    let document = Arc::new(OnceLock::new());
    // Every response wears the JSON envelope, refusals included (docs/src/dating/api/conventions.md).
    // Form bodies of this API are small: anything larger is 41301 before it is parsed.
    // A client that leaves does not cut a request in half: a write that committed goes on to
    // tell the caches, the counts, the other instances and the open sockets, whether or not
    // its client is still there to read the answer (docs/src/dating/decisions.md).
    app.render(envelope::render)
        .run_to_completion(true)
        .load(ops::count_round_trips)
        .after(ops::request_log)
        .body_limit(API_BODY_LIMIT);
    app.get("/healthz", ops::healthz)
        .declares(ops::healthz_doc());
    app.get("/readyz", ops::readyz).declares(ops::readyz_doc());
    app.get(
        "/openapi.json",
        named("openapi_document", openapi::document(document.clone())),
    )
    .declares(openapi::document_doc());
    // Everything else uses the database: 50301 until its schema is migrated (one that was
    // down at start is migrated once it answers, while the server already listens).
    let served = app.group().guard(declare(
        ops::database_migrated,
        ops::database_migrated_doc(),
    ));
    // Prometheus scrapes with the bearer token of an operator holding `metrics:read`.
    served
        .node("/metrics")
        .load(declare(manage::load_session, manage::load_session_doc()))
        .load(declare(manage::load_operator, manage::load_operator_doc()))
        .guard(manage::require_privilege("metrics:read"))
        .get("", ops::metrics(app.metrics()))
        .declares(ops::metrics_doc());

    // /api: every request is signed by a client app (40101–40104).
    let api = served
        .node("/api")
        .load(declare(load_params, params::load_params_doc()))
        .guard(declare(
            auth::verify_client_signature,
            auth::verify_client_signature_doc(),
        ));
    api.post("/auth/sendsms", auth::send_sms)
        .declares(auth::send_sms_doc());
    api.post("/auth/login", auth::login)
        .declares(auth::login_doc());

    // Everything else under /api needs a live token (40105).
    let user = api
        .group()
        .load(declare(auth::load_caller, auth::load_caller_doc()));
    user.post("/auth/logout", auth::logout)
        .declares(auth::logout_doc());
    // Real time: the guards above run before the upgrade (docs/src/dating/api/realtime.md).
    user.get("/ws", realtime::ws).declares(realtime::ws_doc());
    user.get("/events", realtime::events)
        .declares(realtime::events_doc());
    user.get("/labels", labels::list)
        .declares(labels::list_doc());
    user.get("/products", products::list)
        .declares(products::list_doc());
    user.get("/contacts", contacts::list)
        .declares(contacts::list_doc());
    user.get("/user/hot/list", hot::hot)
        .declares(hot::hot_doc());
    user.get("/user/nearby/list", discover::nearby)
        .declares(discover::nearby_doc());

    let me = user
        .node("/me")
        .load(declare(profile::load_me, profile::load_me_doc()));
    me.get("", profile::show_me)
        .declares(profile::show_me_doc());
    me.post("/update", profile::update_me)
        .declares(profile::update_me_doc());
    me.post("/location", profile::set_location)
        .declares(profile::set_location_doc());
    me.post("/labels", labels::set_mine)
        .declares(labels::set_mine_doc());
    me.get("/vip", vip::mine).declares(vip::mine_doc());
    me.get("/album", album::list).declares(album::list_doc());
    me.post("/album/add", album::add).declares(album::add_doc());
    me.node("/album/{photo_id}")
        .load(declare(album::load_own_photo, album::load_own_photo_doc()))
        .post("/delete", album::delete)
        .declares(album::delete_doc());
    me.get("/blocks", blocks::list).declares(blocks::list_doc());
    me.post("/blocks/add", blocks::add)
        .declares(blocks::add_doc());
    me.node("/blocks/{user_id}")
        .load(declare(
            blocks::load_own_block,
            blocks::load_own_block_doc(),
        ))
        .post("/delete", blocks::delete)
        .declares(blocks::delete_doc());
    me.post("/delete", account::delete_me)
        .declares(account::delete_me_doc());
    me.get("/export", export::export_me)
        .declares(export::export_me_doc());
    user.post("/reports", reports::create)
        .declares(reports::create_doc());

    // Another user: loaded once, 40401 unless the caller may see them.
    let other = user
        .node("/users/{user_id}")
        .load(declare(target::load_target, target::load_target_doc()));
    other
        .get("/show", visits::show)
        .declares(visits::show_doc());
    other
        .post("/messages", messages::send)
        .declares(messages::send_doc());
    other
        .get("/messages", messages::history)
        .declares(messages::history_doc());

    // VIPs only (40302).
    user.node("/vip")
        .guard(declare(vip::require_vip, vip::require_vip_doc()))
        .get("/visitors", visits::visitors)
        .declares(visits::visitors_doc());

    user.get("/live/list", rooms::list_on_air)
        .declares(rooms::list_doc());
    let on_air = user
        .node("/live/{live_id}")
        .load(declare(rooms::load_on_air_live, rooms::load_live_doc()));
    on_air
        .get("/show", live_actions::show)
        .declares(crate::live::live_doc());
    on_air
        .get("/danmaku", danmaku::list)
        .declares(danmaku::list_doc());
    on_air
        .post("/danmaku", danmaku::post)
        .declares(danmaku::post_doc());

    user.post("/orders", orders::create)
        .declares(orders::create_doc());
    let order = user.node("/orders/{order_id}").load(declare(
        orders::load_own_order,
        orders::load_own_order_doc(),
    ));
    order
        .get("/show", orders::show)
        .declares(orders::show_doc());
    order
        .post("/cancel", orders::cancel)
        .declares(orders::cancel_doc());

    // /pay: notices from payment providers, signed with their own apps.
    let pay = served
        .node("/pay")
        .load(declare(load_params, params::load_params_doc()))
        .guard(declare(
            auth::verify_payment_signature,
            auth::verify_payment_signature_doc(),
        ));
    pay.post("/notify", payment::notify)
        .declares(payment::notify_doc());

    // /manage: the console — a JSON API for operators' tools and, on the same nodes, pages
    // for their browsers (`console`). `.json` paths answer refusals in the envelope; pages
    // answer with a page (401: the login page). Each action is mounted twice by
    // `forms::action`: `{name}.json`, and `{name}` for a form that returns to its page.
    let console = served
        .node("/manage")
        .render(manage::page::render)
        .load(declare(load_params, params::load_params_doc()));
    console
        .post("/login.json", manage::login)
        .declares(manage::login_doc());
    console.get("/login", console::home::login_form);
    console.get("/assets/live.js", console::home::live_js);
    console
        .post("/login", console::home::login_submit)
        .declares(manage::login_doc());
    // A bearer token, or the console's cookie (whose POSTs carry its CSRF token).
    let operator = console
        .group()
        .load(declare(manage::load_session, manage::load_session_doc()))
        .load(declare(manage::load_operator, manage::load_operator_doc()));
    operator.get("", console::home::home);
    operator
        .post("/logout.json", manage::logout)
        .declares(manage::logout_doc());
    operator.post("/logout", console::home::logout);
    let dating = operator.node("/dating");

    // Admins: every route also needs its privilege.
    let admin = dating
        .node("/admin/api")
        .guard(manage::require_role(Role::Admin));
    let users_read = admin.group().guard(manage::require_privilege("users:read"));
    users_read.get("/users", console::users::search);
    users_read
        .get("/users/search.json", admin::search_users)
        .declares(admin::search_users_doc());
    let someone = admin
        .node("/users/{user_id}")
        .load(declare(admin::load_any_user, admin::load_any_user_doc()));
    let someone_read = someone
        .group()
        .guard(manage::require_privilege("users:read"));
    someone_read.get("", console::users::show);
    someone_read
        .get("/show.json", admin::show_user)
        .declares(admin::user_doc());
    let bans = someone
        .group()
        .guard(manage::require_privilege(admin::BAN_PRIVILEGE));
    forms::action(&bans, "/ban", admin::ban).declares(admin::ban_doc());
    forms::action(&bans, "/unban", admin::unban).declares(admin::user_doc());
    let products_read = admin
        .group()
        .guard(manage::require_privilege("products:read"));
    products_read.get("/products", console::commerce::products);
    products_read
        .get("/products/list.json", admin::list_products)
        .declares(admin::list_products_doc());
    let products_write = admin
        .group()
        .guard(manage::require_privilege("products:write"));
    forms::action(&products_write, "/products/create", admin::create_product)
        .declares(admin::create_product_doc());
    let product = products_write.node("/products/{product_id}").load(declare(
        admin::load_any_product,
        admin::load_any_product_doc(),
    ));
    forms::action(&product, "/edit", admin::edit_product).declares(admin::edit_product_doc());
    let orders_read = admin
        .group()
        .guard(manage::require_privilege("orders:read"));
    orders_read.get("/orders", console::commerce::orders);
    orders_read
        .get("/orders/list.json", admin::list_orders)
        .declares(admin::list_orders_doc());
    let lives_read = admin.group().guard(manage::require_privilege("live:read"));
    lives_read.get("/live", console::lives::all);
    lives_read
        .get("/live/list.json", rooms::list_all)
        .declares(rooms::list_all_doc());
    // The moderation queue.
    let reports_read = admin
        .group()
        .guard(manage::require_privilege("reports:read"));
    reports_read.get("/reports", console::reports::queue);
    reports_read
        .get("/reports/list.json", moderation::list)
        .declares(moderation::list_doc());
    let report = admin.node("/reports/{report_id}").load(declare(
        moderation::load_report,
        moderation::load_report_doc(),
    ));
    let report_read = report
        .group()
        .guard(manage::require_privilege("reports:read"));
    report_read.get("", console::reports::show);
    report_read
        .get("/show.json", moderation::show)
        .declares(moderation::show_doc());
    let resolving = report
        .group()
        .guard(manage::require_privilege("reports:write"));
    forms::action(&resolving, "/resolve", moderation::resolve).declares(moderation::resolve_doc());
    let audit_read = admin
        .group()
        .guard(manage::require_privilege(manage::audit::AUDIT_PRIVILEGE));
    audit_read.get("/audit", console::audit::log);
    audit_read
        .get("/audit/list.json", manage::audit::list)
        .declares(manage::audit::list_doc());
    let any_live = live_actions::mount(
        &admin
            .node("/live/{live_id}")
            .load(declare(rooms::load_any_live, rooms::load_live_doc())),
    );
    any_live.read.guard(manage::require_privilege("live:read"));
    any_live
        .write
        .guard(manage::require_privilege("live:write"));
    console::lives::mount(&any_live);

    // Hosts: their own lives only.
    let shops = dating
        .node("/shops/api")
        .guard(manage::require_role(Role::Host));
    forms::action(&shops, "/live/create", rooms::create).declares(rooms::create_doc());
    shops.get("/live", console::lives::own);
    shops
        .get("/live/list.json", rooms::list_own)
        .declares(rooms::list_doc());
    // Hosts may read and act on their own lives: no privilege on either group.
    let own_live = live_actions::mount(
        &shops
            .node("/live/{live_id}")
            .load(declare(rooms::load_own_live, rooms::load_live_doc())),
    );
    console::lives::mount(&own_live);

    let app = app.build()?;
    state.set_app(&app);
    let described = app
        .openapi(&openapi::config())
        .expect("every security scheme a step declares is defined in openapi::config");
    let _ = document.set(openapi::without_pages(described).to_string());
    Ok(app)
}
