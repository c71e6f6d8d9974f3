//! Fuzzing against the document (docs/src/dating/api/operations.md): schemathesis (PyPI) reads `GET /openapi.json` of
//! a live example-dating and sends generated requests to every operation, signed (v1) and
//! authenticated by `tests/schemathesis/hooks.py`. Its checks: no 500, every status documented
//! for the operation, every response of the documented content type and schema — the envelope,
//! with a code the operation documents.
//!
//! `/api/events` is left out: a Server-Sent Events response never ends, and schemathesis reads
//! whole bodies. Needs `KOTORI_TEST_SCHEMATHESIS` (the `schemathesis` command: CI installs it
//! from PyPI); says so when it skips.

mod common;

use std::future::IntoFuture;
use std::sync::Arc;

use common::TestApp;
use example_dating::manage::operators::PRIVILEGES;
use example_dating::store::MemoryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_every_answer_documented() {
    let Some(schemathesis) = common::service_url(
        "KOTORI_TEST_SCHEMATHESIS",
        "schemathesis_finds_every_answer_documented",
    ) else {
        return;
    };
    let mut config = common::config();
    // The hook registers a fresh user for each logout and deletion it sends.
    config.sms.per_client_daily = 1_000_000;
    let dir = common::TempDir::new("schemathesis");
    let db_url = dir.sqlite_url();
    let t = TestApp::with(config, &db_url, Arc::new(MemoryStore::new())).await;
    let (token, user_id) = t.user("18900000001").await;
    let admin = t.operator("admin", "admin", &PRIVILEGES).await;
    let host = t.operator("host", "host", &[]).await;
    // Something to find: the caller is a VIP, and a live (id 1) is on the air with a danmaku.
    t.set_vip(user_id).await;
    let live = t.create_live(&host, "on the air").await;
    let path = format!("/api/live/{live}/danmaku");
    t.call(
        http::Method::POST,
        &path,
        &[("content", "hello")],
        Some(&token),
    )
    .await;
    let app_key = &t.state.config.apps[0];
    let pay_key = &t.state.config.payment_apps[0];

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(kotori::serve(listener, t.app.clone()).into_future());

    let hooks = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis");
    let report = std::env::temp_dir().join(format!(
        "kotori-schemathesis-{}-{}",
        std::process::id(),
        example_dating::random::hex_token(4)
    ));
    // Run from the report's directory: schemathesis keeps its example cache (`.schemathesis/`)
    // in the working directory, which would otherwise be the crate's, rewritten every run.
    std::fs::create_dir_all(&report).unwrap();
    let out = tokio::process::Command::new(&schemathesis)
        .current_dir(&report)
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args(["--url", &base])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance",
        ])
        .args(["--exclude-path", "/api/events"])
        .args(["--max-examples", "25", "--workers", "2"])
        .args(["--generation-deterministic", "--continue-on-failure"])
        .arg("--report-dir")
        .arg(&report)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", hooks)
        .env("KOTORI_ST_BASE", &base)
        .env(
            "KOTORI_ST_APP",
            format!("{}:{}", app_key.appkey, app_key.secret),
        )
        .env(
            "KOTORI_ST_PAY",
            format!("{}:{}", pay_key.appkey, pay_key.secret),
        )
        .env("KOTORI_ST_TOKEN", &token)
        .env("KOTORI_ST_USER_ID", user_id.to_string())
        .env("KOTORI_ST_ADMIN", &admin)
        .env("KOTORI_ST_HOST", &host)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("KOTORI_TEST_SCHEMATHESIS runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The summary (operations, test cases, failures) for the record.
    eprintln!("{stdout}");
    let _ = std::fs::remove_dir_all(&report);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
