//! A harness for black-box tests: an app on an in-memory database, signed calls, logins.
#![allow(dead_code, unreachable_pub)]

pub mod console;
pub mod instances;
pub mod races;
pub mod schema;
pub mod services;
pub mod watched;

// Not every test crate uses each of them.
#[allow(unused_imports)]
pub use services::{
    MARIADB, OwnRedis, POSTGRES, free_port, on_database_server, on_fresh_database, service_url,
};

use std::sync::Arc;

use example_dating::auth::sms::{LogSender, SmsSender};
use example_dating::client::{self, Signer};
use example_dating::config::Config;
use example_dating::state::{AppState, Services};
use example_dating::store::{MemoryStore, Store};
use example_dating::{app, db};
use http::Method;
use kotori::App;
use kotori::test::TestResponse;
use sea_orm::DatabaseConnection;
use serde_json::Value;

pub struct TestApp {
    pub app: App<AppState>,
    pub state: AppState,
    pub signer: Signer,
}

/// The development configuration, nothing from the environment.
pub fn config() -> Config {
    Config::load(None, |_| None).unwrap()
}

/// A directory of a test's own (a database file, a service's storage, logs), removed when it
/// is dropped — declare it before the processes using it, so that they are dropped first.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "kotori-{what}-{}-{}",
            std::process::id(),
            example_dating::random::hex_token(4)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The URL of a SQLite file in this directory (made on the first connection): its WAL log
    /// and shared-memory files are removed with the directory, even when the test fails.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.join("test.sqlite").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A signer for the development app: what a server with nothing configured accepts (the
/// tests that run the binary sign with it).
pub fn dev_signer() -> Signer {
    Signer::new(config().apps[0].clone())
}

impl TestApp {
    /// In-memory SQLite and the in-process store.
    pub async fn new() -> Self {
        TestApp::on("sqlite::memory:").await
    }

    /// The default test app on the database at `database_url`, with an in-process store.
    pub async fn on(database_url: &str) -> Self {
        TestApp::with(config(), database_url, Arc::new(MemoryStore::new())).await
    }

    pub async fn with(config: Config, database_url: &str, store: Arc<dyn Store>) -> Self {
        let sms = Arc::new(LogSender { show_code: true });
        TestApp::with_sms(config, database_url, store, sms).await
    }

    pub async fn with_sms(
        config: Config,
        database_url: &str,
        store: Arc<dyn Store>,
        sms: Arc<dyn SmsSender>,
    ) -> Self {
        let hub = example_dating::realtime::Hub::local();
        TestApp::with_parts(config, database_url, store, sms, hub).await
    }

    /// Everything chosen: the real-time hub too (one that fans out through Redis).
    pub async fn with_parts(
        config: Config,
        database_url: &str,
        store: Arc<dyn Store>,
        sms: Arc<dyn SmsSender>,
        hub: Arc<example_dating::realtime::Hub>,
    ) -> Self {
        let db = db::connect(database_url).await.unwrap();
        db::migrate(&db).await.unwrap();
        let timeout = std::time::Duration::from_secs(5);
        let background_db = db::background(database_url, timeout, &db).await.unwrap();
        TestApp::assemble(config, (db, background_db), store, sms, hub, true).await
    }

    /// An instance on `db_url` whose store and real-time fan-out are the Redis at `redis_url`,
    /// every key under `prefix`: several of them on one database are several app servers.
    pub async fn on_redis(redis_url: &str, prefix: &str, db_url: &str) -> Self {
        let store = Arc::new(
            example_dating::store::RedisStore::connect(redis_url, prefix)
                .await
                .unwrap(),
        );
        let hub = example_dating::realtime::Hub::with_redis(redis_url, prefix)
            .await
            .unwrap();
        let sms = Arc::new(LogSender { show_code: true });
        TestApp::with_parts(config(), db_url, store, sms, hub).await
    }

    /// An app on `db` (migrated here) and `store` without background tasks — the indexes
    /// are loaded once — so that what one request costs can be counted with nothing else
    /// mixed in.
    pub async fn quiet(config: Config, db: DatabaseConnection, store: Arc<dyn Store>) -> Self {
        db::migrate(&db).await.unwrap();
        let sms = Arc::new(LogSender { show_code: true });
        let hub = example_dating::realtime::Hub::local();
        let background_db = db.clone();
        TestApp::assemble(config, (db, background_db), store, sms, hub, false).await
    }

    async fn assemble(
        config: Config,
        (db, background_db): (DatabaseConnection, DatabaseConnection),
        store: Arc<dyn Store>,
        sms: Arc<dyn SmsSender>,
        hub: Arc<example_dating::realtime::Hub>,
        background: bool,
    ) -> Self {
        let signer = Signer::new(config.apps[0].clone());
        let state = AppState::new(Services {
            db,
            background_db,
            store,
            config,
            sms,
            hub,
        });
        // As the server does, but loaded before the first request (a test's requests come at
        // once): the indexes, then the task that keeps them.
        if !example_dating::indexes::round(&state).await {
            eprintln!("the indexes are not loaded (the store is down?)");
        }
        if background {
            example_dating::indexes::keep(&state);
        }
        let app = app::build(state.clone()).unwrap();
        TestApp { app, state, signer }
    }

    /// A request signed by the configured client app.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        token: Option<&str>,
    ) -> TestResponse {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let signed = self.signer.sign(&method, path, &params, token);
        self.send(method, path, &signed).await
    }

    /// Sends parameters exactly as given (already signed, or deliberately not).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        params: &[(String, String)],
    ) -> TestResponse {
        let encoded = client::encode(params);
        if method == Method::GET {
            self.app
                .client()
                .request(method, &format!("{path}?{encoded}"))
                .send()
                .await
        } else {
            self.app
                .client()
                .request(method, path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encoded)
                .send()
                .await
        }
    }

    /// `from` sends `to` a text message through the API.
    pub async fn message(&self, from: &str, to: i64, content: &str) -> TestResponse {
        let path = format!("/api/users/{to}/messages");
        let params = [("msg_type", "text"), ("content", content)];
        self.call(Method::POST, &path, &params, Some(from)).await
    }

    /// A registered user with a session, made directly (no SMS): (token, user id).
    pub async fn user(&self, phone: &str) -> (String, i64) {
        let secs = self.state.config.user_token_secs;
        let phone = example_dating::people::phone::canonical(phone).unwrap();
        let mut answers = example_dating::auth::logins::write(&self.state.db, secs, &[&phone])
            .await
            .unwrap();
        let login = answers.pop().unwrap().unwrap();
        (login.token, login.user_id)
    }

    /// Makes a user VIP for 30 days, directly.
    pub async fn set_vip(&self, user_id: i64) {
        use example_dating::db::entity::commerce::vip_info;
        use sea_orm::{ActiveModelTrait, Set};
        vip_info::ActiveModel {
            user_id: Set(user_id),
            deadline: Set(example_dating::clock::now() + 30 * 86_400),
        }
        .insert(&self.state.db)
        .await
        .unwrap();
        // As a paid order does (`people::changed`): the member's kept `/api/me` row goes.
        self.state.people().forget_card(user_id);
    }

    /// The user of `token` orders product 1 (30 days of VIP): the order, as answered.
    pub async fn order(&self, token: &str) -> Value {
        let order = self
            .call(
                Method::POST,
                "/api/orders",
                &[("product_id", "1")],
                Some(token),
            )
            .await;
        data(&order)
    }

    /// The user of `token` orders product 1 (30 days of VIP): its `(trade_no, fee)`.
    pub async fn order_vip(&self, token: &str) -> (String, String) {
        let order = self.order(token).await;
        let fee = match &order["fee"] {
            Value::String(fee) => fee.clone(),
            fee => fee.to_string(),
        };
        (order["trade_no"].as_str().unwrap().to_owned(), fee)
    }

    /// The user of `token` buys product 1 and the payment provider confirms.
    pub async fn buy_vip(&self, token: &str) {
        let (trade_no, fee) = self.order_vip(token).await;
        let paid = self
            .pay(&[
                ("trade_no", &trade_no),
                ("fee", &fee),
                ("status", "SUCCESS"),
            ])
            .await;
        assert_eq!(code(&paid), 0, "{trade_no}");
    }

    /// Changes columns of a user's profile directly.
    pub async fn set_profile(
        &self,
        user_id: i64,
        change: impl FnOnce(&mut example_dating::db::entity::users::user_info::ActiveModel),
    ) {
        use example_dating::db::entity::users::user_info;
        use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
        let mut row = user_info::Entity::find_by_id(user_id)
            .one(&self.state.db)
            .await
            .unwrap()
            .unwrap()
            .into_active_model();
        change(&mut row);
        row.update(&self.state.db).await.unwrap();
        // As `people::changed` does after every real change: the lists' kept card goes.
        self.state.people().forget_card(user_id);
    }

    /// An operator, logged in through `POST /manage/login.json`: its bearer token.
    pub async fn operator(&self, name: &str, role: &str, privileges: &[&str]) -> String {
        let privileges: Vec<String> = privileges.iter().map(|p| p.to_string()).collect();
        example_dating::manage::roster::add(
            &self.state.db,
            name,
            role,
            &privileges,
            "password-123",
        )
        .await
        .unwrap();
        let res = self
            .app
            .client()
            .post("/manage/login.json")
            .form(&[("name", name), ("password", "password-123")])
            .send()
            .await;
        data(&res)["token"].as_str().unwrap().to_owned()
    }

    /// A console request: a bearer token, parameters in the query (GET) or a form body.
    pub async fn manage(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        token: Option<&str>,
    ) -> TestResponse {
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let mut req = if method == Method::GET {
            self.app
                .client()
                .request(method, &format!("{path}?{encoded}"))
        } else {
            self.app
                .client()
                .request(method, path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encoded)
        };
        if let Some(token) = token {
            req = req.header("authorization", &format!("Bearer {token}"));
        }
        req.send().await
    }

    /// A live on the air, created by a host through the console: its id.
    pub async fn create_live(&self, host: &str, title: &str) -> i64 {
        let res = self
            .manage(
                Method::POST,
                "/manage/dating/shops/api/live/create.json",
                &[("title", title)],
                Some(host),
            )
            .await;
        let live = data(&res);
        assert_eq!(live["status"], "on_air");
        live["live_id"].as_i64().unwrap()
    }

    /// A notice signed by the payment provider.
    pub async fn pay(&self, params: &[(&str, &str)]) -> TestResponse {
        let provider = Signer::new(self.state.config.payment_apps[0].clone());
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let signed = provider.sign(&Method::POST, "/pay/notify", &params, None);
        self.send(Method::POST, "/pay/notify", &signed).await
    }

    /// Room for `user_id` to send far more messages than a person's rate, for load tests.
    pub async fn lift_message_limit(&self, user_id: i64) {
        for window in ["minute", "day"] {
            let key = example_dating::limits::MESSAGES.key(&user_id.to_string(), window);
            self.state
                .store
                .set(&key, "-1000000", std::time::Duration::from_secs(3600))
                .await
                .unwrap();
        }
    }

    /// Lifts the one-send-per-minute limit of `phone`, as if a minute had passed.
    pub async fn a_minute_passes(&self, phone: &str) {
        let phone = example_dating::people::phone::canonical(phone).unwrap();
        self.state
            .store
            .del(&example_dating::auth::sms::window_key(&phone, "minute"))
            .await
            .unwrap();
    }

    /// Sends an SMS code to `phone` and returns it (the development config echoes codes).
    pub async fn send_code(&self, phone: &str) -> String {
        let res = self
            .call(Method::POST, "/api/auth/sendsms", &[("phone", phone)], None)
            .await;
        data(&res)["code"]
            .as_str()
            .expect("the development config echoes codes")
            .to_owned()
    }

    /// sendsms then login; returns (token, user id).
    pub async fn login(&self, phone: &str) -> (String, i64) {
        let code = self.send_code(phone).await;
        let res = self
            .call(
                Method::POST,
                "/api/auth/login",
                &[("phone", phone), ("code", &code)],
                None,
            )
            .await;
        let data = data(&res);
        (
            data["token"].as_str().unwrap().to_owned(),
            data["user_id"].as_i64().unwrap(),
        )
    }
}

/// The business code of a response (and a check that the HTTP status follows its class).
pub fn code(res: &TestResponse) -> i64 {
    let body: Value = res.json();
    let code = body["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no code in {body}"));
    let class = if code == 0 { 200 } else { code / 100 };
    assert_eq!(
        i64::from(res.status().as_u16()),
        class,
        "status and code disagree: {body}"
    );
    code
}

/// The `data` of a successful response (panics with the body otherwise).
pub fn data(res: &TestResponse) -> Value {
    let body: Value = res.json();
    assert_eq!(body["code"], 0, "expected success: {body}");
    body["data"].clone()
}

/// The operations of an OpenAPI document: `(method as in the document, lower case, path)`.
pub fn operations(doc: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("an OpenAPI document has paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("a path item is an object")
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect()
}
