//! The operator console in a real browser: Debian's Chromium, driven by Playwright
//! (tests/browser/console.py), against the example-dating binary on a SQLite file. The script
//! logs in, searches a user, opens a report and bans from it, watches a danmaku sent through the
//! API arrive on the live page, is refused a POST without the CSRF token, logs out, logs in as
//! a host, and lifts the ban with JavaScript off — checking every page with axe-core at a
//! phone's width and saving a screenshot of each. This side seeds the data and checks the
//! database rows and audit rows afterwards.
//!
//! Needs `KOTORI_TEST_CHROMIUM` (the browser binary) and `KOTORI_TEST_AXE` (axe-core's
//! `axe.min.js`), and Python with `playwright`; skipped without them. Screenshots go to
//! `KOTORI_TEST_SCREENSHOTS` when set (CI keeps them), else to a temporary directory.

mod common;
#[allow(dead_code)]
mod nginx;

use std::process::{Command, Stdio};

use common::{TempDir, TestApp};
use example_dating::config::DEV_APP;
use example_dating::db::entity::rooms::operator_token;
use example_dating::db::entity::safety::{audit_log, report};
use example_dating::db::entity::users::user_info;
use example_dating::store::MemoryStore;
use http::Method;
use nginx::{Process, ready};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_bans_from_a_report_in_chromium_and_the_audit_log_has_it() {
    let (Some(chromium), Some(axe)) = (setting("KOTORI_TEST_CHROMIUM"), setting("KOTORI_TEST_AXE"))
    else {
        eprintln!(
            "skipped: set KOTORI_TEST_CHROMIUM and KOTORI_TEST_AXE to run the console in a browser"
        );
        return;
    };
    let dir = TempDir::new("browser");
    let db_url = format!("sqlite://{}/dating.sqlite?mode=rwc", dir.0.display());
    let shots = setting("KOTORI_TEST_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.0.join("screenshots"));
    std::fs::create_dir_all(&shots).unwrap();

    // The data, written through the app in process on the same database file.
    let t = TestApp::with(
        common::config(),
        &db_url,
        std::sync::Arc::new(MemoryStore::new()),
    )
    .await;
    let all: Vec<&str> = example_dating::manage::operators::PRIVILEGES.to_vec();
    t.operator("alice-admin", "admin", &all).await;
    let host = t.operator("hana-host", "host", &[]).await;
    let other_host = t.operator("olga-host", "host", &[]).await;
    let live = t.create_live(&host, "evening talk").await;
    let other_live = t.create_live(&other_host, "not hana's").await;
    let (viewer, _) = t.user("13800000011").await;
    let reported_phone = "13800000012";
    let (_, reported) = t.user(reported_phone).await;
    let res = t
        .call(
            Method::POST,
            "/api/reports",
            &[("user_id", &reported.to_string()), ("reason", "spam")],
            Some(&viewer),
        )
        .await;
    let report_id = common::data(&res)["report_id"].as_i64().unwrap();

    let addr = format!("127.0.0.1:{}", common::free_port());
    let log = dir.0.join("server.log");
    let server = Process(
        Command::new(env!("CARGO_BIN_EXE_example-dating"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LISTEN", &addr)
            .env("DATABASE_URL", &db_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    ready(&addr, &log).await;

    let scenario = json!({
        "base": format!("http://{addr}"),
        "chromium": chromium,
        "axe": axe,
        "shots": shots,
        "password": "password-123",
        "admin": "alice-admin",
        "host": "hana-host",
        "live_id": live,
        "other_live_id": other_live,
        "reported_id": reported,
        "reported_phone": reported_phone,
        "report_id": report_id,
        "viewer_token": viewer,
        "appkey": DEV_APP.0,
        "appsecret": DEV_APP.1,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .env("KOTORI_BROWSER_SCENARIO", scenario.to_string())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "the browser script failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    drop(server);
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|r| serde_json::from_str(r).unwrap())
        .unwrap_or_else(|| panic!("no RESULT line:\n{stdout}"));
    println!("{stdout}");

    // Every page was checked and photographed.
    let checked: Vec<&str> = result["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for page in checked.iter() {
        assert!(shots.join(format!("{page}.png")).is_file(), "{page}");
    }
    assert_eq!(checked.len(), 12, "{checked:?}");

    // The database: the report resolved with a ban by the admin, the ban lifted afterwards
    // (with JavaScript off), the logged-out session gone — each action with its audit row.
    let db = &t.state.db;
    let row = report::Entity::find_by_id(report_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            row.status.as_str(),
            row.action.as_deref(),
            row.note.as_deref()
        ),
        ("resolved", Some("ban"), Some("confirmed in the browser"))
    );
    let user = user_info::Entity::find_by_id(reported)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !user.banned,
        "the ban was lifted from the page without JavaScript"
    );
    let token = result["logged_out_token"].as_str().unwrap().to_owned();
    assert!(
        operator_token::Entity::find_by_id(token)
            .one(db)
            .await
            .unwrap()
            .is_none(),
        "logout deleted the session"
    );
    // What the operators did in the browser (the command line's entries, which added them,
    // are `tests/operator_changes.rs`'s).
    let audit: Vec<(String, String, String, String)> = audit_log::Entity::find()
        .filter(audit_log::Column::OperatorId.ne(0))
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.operator_name, r.action, r.target, r.note))
        .collect();
    let expected = [
        (
            "hana-host",
            "live.create",
            format!("live:{live}"),
            "evening talk",
        ),
        (
            "olga-host",
            "live.create",
            format!("live:{other_live}"),
            "not hana's",
        ),
        (
            "alice-admin",
            "reports.resolve",
            format!("report:{report_id}"),
            "ban: confirmed in the browser",
        ),
        ("alice-admin", "users.unban", format!("user:{reported}"), ""),
    ]
    .map(|(a, b, c, d)| (a.to_owned(), b.to_owned(), c, d.to_owned()));
    assert_eq!(audit, expected);
}
