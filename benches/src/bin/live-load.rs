//! One live, many viewers: `live-load ADDRS PIDS VIEWERS SECONDS RATES HOST PASSWORD`.
//!
//! Logs in VIEWERS users, opens a WebSocket for each (spread over the comma-separated ADDRS,
//! one per server instance) subscribed to one live, then posts danmaku through the signed API
//! at each rate of RATES (danmaku per second, comma-separated) for SECONDS. For every delivery
//! it measures the time from the sender's request leaving to the viewer's receipt (the whole
//! path: the API call, the commit, the fan-out), and prints
//! one JSON line per rate: deliveries expected, delivered, dropped (`lag`), latency p50, p99 and
//! max, and the servers' CPU time and RSS (PIDS: their process ids). It stops raising the rate
//! once p99 passes 100 ms.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use example_dating::client::{Signer, encode, request};
use example_dating::config::{AppConfig, DEV_APP};
use example_dating::signing::Scheme;
use futures_util::{SinkExt, StreamExt};
use http::Method;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: &str) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the server listens");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1");
    tokio::spawn(conn);
    sender
}

async fn call(sender: &mut Sender, req: http::Request<Full<Bytes>>) -> Value {
    let res = sender.send_request(req).await.expect("the server answers");
    let body = res.into_body().collect().await.expect("a body").to_bytes();
    serde_json::from_slice(&body).expect("JSON")
}

fn signer() -> Signer {
    Signer::new(AppConfig {
        appkey: DEV_APP.0.into(),
        secret: DEV_APP.1.into(),
        scheme: Scheme::V1,
        enabled: true,
    })
}

/// A signed `POST` of `params` to `path`: the JSON answer.
async fn post(
    sender: &mut Sender,
    signer: &Signer,
    path: &str,
    params: &[(String, String)],
    token: Option<&str>,
) -> Value {
    let signed = signer.sign(&Method::POST, path, params, token);
    call(sender, request(Method::POST, path, &signed)).await
}

/// Logs a new user in: its token and id.
async fn login(sender: &mut Sender, signer: &Signer, phone: String) -> (String, i64) {
    let path = "/api/auth/sendsms";
    let params = [("phone".into(), phone.clone())];
    let sent = post(sender, signer, path, &params, None).await;
    let code = sent["data"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("sendsms: {sent}"))
        .to_owned();
    let path = "/api/auth/login";
    let params = [("phone".into(), phone), ("code".into(), code)];
    let login = post(sender, signer, path, &params, None).await;
    let token = login["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login: {login}"))
        .to_owned();
    (token, login["data"]["user_id"].as_i64().expect("a user id"))
}

fn cpu_and_rss(pid: &str) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0);
    (ticks / 100.0, rss)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[at]) / 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addrs, pids, viewers, seconds, rates, host, password] = &args[..] else {
        eprintln!("usage: live-load ADDRS PIDS VIEWERS SECONDS RATES HOST PASSWORD");
        std::process::exit(2);
    };
    let addrs: Vec<String> = addrs.split(',').map(str::to_owned).collect();
    let pids: Vec<String> = pids.split(',').map(str::to_owned).collect();
    let viewers: usize = viewers.parse().expect("VIEWERS is a number");
    let seconds: u64 = seconds.parse().expect("SECONDS is a number");
    let rates: Vec<u64> = rates
        .split(',')
        .map(|r| r.parse().expect("RATES are numbers"))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let signer = signer();
        let tag = std::process::id() % 10_000;
        // The viewers' tokens, 32 logins at a time.
        let mut tokens = Vec::with_capacity(viewers);
        for chunk in (0..viewers).collect::<Vec<_>>().chunks(32) {
            let logins = chunk.iter().map(|&i| {
                let (signer, addr) = (signer.clone(), addrs[0].clone());
                tokio::spawn(async move {
                    let mut sender = connect(&addr).await;
                    login(&mut sender, &signer, format!("16{tag:04}{i:05}")).await
                })
            });
            for login in futures_util::future::join_all(logins).await {
                tokens.push(login.expect("a login"));
            }
        }
        // The host's live.
        let mut console = connect(&addrs[0]).await;
        let form = encode(&[("name".into(), host.clone()), ("password".into(), password.clone())]);
        let req = http::Request::post("/manage/login.json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
            .unwrap();
        let host_token = call(&mut console, req).await["data"]["token"].as_str().expect("the host logs in").to_owned();
        let req = http::Request::post("/manage/dating/shops/api/live/create.json")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Bearer {host_token}"))
            .body(Full::new(Bytes::from("title=load")))
            .unwrap();
        let live = call(&mut console, req).await["data"]["live_id"].as_i64().expect("a live");

        // Everyone connects and subscribes; what each idle socket costs the servers is their
        // memory after, less before, per viewer.
        let rss = |pids: &[String]| pids.iter().map(|p| cpu_and_rss(p).1).sum::<u64>();
        let rss_before = rss(&pids);
        let start = Instant::now();
        let max_seq = rates.iter().map(|r| r * seconds).sum::<u64>() as usize + 1;
        let sent_at: Arc<Vec<AtomicU64>> = Arc::new((0..max_seq).map(|_| AtomicU64::new(0)).collect());
        let latencies: Arc<Mutex<Vec<u32>>> = Arc::default();
        let received = Arc::new(AtomicU64::new(0));
        // Chat: one sender, one receiver, at a low rate, after the danmaku.
        const CHATS: usize = 200;
        let chat_sent: Arc<Vec<AtomicU64>> = Arc::new((0..CHATS).map(|_| AtomicU64::new(0)).collect());
        let chat_latencies: Arc<Mutex<Vec<u32>>> = Arc::default();
        let dropped = Arc::new(AtomicU64::new(0));
        let mut ready = Vec::new();
        for (i, (token, me)) in tokens.iter().enumerate() {
            let (addr, me) = (addrs[i % addrs.len()].clone(), *me);
            let params = signer.sign(&Method::GET, "/api/ws", &[], Some(token));
            let url = format!("ws://{addr}/api/ws?{}", encode(&params));
            let (sent_at, latencies, received, dropped) =
                (Arc::clone(&sent_at), Arc::clone(&latencies), Arc::clone(&received), Arc::clone(&dropped));
            let (chat_sent, chat_latencies) = (Arc::clone(&chat_sent), Arc::clone(&chat_latencies));
            let (up, is_up) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("the upgrade");
                let subscribe = json!({"type": "subscribe", "live_id": live}).to_string();
                socket.send(Message::text(subscribe)).await.unwrap();
                socket.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
                let mut up = Some(up);
                let mut mine = Vec::new();
                while let Some(Ok(frame)) = socket.next().await {
                    let Message::Text(text) = frame else { continue };
                    let event: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    match event["type"].as_str() {
                        Some("pong") => {
                            if let Some(up) = up.take() {
                                let _ = up.send(());
                            }
                        }
                        Some("danmaku") => {
                            let now = start.elapsed().as_micros() as u64;
                            let seq: usize = event["data"]["content"].as_str().and_then(|c| c.parse().ok()).unwrap_or(0);
                            let sent = sent_at[seq].load(Ordering::Acquire);
                            // Not stamped yet (a race of the two threads): counted as no wait.
                            mine.push(now.saturating_sub(if sent == 0 { now } else { sent }) as u32);
                            received.fetch_add(1, Ordering::Relaxed);
                            // Handed over often: a step of a few hundred deliveries per viewer must
                            // not end with them all still here (they would not be counted).
                            if mine.len() >= 16 {
                                latencies.lock().await.append(&mut mine);
                            }
                        }
                        // Only the recipient's copy: the sender's own sockets get one too.
                        Some("message") if event["data"]["to_uid"] == me => {
                            let now = start.elapsed().as_micros() as u64;
                            let n: Option<usize> = event["data"]["content"].as_str().and_then(|c| c.strip_prefix("chat:")).and_then(|n| n.parse().ok());
                            if let Some(n) = n.filter(|n| *n < chat_sent.len()) {
                                let sent = chat_sent[n].load(Ordering::Acquire);
                                let waited = now.saturating_sub(if sent == 0 { now } else { sent });
                                chat_latencies.lock().await.push(waited as u32);
                            }
                        }
                        Some("bye") | Some("error") => {
                            eprintln!("viewer event: {event}");
                        }
                        Some("lag") => {
                            dropped.fetch_add(event["data"]["dropped"].as_u64().unwrap_or(0), Ordering::Relaxed);
                        }
                        _ => {}
                    }
                }
                eprintln!("viewer socket ended");
            });
            ready.push(is_up);
            // In waves of 100: a wave is subscribed before the next connects, so the memory
            // measured is what open sockets hold, not the peak of thousands of handshakes at
            // once (memory the allocator keeps after they end).
            if ready.len() == 100 {
                for up in ready.drain(..) {
                    up.await.expect("every viewer subscribed");
                }
            }
        }
        for up in ready {
            up.await.expect("every viewer subscribed");
        }
        let rss_connected = rss(&pids);
        println!(
            "{}",
            json!({
                "viewers": viewers,
                "instances": addrs.len(),
                "server_rss_before_mb": rss_before / 1024,
                "server_rss_connected_mb": rss_connected / 1024,
                "rss_per_socket_kb": rss_connected.saturating_sub(rss_before) as f64 / viewers as f64,
            })
        );

        // The sender: danmaku at each rate, numbered, from a logged-in viewer.
        let mut seq = 1usize;
        let mut out = Vec::new();
        for &rate in &rates {
            latencies.lock().await.clear();
            received.store(0, Ordering::Relaxed);
            dropped.store(0, Ordering::Relaxed);
            let before: Vec<(f64, u64)> = pids.iter().map(|p| cpu_and_rss(p)).collect();
            let total = (rate * seconds) as usize;
            let senders = 8.min(total.max(1));
            let every = Duration::from_secs_f64(senders as f64 / rate as f64);
            let first = seq;
            let mut tasks = Vec::new();
            for s in 0..senders {
                let (signer, addr, token, sent_at) = (signer.clone(), addrs[0].clone(), tokens[0].0.clone(), Arc::clone(&sent_at));
                let mine: Vec<usize> = (first..first + total).filter(|n| n % senders == s).collect();
                tasks.push(tokio::spawn(async move {
                    let mut sender = connect(&addr).await;
                    let mut ticker = tokio::time::interval(every);
                    let path = format!("/api/live/{live}/danmaku");
                    for n in mine {
                        ticker.tick().await;
                        let params = [("content".into(), n.to_string())];
                        // From the request's departure: the whole path, the sender's API call
                        // included.
                        sent_at[n].store(start.elapsed().as_micros() as u64, Ordering::Release);
                        let res = post(&mut sender, &signer, &path, &params, Some(&token)).await;
                        if res["code"] != 0 {
                            eprintln!("danmaku {n} refused: {res}");
                        }
                    }
                }));
            }
            futures_util::future::join_all(tasks).await;
            seq += total;
            // Stragglers: wait until everything arrived, or two seconds.
            let expected = (total * viewers) as u64;
            let settle = Instant::now();
            while received.load(Ordering::Relaxed) + dropped.load(Ordering::Relaxed) < expected
                && settle.elapsed() < Duration::from_secs(2)
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let after: Vec<(f64, u64)> = pids.iter().map(|p| cpu_and_rss(p)).collect();
            let mut all = std::mem::take(&mut *latencies.lock().await);
            all.sort_unstable();
            let cpu: f64 = before.iter().zip(&after).map(|(b, a)| a.0 - b.0).sum();
            let row = json!({
                "rate": rate,
                "viewers": viewers,
                "instances": addrs.len(),
                "expected": expected,
                "delivered": received.load(Ordering::Relaxed),
                "dropped": dropped.load(Ordering::Relaxed),
                "p50_ms": percentile(&all, 0.50),
                "p99_ms": percentile(&all, 0.99),
                "max_ms": percentile(&all, 1.0),
                "server_cpu_s": cpu,
                "server_rss_mb": after.iter().map(|a| a.1).sum::<u64>() / 1024,
            });
            println!("{row}");
            let p99 = row["p99_ms"].as_f64().unwrap_or(0.0);
            out.push(row);
            if p99 > 100.0 {
                break;
            }
        }
        // Chat at 20 messages a second, from the first viewer to the second (on the other
        // instance when there are two).
        {
            let mut sender = connect(&addrs[0]).await;
            let (token, to) = (tokens[0].0.clone(), tokens[1 % tokens.len()].1);
            let path = format!("/api/users/{to}/messages");
            let mut ticker = tokio::time::interval(Duration::from_millis(50));
            for n in 0..CHATS {
                ticker.tick().await;
                let params = [("msg_type".into(), "text".to_owned()), ("content".into(), format!("chat:{n}"))];
                chat_sent[n].store(start.elapsed().as_micros() as u64, Ordering::Release);
                let res = post(&mut sender, &signer, &path, &params, Some(&token)).await;
                if res["code"] != 0 {
                    eprintln!("chat {n} refused: {res}");
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let mut all = std::mem::take(&mut *chat_latencies.lock().await);
            all.sort_unstable();
            let row = json!({
                "chat_messages": CHATS,
                "chat_delivered": all.len(),
                "chat_p50_ms": percentile(&all, 0.50),
                "chat_p99_ms": percentile(&all, 0.99),
                "chat_max_ms": percentile(&all, 1.0),
                "instances": addrs.len(),
            });
            println!("{row}");
        }
        let capacity = out.iter().filter(|r| r["p99_ms"].as_f64().unwrap_or(f64::MAX) <= 100.0).filter_map(|r| r["rate"].as_u64()).max();
        println!("{}", json!({ "capacity_per_sec": capacity, "instances": addrs.len() }));
    });
}
