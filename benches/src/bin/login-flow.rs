//! Drives the login flow (sendsms, then login with the echoed code) against a running
//! example-dating: `login-flow ADDR SECONDS CONCURRENCY [PER_SECOND]`. Prints one JSON line:
//! flows per second and flow latency percentiles. With `PER_SECOND`, the workers together
//! start that many flows a second and no more (a trickle of registrations beside another
//! load), instead of as many as they can.
//!
//! wrk cannot do this: the login's signature covers the code the previous response returned.

use std::time::{Duration, Instant};

use bytes::Bytes;
use example_dating::client::{Signer, request};
use example_dating::config::{AppConfig, DEV_APP};
use example_dating::signing::Scheme;
use http::Method;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

async fn call(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    req: http::Request<Full<Bytes>>,
) -> serde_json::Value {
    let res = sender.send_request(req).await.expect("the server answers");
    let body = res.into_body().collect().await.expect("a body").to_bytes();
    serde_json::from_slice(&body).expect("JSON")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(seconds), Some(workers)) = (
        args.next(),
        args.next().and_then(|s| s.parse::<u64>().ok()),
        args.next().and_then(|c| c.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: login-flow ADDR SECONDS CONCURRENCY [PER_SECOND]");
        std::process::exit(2);
    };
    // Each worker's gap between flows, when paced.
    let gap = args
        .next()
        .and_then(|r| r.parse::<f64>().ok())
        .filter(|r| *r > 0.0)
        .map(|per_second| Duration::from_secs_f64(workers as f64 / per_second));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let signer = Signer::new(AppConfig { appkey: DEV_APP.0.into(), secret: DEV_APP.1.into(), scheme: Scheme::V1, enabled: true });
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let tag = std::process::id() % 10_000;
        let mut tasks = Vec::new();
        for w in 0..workers {
            let (signer, addr) = (signer.clone(), addr.clone());
            tasks.push(tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(&addr).await.expect("the server listens");
                let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("HTTP/1.1");
                tokio::spawn(conn);
                let mut latencies = Vec::new();
                let mut n = 0u64;
                let mut due = Instant::now();
                while Instant::now() < deadline {
                    if let Some(gap) = gap {
                        tokio::time::sleep_until(due.into()).await;
                        due += gap;
                    }
                    n += 1;
                    let phone = format!("17{tag:04}{w:02}{n:04}");
                    let started = Instant::now();
                    let sent = call(&mut sender, request(Method::POST, "/api/auth/sendsms", &signer.sign(&Method::POST, "/api/auth/sendsms", &[("phone".into(), phone.clone())], None))).await;
                    let code = sent["data"]["code"].as_str().unwrap_or_else(|| panic!("sendsms failed: {sent}")).to_owned();
                    let params = [("phone".into(), phone), ("code".into(), code)];
                    let login = call(&mut sender, request(Method::POST, "/api/auth/login", &signer.sign(&Method::POST, "/api/auth/login", &params, None))).await;
                    assert_eq!(login["code"], 0, "login failed: {login}");
                    latencies.push(started.elapsed());
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("a worker"));
        }
        all.sort();
        let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        println!("{}", serde_json::json!({ "flows": all.len(), "flows_per_sec": all.len() as f64 / seconds as f64, "p50_ms": pct(0.5), "p99_ms": pct(0.99) }));
    });
}
