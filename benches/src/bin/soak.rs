//! A soak test of the in-process store: signed `GET /api/me` requests, each with a fresh nonce
//! (so each leaves a nonce and a signature in the store), against a running example-dating:
//! `soak ADDR TOKEN TOTAL CONCURRENCY SERVER_PID [RATE]`. Every tenth of the way it prints one
//! JSON line with the requests done, the rate and the server's resident memory; at the end, the
//! latency percentiles and the ten slowest seconds (when the stalls were, and how long).
//! Run by `benches/load/soak.sh`.
//!
//! Without RATE each connection sends its next request when the last one is answered (the
//! server saturated). With RATE (requests/s in all) each connection sends on its own fixed
//! schedule, and a request whose send was held up by the previous slow answer counts its
//! latency from when it was due, not from when it went out: a server stall shows in every
//! request it delayed (no coordinated omission).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use example_dating::client::{Signer, request};
use example_dating::config::{AppConfig, DEV_APP};
use example_dating::signing::Scheme;
use http::Method;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// The server's resident set, in MiB, from /proc.
fn rss_mib(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(token), Some(total), Some(workers), Some(pid)) = (
        args.next(),
        args.next(),
        args.next().and_then(|s| s.parse::<u64>().ok()),
        args.next().and_then(|c| c.parse::<u64>().ok()),
        args.next(),
    ) else {
        eprintln!("usage: soak ADDR TOKEN TOTAL CONCURRENCY SERVER_PID [RATE]");
        std::process::exit(2);
    };
    let rate = args
        .next()
        .and_then(|r| r.parse::<f64>().ok())
        .filter(|r| *r > 0.0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let signer = Signer::new(AppConfig {
            appkey: DEV_APP.0.into(),
            secret: DEV_APP.1.into(),
            scheme: Scheme::V1,
            enabled: true,
        });
        let done = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..workers {
            let (signer, addr, token, done) =
                (signer.clone(), addr.clone(), token.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(&addr)
                    .await
                    .expect("the server listens");
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream))
                        .await
                        .expect("HTTP/1.1");
                tokio::spawn(conn);
                let mut latencies: Vec<u32> = Vec::new();
                // The slowest answer of each second of the run: when stalls happen, not just
                // how long they are.
                let mut worst: Vec<u32> = Vec::new();
                // Each connection's schedule: one request per period, staggered.
                let period = rate.map(|r| Duration::from_secs_f64(workers as f64 / r));
                let mut due = Instant::now() + period.map_or(Duration::ZERO, |p| p.mul_f64(w as f64 / workers as f64));
                let mut answered = Instant::now();
                while done.fetch_add(1, Ordering::Relaxed) < total {
                    let at = match period {
                        None => Instant::now(),
                        Some(period) => {
                            tokio::time::sleep_until(due.into()).await;
                            let sent = Instant::now();
                            // Held up by the last answer: count from when it was due. Otherwise
                            // from the send (the timer's own lateness is not the server's).
                            let at = if answered > due { due } else { sent };
                            due += period;
                            at
                        }
                    };
                    let params = signer.sign(&Method::GET, "/api/me", &[], Some(&token));
                    let res = sender
                        .send_request(request(Method::GET, "/api/me", &params))
                        .await
                        .expect("the server answers");
                    let status = res.status();
                    let _ = res.into_body().collect().await.expect("a body");
                    assert_eq!(status, 200, "GET /api/me failed");
                    answered = Instant::now();
                    let micros = (answered - at).as_micros().min(u32::MAX as u128) as u32;
                    latencies.push(micros);
                    let second = (at - started).as_secs() as usize;
                    if worst.len() <= second {
                        worst.resize(second + 1, 0);
                    }
                    worst[second] = worst[second].max(micros);
                }
                (latencies, worst)
            }));
        }
        // Progress: every tenth of the way, the rate and the server's memory.
        let reporter = {
            let (done, pid) = (done.clone(), pid.clone());
            tokio::spawn(async move {
                let mut next = total / 10;
                let mut last = (Instant::now(), 0u64);
                while next <= total {
                    let now = done.load(Ordering::Relaxed).min(total);
                    if now >= next {
                        let rate = (now - last.1) as f64 / last.0.elapsed().as_secs_f64();
                        println!(
                            "{}",
                            serde_json::json!({"requests": now, "rps": rate.round(), "rss_mib": rss_mib(&pid)})
                        );
                        last = (Instant::now(), now);
                        next += total / 10;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        };
        let mut all = Vec::new();
        let mut worst: Vec<u32> = Vec::new();
        for task in tasks {
            let (latencies, slowest) = task.await.expect("a worker");
            all.extend(latencies);
            if worst.len() < slowest.len() {
                worst.resize(slowest.len(), 0);
            }
            for (w, s) in worst.iter_mut().zip(slowest) {
                *w = (*w).max(s);
            }
        }
        // The ten slowest seconds, in order of time: [second, its slowest answer in ms].
        let mut seconds: Vec<(usize, u32)> = worst.into_iter().enumerate().collect();
        seconds.sort_unstable_by_key(|&(_, us)| std::cmp::Reverse(us));
        seconds.truncate(10);
        seconds.sort_unstable();
        let slowest: Vec<(usize, f64)> =
            seconds.into_iter().map(|(s, us)| (s, f64::from(us) / 1000.0)).collect();
        let _ = reporter.await;
        all.sort_unstable();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .map_or(0.0, |us| f64::from(*us) / 1000.0)
        };
        println!(
            "{}",
            serde_json::json!({
                "requests": all.len(),
                "seconds": started.elapsed().as_secs_f64().round(),
                "p50_ms": pct(0.5), "p99_ms": pct(0.99), "p999_ms": pct(0.999),
                "rate": rate,
                "slowest_seconds": slowest,
                "rss_mib": rss_mib(&pid),
            })
        );
    });
}
