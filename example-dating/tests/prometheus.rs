//! A real Prometheus scraping a real example-dating: the scrape configuration of
//! docs/src/dating/deployment.md (read from the page; only its target, token file and interval
//! changed), signed traffic with replays and refusals, then Prometheus's query API asked for
//! the series by route and refusal — the count of replays it holds equals the replays sent.
//!
//! Needs `KOTORI_TEST_PROMETHEUS` (the prometheus binary); says so when it skips.

mod common;
// The instance runner; this test has no nginx.
#[allow(dead_code)]
mod nginx;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use example_dating::client::{self, Signer};
use http::Method;
use nginx::{Instance, Process};
use serde_json::Value;

const REPLAYS: usize = 4;
const CALLS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_sees_refusals_by_route_step_and_code() {
    let Some(prometheus) = common::service_url(
        "KOTORI_TEST_PROMETHEUS",
        "prometheus_sees_refusals_by_route_step_and_code",
    ) else {
        return;
    };
    let dir = common::TempDir::new("prometheus");
    let dir = &dir.0;
    let db_url = format!("sqlite://{}/dating.sqlite?mode=rwc", dir.display());
    let addr: SocketAddr = format!("127.0.0.1:{}", common::free_port())
        .parse()
        .unwrap();
    let server = Instance {
        addr,
        db_url: db_url.clone(),
        redis_url: String::new(),
        prefix: String::new(),
        log: dir.join("server.log"),
    };
    let _server = server.start().await;

    // The scraper: an operator holding only metrics:read, its token from the command line.
    cli(
        &db_url,
        &[
            "operator",
            "add",
            "--name",
            "prometheus",
            "--role",
            "admin",
            "--privileges",
            "metrics:read",
        ],
        Some("a-long-password\n"),
    );
    let token = cli(
        &db_url,
        &["operator", "token", "--name", "prometheus", "--days", "1"],
        None,
    );
    let token_file = dir.join("dating.token");
    std::fs::write(&token_file, token.trim()).unwrap();

    let web = format!("127.0.0.1:{}", common::free_port());
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, scrape_config(addr, &token_file)).unwrap();
    let _prometheus = start_prometheus(&prometheus, &config, dir, &web).await;

    // Traffic: a user logs in, calls GET /api/me, sends some of those requests twice.
    let signer = common::dev_signer();
    let at = addr.to_string();
    let phone = "18922986865";
    let sent = call(
        &at,
        &signer,
        Method::POST,
        "/api/auth/sendsms",
        &[("phone", phone)],
        None,
    )
    .await;
    let code = sent["data"]["code"]
        .as_str()
        .expect("the development app echoes the code")
        .to_owned();
    let login = call(
        &at,
        &signer,
        Method::POST,
        "/api/auth/login",
        &[("phone", phone), ("code", &code)],
        None,
    )
    .await;
    let user = login["data"]["token"].as_str().unwrap().to_owned();
    for i in 0..CALLS {
        let signed = signer.sign(&Method::GET, "/api/me", &[], Some(&user));
        assert_eq!(send(&at, Method::GET, "/api/me", &signed).await["code"], 0);
        if i < REPLAYS {
            assert_eq!(
                send(&at, Method::GET, "/api/me", &signed).await["code"],
                40103
            );
        }
    }

    // Prometheus scrapes every second: ask until it has seen every replay, and a scrape of
    // its own (a scrape is measured once it is answered: the next one shows it). Bounded.
    let replays = r#"sum(http_server_request_duration_seconds_count{http_route="/api/me",kotori_code="40103",kotori_step="example_dating::auth::signature::verify_client_signature",http_response_status_code="401"})"#;
    let scrapes = r#"sum(http_server_request_duration_seconds_count{http_route="/metrics",http_response_status_code="200"})"#;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if scalar(&web, replays).await == Some(REPLAYS as f64)
            && scalar(&web, scrapes).await.is_some_and(|n| n >= 1.0)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus never counted {REPLAYS} replays: {:?}; targets: {}",
            scalar(&web, replays).await,
            get(&web, "/api/v1/targets", &[]).await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The successes, under the same route template.
    let ok = r#"sum(http_server_request_duration_seconds_count{http_route="/api/me",http_response_status_code="200"})"#;
    assert_eq!(scalar(&web, ok).await, Some(CALLS as f64));
    // No series carries a raw path: every http_route is a route of the tree.
    let routes = get(&web, "/api/v1/label/http_route/values", &[]).await;
    let routes: Vec<&str> = routes["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        routes.contains(&"/api/me") && routes.contains(&"/api/auth/login"),
        "{routes:?}"
    );
    assert!(
        routes
            .iter()
            .all(|r| !r.chars().any(|c| c.is_ascii_digit())),
        "{routes:?}"
    );
    // The app's round trips per request: GET /api/me makes statements.
    let statements = r#"sum(dating_round_trips_per_request_sum{kind="database"})"#;
    assert!(scalar(&web, statements).await.is_some_and(|n| n > 0.0));
}

/// Runs the example-dating binary on `db_url` with `args`, feeding `stdin`; its standard output.
fn cli(db_url: &str, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_example-dating"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or("").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The scrape configuration of the deployment chapter, aimed at this test's server.
fn scrape_config(target: SocketAddr, token_file: &Path) -> String {
    let page = include_str!("../../docs/src/dating/deployment.md");
    let start = page
        .find("```yaml\nscrape_configs:")
        .expect("the chapter's scrape config")
        + 8;
    let block = &page[start..start + page[start..].find("```").unwrap()];
    let config = block
        .replace("scrape_interval: 15s", "scrape_interval: 1s")
        .replace(
            "/etc/prometheus/dating.token",
            &token_file.display().to_string(),
        );
    let targets_at = config.find("targets:").expect("a targets line");
    let line_end = targets_at + config[targets_at..].find('\n').unwrap();
    format!(
        "global:\n  scrape_timeout: 1s\n{}targets: [\"{target}\"]{}",
        &config[..targets_at],
        &config[line_end..]
    )
}

async fn start_prometheus(binary: &str, config: &Path, dir: &Path, web: &str) -> Process {
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={web}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prometheus starts");
    let process = Process(child);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let probe = client::request(Method::GET, "/-/ready", &[]);
        if let Ok((status, _)) = client::send(web, probe).await {
            if status == 200 {
                return process;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus is not ready after 60 s: {}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A PromQL query's single value, if it has one.
async fn scalar(web: &str, query: &str) -> Option<f64> {
    let answer = get(web, "/api/v1/query", &[("query", query)]).await;
    let value = answer["data"]["result"].get(0)?["value"][1].as_str()?;
    value.parse().ok()
}

async fn get(web: &str, path: &str, params: &[(&str, &str)]) -> Value {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (_, body) = client::send(web, client::request(Method::GET, path, &params))
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"))
}

async fn call(
    addr: &str,
    signer: &Signer,
    method: Method,
    path: &str,
    params: &[(&str, &str)],
    token: Option<&str>,
) -> Value {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let signed = signer.sign(&method, path, &params, token);
    send(addr, method, path, &signed).await
}

async fn send(addr: &str, method: Method, path: &str, signed: &[(String, String)]) -> Value {
    let (_, body) = client::send(addr, client::request(method, path, signed))
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}
