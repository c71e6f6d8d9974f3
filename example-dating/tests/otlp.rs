//! OpenTelemetry export, end to end: the example-dating binary with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a collector run by this test (an HTTP server that
//! decodes what arrives with the OpenTelemetry project's protobuf types). A signed
//! `GET /api/me` carrying a `traceparent` becomes a server span `GET /api/me` in the caller's
//! trace, with a child span per awaited step; the duration histogram arrives too. Over HTTPS,
//! the exporter checks the collector against `OTEL_EXPORTER_OTLP_CERTIFICATE` and offers its
//! client certificate (mutual TLS), and sends nothing to a collector it cannot verify.

mod common;
// The instance runner; this test has no nginx.
#[allow(dead_code)]
mod nginx;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use example_dating::client;
use http::Method;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use nginx::{Process, ready};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::Value;
use tokio::sync::mpsc;

/// What the collector received: the path (`/v1/traces`, `/v1/metrics`) and the body.
type Received = (String, Bytes);

/// A collector on a free port: every request's path and body go to the channel.
async fn collector() -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
    let (addr, received, _) = collector_behind(None).await;
    (addr, received)
}

/// A collector on a free port, behind TLS when `tls` is given: every request's path and body
/// go to the first channel, every failed TLS handshake's error to the second.
async fn collector_behind(
    tls: Option<rustls::ServerConfig>,
) -> (
    SocketAddr,
    mpsc::UnboundedReceiver<Received>,
    mpsc::UnboundedReceiver<String>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let (refused_tx, refused_rx) = mpsc::unbounded_channel();
    let acceptor = tls.map(|config| tokio_rustls::TlsAcceptor::from(Arc::new(config)));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            let (acceptor, refused) = (acceptor.clone(), refused_tx.clone());
            tokio::spawn(async move {
                let stream: Box<dyn Stream> = match acceptor {
                    None => Box::new(stream),
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(stream) => Box::new(stream),
                        Err(e) => {
                            let _ = refused.send(e.to_string());
                            return;
                        }
                    },
                };
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let tx = tx.clone();
                    async move {
                        let path = req.uri().path().to_owned();
                        let body = req.into_body().collect().await.map(|b| b.to_bytes());
                        let _ = tx.send((path, body.unwrap_or_default()));
                        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, rx, refused_rx)
}

/// A connection the collector serves: plain TCP or TLS over it.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

/// The example-dating binary on a database in `dir`, exporting to `otlp`; ready.
async fn serve_exporting_to(otlp: SocketAddr, dir: &std::path::Path) -> (Process, String) {
    serve_with(&format!("http://{otlp}"), &[], dir).await
}

/// The example-dating binary on a database in `dir`, exporting to `endpoint` with the other
/// variables `env`; ready.
async fn serve_with(
    endpoint: &str,
    env: &[(&str, &std::path::Path)],
    dir: &std::path::Path,
) -> (Process, String) {
    let addr = format!("127.0.0.1:{}", common::free_port());
    let log = dir.join("server.log");
    let child = Command::new(env!("CARGO_BIN_EXE_example-dating"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LISTEN", &addr)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/dating.sqlite?mode=rwc", dir.display()),
        )
        .env("RUST_LOG", "warn")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_METRIC_EXPORT_INTERVAL", "300")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let server = Process(child);
    ready(&addr, &log).await;
    (server, addr)
}

/// A user logs in and calls `GET /api/me`, every request carrying the same `traceparent`;
/// the envelope's code of `/api/me`.
async fn login_and_me(addr: &str, phone: &str) -> Value {
    let signer = common::dev_signer();
    let call = async |method: Method, path: &str, params: &[(&str, &str)], token: Option<&str>| {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let signed = signer.sign(&method, path, &params, token);
        let mut request = client::request(method, path, &signed);
        request.headers_mut().insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        let answer = tokio::time::timeout(Duration::from_secs(10), client::send(addr, request))
            .await
            .unwrap_or_else(|_| panic!("{path} did not answer within 10 s"));
        let (_, body) = answer.unwrap();
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let sent = call(Method::POST, "/api/auth/sendsms", &[("phone", phone)], None).await;
    let code = sent["data"]["code"].as_str().unwrap().to_owned();
    let login = call(
        Method::POST,
        "/api/auth/login",
        &[("phone", phone), ("code", &code)],
        None,
    )
    .await;
    let token = login["data"]["token"].as_str().unwrap().to_owned();
    call(Method::GET, "/api/me", &[], Some(&token)).await["code"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_reaches_the_collector_as_a_span_in_the_callers_trace() {
    let (otlp, mut received) = collector().await;
    let dir = common::TempDir::new("otlp");
    let (server, addr) = serve_exporting_to(otlp, &dir.0).await;
    let log = dir.0.join("server.log");
    assert_eq!(login_and_me(&addr, "18922986865").await, 0);

    // What arrives, until the span and the histogram are both there (bounded).
    let mut spans = Vec::new();
    let mut histogram = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !(histogram
        && spans
            .iter()
            .any(|(n, _, _, _): &(String, _, _, _)| n == "GET /api/me"))
    {
        let (path, body) = tokio::time::timeout_at(deadline, received.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the collector got no span or histogram in 30 s; the server's log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })
            .unwrap();
        match path.as_str() {
            "/v1/traces" => {
                let request = ExportTraceServiceRequest::decode(body).unwrap();
                for span in request
                    .resource_spans
                    .iter()
                    .flat_map(|r| &r.scope_spans)
                    .flat_map(|s| &s.spans)
                {
                    spans.push((
                        span.name.clone(),
                        span.trace_id.clone(),
                        span.span_id.clone(),
                        span.parent_span_id.clone(),
                    ));
                }
            }
            "/v1/metrics" => {
                let request = ExportMetricsServiceRequest::decode(body).unwrap();
                histogram |= request
                    .resource_metrics
                    .iter()
                    .flat_map(|r| &r.scope_metrics)
                    .flat_map(|s| &s.metrics)
                    .any(|m| m.name == "http.server.request.duration");
            }
            other => panic!("the exporter posted to {other}"),
        }
    }
    drop(server);

    let me = spans.iter().find(|(n, ..)| n == "GET /api/me").unwrap();
    assert_eq!(
        hex(&me.1),
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "the caller's trace"
    );
    assert_eq!(
        hex(&me.3),
        "00f067aa0ba902b7",
        "the caller's span is the parent"
    );
    let children: Vec<&str> = spans
        .iter()
        .filter(|(_, _, _, parent)| *parent == me.2)
        .map(|(n, ..)| n.as_str())
        .collect();
    for step in [
        "example_dating::auth::signature::verify_client_signature",
        "example_dating::auth::session::load_caller",
        "example_dating::users::profile::load_me",
        "example_dating::users::profile::show_me",
    ] {
        assert!(
            children.contains(&step),
            "{step} is not a child: {children:?}"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A collector that is not there: the exporters fail on their own threads, and every request
/// is answered as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_costs_the_requests_nothing() {
    let nobody: SocketAddr = format!("127.0.0.1:{}", common::free_port())
        .parse()
        .unwrap();
    let dir = common::TempDir::new("otlp-down");
    let (_server, addr) = serve_exporting_to(nobody, &dir.0).await;
    for phone in ["18922986801", "18922986802", "18922986803"] {
        assert_eq!(login_and_me(&addr, phone).await, 0);
    }
}

/// A certificate authority of the test's own, a collector certificate for 127.0.0.1 and a client
/// certificate, both issued by it; the CA's and the client's PEM files are written into `dir`.
struct Pki {
    collector: rustls::ServerConfig,
    ca: std::path::PathBuf,
    client_cert: std::path::PathBuf,
    client_key: std::path::PathBuf,
}

impl Pki {
    fn new(dir: &std::path::Path) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let issue = |name: &str| {
            let key = KeyPair::generate().unwrap();
            let params = CertificateParams::new(vec![name.to_owned()]).unwrap();
            (params.signed_by(&key, &issuer).unwrap(), key)
        };
        let (collector_cert, collector_key) = issue("127.0.0.1");
        let (client_cert, client_key) = issue("exporter.test");

        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        let clients = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .unwrap();
        let key = PrivatePkcs8KeyDer::from(collector_key.serialize_der());
        let collector = rustls::ServerConfig::builder()
            .with_client_cert_verifier(clients)
            .with_single_cert(
                vec![collector_cert.der().clone()],
                PrivateKeyDer::Pkcs8(key),
            )
            .unwrap();
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        Pki {
            collector,
            ca: write("ca.pem", ca.pem()),
            client_cert: write("client.pem", client_cert.pem()),
            client_key: write("client.key", client_key.serialize_pem()),
        }
    }
}

/// Over HTTPS the spans reach a collector the exporter verifies by the CA it was given, which
/// verifies the exporter in turn by its client certificate; a server not given the CA (the
/// system's roots do not know it) refuses the collector and sends it nothing, and its requests
/// are answered as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_spans_reach_only_a_collector_the_exporter_verifies() {
    let dir = common::TempDir::new("otlp-tls");
    let pki = Pki::new(&dir.0);
    let (otlp, mut received, mut refused) = collector_behind(Some(pki.collector.clone())).await;
    let endpoint = format!("https://{otlp}");

    let trusting = dir.0.join("trusting");
    std::fs::create_dir_all(&trusting).unwrap();
    let env = [
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.ca.as_path()),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &pki.client_cert),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &pki.client_key),
    ];
    let (server, addr) = serve_with(&endpoint, &env, &trusting).await;
    assert_eq!(login_and_me(&addr, "18922986811").await, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (path, body) = tokio::time::timeout_at(deadline, received.recv())
            .await
            .expect("no span reached the collector over HTTPS in 30 s")
            .unwrap();
        if path == "/v1/traces" {
            let request = ExportTraceServiceRequest::decode(body).unwrap();
            let names = request
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
                .map(|s| s.name.as_str());
            if names.into_iter().any(|n| n == "GET /api/me") {
                break;
            }
        }
    }
    drop(server);
    // Exports already under way when the server stopped may still arrive: start counting after.
    while received.try_recv().is_ok() {}

    let untrusting = dir.0.join("untrusting");
    std::fs::create_dir_all(&untrusting).unwrap();
    let (server, addr) = serve_with(&endpoint, &env[1..], &untrusting).await;
    assert_eq!(login_and_me(&addr, "18922986812").await, 0);
    // The first server was killed with its exporter perhaps mid-handshake: such a handshake
    // ends in a reset (or an early end of stream), seen here after the fact. Past those, the
    // first refusal is the second server's verdict on the collector.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let error = tokio::time::timeout_at(deadline, refused.recv())
            .await
            .expect("the exporter did not try the collector in 30 s")
            .unwrap();
        if error.contains("UnknownCA") {
            break;
        }
        assert!(
            ["os error 104", "handshake eof", "unexpected end of file"]
                .iter()
                .any(|cut| error.contains(cut)),
            "the exporter should refuse the collector's certificate: {error}"
        );
    }
    // ...and says so in its log (the SDK's own messages go to the server's log).
    let log = untrusting.join("server.log");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("ExportError")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed export in the server's log after 30 s:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(server);
    assert!(
        received.try_recv().is_err(),
        "a collector the exporter could not verify was sent something"
    );
}

/// A client certificate without its key (or the reverse), or a CA file that holds no
/// certificate, stops the server at start with a message naming the variable.
#[test]
fn half_a_client_certificate_or_an_empty_ca_file_stops_the_server_at_start() {
    let dir = common::TempDir::new("otlp-tls-config");
    let empty = dir.0.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    for (name, expected) in [
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        ),
        (
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_example-dating"))
            .arg("serve")
            .env_clear()
            .env("LISTEN", format!("127.0.0.1:{}", common::free_port()))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/dating.sqlite?mode=rwc", dir.0.display()),
            )
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:1")
            .env(name, &empty)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} alone: the server started");
        assert!(stderr.contains(expected), "{name} alone: {stderr}");
    }
}
