//! The deployment, run: nginx (the configuration in docs/src/dating/deployment.md) in front of
//! two example-dating processes sharing PostgreSQL and Redis, a signed mixed load (logins,
//! messages, replays, profile updates, orders and payment notices), one instance killed mid-run
//! and restarted. Checked afterwards against the database: no lost write, no replay accepted,
//! no duplicate effect, service resumed.
//!
//! Needs `KOTORI_TEST_NGINX` (the nginx binary), `KOTORI_TEST_POSTGRES_URL` and
//! `KOTORI_TEST_REDIS_URL`; says so when it skips.

mod common;
mod nginx;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use example_dating::client::{self, Signer};
use example_dating::config::Config;
use futures_util::{SinkExt, StreamExt};
use http::Method;
use nginx::{Instance, ready, site_config, start_nginx};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

/// Workers of the load, each logged in as its own user.
const WORKERS: usize = 8;
/// Iterations per worker (a message each, and one more at the end: within a person's 30 a
/// minute); the instance
/// dies at a third of the total and returns at two thirds.
const ROUNDS: usize = 29;
/// No request may take longer than this (a hang fails the test).
const BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_nginx_lose_no_write_when_one_dies() {
    let test = "two_instances_behind_nginx...";
    let (Some(nginx), Some(pg), Some(redis)) = (
        common::service_url("KOTORI_TEST_NGINX", test),
        common::service_url("KOTORI_TEST_POSTGRES_URL", test),
        common::service_url("KOTORI_TEST_REDIS_URL", test),
    ) else {
        return;
    };
    common::on_fresh_database(&pg, move |db_url| run(nginx, db_url, redis)).await;
}

/// What one request got: the envelope's code, or `None` when the answer was not the envelope
/// (nginx's own 502 while an instance died) or never came.
async fn call(
    addr: &str,
    signer: &Signer,
    method: Method,
    path: &str,
    params: &[(&str, &str)],
    token: Option<&str>,
) -> (Option<i64>, Value) {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let signed = signer.sign(&method, path, &params, token);
    send(addr, method, path, &signed).await
}

async fn send(
    addr: &str,
    method: Method,
    path: &str,
    signed: &[(String, String)],
) -> (Option<i64>, Value) {
    let answer = tokio::time::timeout(
        BOUND,
        client::send(addr, client::request(method, path, signed)),
    )
    .await
    .unwrap_or_else(|_| panic!("{path} hung for {BOUND:?}"));
    let Ok((_, body)) = answer else {
        return (None, Value::Null);
    };
    match serde_json::from_str::<Value>(&body) {
        Ok(v) => (v["code"].as_i64(), v["data"].clone()),
        Err(_) => (None, Value::Null),
    }
}

/// What the load saw, checked against the database afterwards.
#[derive(Default)]
struct Seen {
    /// Messages answered with code 0 (their unique content).
    acked_messages: Vec<String>,
    /// Every message attempted, whatever the answer.
    attempted_messages: Vec<String>,
    /// Per user: nicknames in the order sent, and the index of the last one answered 0.
    nicknames: HashMap<i64, (Vec<String>, Option<usize>)>,
    /// Orders whose notice was acknowledged with code 0.
    paid_orders: Vec<i64>,
    /// Requests by outcome: code → count (`-1`: no envelope).
    outcomes: HashMap<i64, usize>,
}

impl Seen {
    fn count(&mut self, code: Option<i64>) {
        *self.outcomes.entry(code.unwrap_or(-1)).or_default() += 1;
    }
}

async fn run(nginx_binary: String, db_url: String, redis_url: String) {
    let dir = std::env::temp_dir().join(format!(
        "kotori-deploy-{}-{}",
        std::process::id(),
        example_dating::random::hex_token(4)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = format!(
        "kotori-test:{}:{}:deploy:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let port = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    let instances: Vec<Instance> = (0..2)
        .map(|i| Instance {
            addr: port(common::free_port()),
            db_url: db_url.clone(),
            redis_url: redis_url.clone(),
            prefix: prefix.clone(),
            log: dir.join(format!("instance-{i}.log")),
        })
        .collect();
    // One after the other: the first migrates the fresh database.
    let mut first = Some(instances[0].start().await);
    let _second = instances[1].start().await;
    let front = port(common::free_port());
    let _nginx = start_nginx(
        &nginx_binary,
        &dir,
        &site_config(front, instances[0].addr, instances[1].addr),
    );
    let front = front.to_string();
    ready(&front, &dir.join("error.log")).await;

    let config = Config::load(None, |_| None).unwrap();
    let signer = Signer::new(config.apps[0].clone());
    let provider = Signer::new(config.payment_apps[0].clone());

    // Every worker logs in through nginx, by SMS.
    let mut users = Vec::new();
    for w in 0..WORKERS {
        let phone = format!("1390000{:04}", w);
        let (code, data) = call(
            &front,
            &signer,
            Method::POST,
            "/api/auth/sendsms",
            &[("phone", &phone)],
            None,
        )
        .await;
        assert_eq!(code, Some(0), "sendsms through nginx");
        let sms = data["code"].as_str().unwrap().to_owned();
        let (code, data) = call(
            &front,
            &signer,
            Method::POST,
            "/api/auth/login",
            &[("phone", &phone), ("code", &sms)],
            None,
        )
        .await;
        assert_eq!(code, Some(0), "login through nginx");
        users.push((
            data["token"].as_str().unwrap().to_owned(),
            data["user_id"].as_i64().unwrap(),
        ));
    }
    let users = Arc::new(users);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let progress = Arc::new(AtomicUsize::new(0));
    let replays_accepted = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (front, signer, provider) = (front.clone(), signer.clone(), provider.clone());
        let (users, seen, progress) = (users.clone(), seen.clone(), progress.clone());
        let replays_accepted = replays_accepted.clone();
        workers.push(tokio::spawn(async move {
            let (token, me) = users[w].clone();
            let peer = users[(w + 1) % WORKERS].1;
            for round in 0..ROUNDS {
                // A message, with content unique in the run.
                let content = format!("w{w}r{round}-{}", example_dating::random::hex_token(4));
                let path = format!("/api/users/{peer}/messages");
                let params = [
                    ("msg_type".to_owned(), "text".to_owned()),
                    ("content".to_owned(), content.clone()),
                ];
                let signed = signer.sign(&Method::POST, &path, &params, Some(&token));
                let (code, _) = send(&front, Method::POST, &path, &signed).await;
                {
                    let mut seen = seen.lock().unwrap();
                    seen.count(code);
                    seen.attempted_messages.push(content.clone());
                    if code == Some(0) {
                        seen.acked_messages.push(content.clone());
                    }
                }
                // Every fourth round the same signed request again: nginx takes it to the
                // other instance, which must refuse it.
                if round % 4 == 0 {
                    let (again, _) = send(&front, Method::POST, &path, &signed).await;
                    seen.lock().unwrap().count(again);
                    if code == Some(0) && again == Some(0) {
                        replays_accepted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // Every fifth a profile update.
                if round % 5 == 0 {
                    let nickname = format!("n{w}x{round}");
                    let (code, _) = call(
                        &front,
                        &signer,
                        Method::POST,
                        "/api/me/update",
                        &[("nickname", &nickname)],
                        Some(&token),
                    )
                    .await;
                    let mut seen = seen.lock().unwrap();
                    seen.count(code);
                    let entry = seen.nicknames.entry(me).or_default();
                    entry.0.push(nickname);
                    if code == Some(0) {
                        entry.1 = Some(entry.0.len() - 1);
                    }
                }
                // Every sixth an order, and its payment notice twice.
                if round % 6 == 3 {
                    let (code, order) = call(
                        &front,
                        &signer,
                        Method::POST,
                        "/api/orders",
                        &[("product_id", "1")],
                        Some(&token),
                    )
                    .await;
                    seen.lock().unwrap().count(code);
                    if code == Some(0) {
                        let trade_no = order["trade_no"].as_str().unwrap().to_owned();
                        let fee = order["fee"].to_string();
                        for _ in 0..2 {
                            let (code, _) = call(
                                &front,
                                &provider,
                                Method::POST,
                                "/pay/notify",
                                &[
                                    ("trade_no", &trade_no),
                                    ("fee", &fee),
                                    ("status", "SUCCESS"),
                                ],
                                None,
                            )
                            .await;
                            let mut seen = seen.lock().unwrap();
                            seen.count(code);
                            if code == Some(0) {
                                seen.paid_orders.push(order["order_id"].as_i64().unwrap());
                            }
                        }
                    }
                }
                progress.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    // The instance dies (SIGKILL: no graceful anything) a third of the way in, and comes back at
    // two thirds.
    let total = WORKERS * ROUNDS;
    while progress.load(Ordering::Relaxed) < total / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(first.take());
    while progress.load(Ordering::Relaxed) < 2 * total / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _restarted = instances[0].start().await;
    for worker in workers {
        worker.await.expect("a worker panicked");
    }

    let db = Database::connect(&db_url).await.unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    eprintln!(
        "deployment: outcomes by code (-1: nginx's own answer) {:?}; {} messages acknowledged of \
         {} attempted; {} notices acknowledged",
        seen.outcomes,
        seen.acked_messages.len(),
        seen.attempted_messages.len(),
        seen.paid_orders.len()
    );
    assert_eq!(
        replays_accepted.load(Ordering::Relaxed),
        0,
        "a replay was accepted"
    );
    assert!(
        seen.outcomes.keys().all(|c| [0, 40103, -1].contains(c)),
        "only success, a refused replay or nginx's 502: {:?}",
        seen.outcomes
    );
    assert!(
        seen.acked_messages.len() > total / 2,
        "most of the load got through"
    );
    check_messages(&db, &seen).await;
    check_nicknames(&db, &seen).await;
    check_payments(&db, &seen, &users).await;

    // The restarted instance serves, and real time works through nginx.
    let (code, _) = call(
        &instances[0].addr.to_string(),
        &signer,
        Method::GET,
        "/api/me",
        &[],
        Some(&users[0].0),
    )
    .await;
    assert_eq!(code, Some(0), "the restarted instance serves");
    real_time_through_nginx(&front, &signer, &users).await;

    let cleanup = example_dating::store::RedisStore::connect(&redis_url, &prefix)
        .await
        .unwrap();
    cleanup.clear().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

async fn texts(db: &DatabaseConnection) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT content FROM message",
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|row| row.try_get::<String>("", "content").unwrap())
    .collect()
}

/// Every acknowledged message is stored, and no message is stored twice.
async fn check_messages(db: &DatabaseConnection, seen: &Seen) {
    let stored = texts(db).await;
    let mut count: HashMap<&str, usize> = HashMap::new();
    for text in &stored {
        *count.entry(text.as_str()).or_default() += 1;
    }
    for text in &seen.acked_messages {
        assert_eq!(count.get(text.as_str()), Some(&1), "acknowledged `{text}`");
    }
    let attempted: HashSet<&str> = seen.attempted_messages.iter().map(|s| s.as_str()).collect();
    for (text, n) in &count {
        assert_eq!(*n, 1, "`{text}` stored {n} times");
        assert!(attempted.contains(text), "`{text}` was never sent");
    }
}

/// Each user's nickname is the last acknowledged one, or one sent after it (whose answer was
/// lost with the instance).
async fn check_nicknames(db: &DatabaseConnection, seen: &Seen) {
    for (user, (sent, last_acked)) in &seen.nicknames {
        let Some(last) = last_acked else { continue };
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT nickname FROM user_info WHERE user_id = {user}"),
            ))
            .await
            .unwrap()
            .unwrap();
        let nickname: String = row.try_get("", "nickname").unwrap();
        assert!(
            sent[*last..].contains(&nickname),
            "user {user}: `{nickname}`, expected one of {:?}",
            &sent[*last..]
        );
    }
}

/// Every acknowledged notice paid its order, and each paid order extended VIP exactly once.
async fn check_payments(db: &DatabaseConnection, seen: &Seen, users: &[(String, i64)]) {
    let backend = db.get_database_backend();
    for order in &seen.paid_orders {
        let row = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT pay FROM user_order WHERE id = {order}"),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i32>("", "pay").unwrap(), 1, "order {order}");
    }
    let now = example_dating::clock::now();
    for (_, user) in users {
        let paid = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM user_order WHERE user_id = {user} AND pay = 1"),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        let deadline = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT deadline FROM vip_info WHERE user_id = {user}"),
            ))
            .await
            .unwrap()
            .map(|row| row.try_get::<i64>("", "deadline").unwrap());
        match deadline {
            None => assert_eq!(paid, 0, "user {user}: paid orders but no VIP"),
            Some(deadline) => {
                // Each month-order extends by 30 days from the running deadline, so the
                // deadline is the first payment's time (within this run) plus 30 days each.
                let days = (deadline - now) as f64 / 86_400.0;
                assert!(
                    (days - 30.0 * paid as f64).abs() < 0.1,
                    "user {user}: {paid} paid orders, VIP for {days:.2} days"
                );
            }
        }
    }
}

/// A WebSocket opened through nginx receives a message sent through nginx.
async fn real_time_through_nginx(front: &str, signer: &Signer, users: &[(String, i64)]) {
    let (token, _) = &users[0];
    let params = signer.sign(&Method::GET, "/api/ws", &[], Some(token));
    let url = format!("ws://{front}/api/ws?{}", client::encode(&params));
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("a WebSocket through nginx");
    // A `pong` says the socket's task runs (it registered before the 101); then a message from
    // the last worker.
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    let mut next = async || loop {
        let frame = tokio::time::timeout(BOUND, socket.next())
            .await
            .expect("an event within the bound")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = frame {
            return serde_json::from_str::<Value>(text.as_str()).unwrap();
        }
    };
    assert_eq!(next().await["type"], "pong");
    let (from_token, _) = &users[WORKERS - 1];
    let path = format!("/api/users/{}/messages", users[0].1);
    let (code, _) = call(
        front,
        signer,
        Method::POST,
        &path,
        &[("msg_type", "text"), ("content", "through nginx")],
        Some(from_token),
    )
    .await;
    assert_eq!(code, Some(0));
    loop {
        let event = next().await;
        if event["type"] == "message" && event["data"]["content"] == "through nginx" {
            break;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
