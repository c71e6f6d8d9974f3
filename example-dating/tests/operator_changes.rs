//! What the command line changes about an operator (docs/src/dating/console.md, "Operators"):
//! disabled, enabled, a new password, new privileges, sessions ended — each holds from the
//! operator's next request, whatever the console served them before; on SQLite, MariaDB and
//! PostgreSQL (each server on a database of its own, dropped afterwards; skipped, and said so,
//! without its URL). An existing database gets the new column with every operator enabled.

mod common;

use common::{TestApp, code};
use example_dating::manage::operators::Operator;
use example_dating::manage::{roster, session};
use http::Method;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

const SEARCH: &str = "/manage/dating/admin/api/users/search.json";
const PASSWORD: &str = "password-123";

/// The code of `POST /manage/login.json` for `name` and `password`, and the token if any.
async fn login(t: &TestApp, name: &str, password: &str) -> (i64, Option<String>) {
    login_from(t, name, password, None).await
}

/// [`login`] from the client address `peer`, if given.
async fn login_from(
    t: &TestApp,
    name: &str,
    password: &str,
    peer: Option<std::net::SocketAddr>,
) -> (i64, Option<String>) {
    let mut req = t.app.client().post("/manage/login.json");
    if let Some(peer) = peer {
        req = req.peer(peer);
    }
    let res = req
        .form(&[("name", name), ("password", password)])
        .send()
        .await;
    let token = res.json::<serde_json::Value>()["data"]["token"]
        .as_str()
        .map(str::to_owned);
    (code(&res), token)
}

/// `name` as the console's loader would find them now (what an open feed started with).
async fn operator_now(db: &DatabaseConnection, name: &str) -> Operator {
    let rows = roster::list(db).await.unwrap();
    Operator::from_row(rows.iter().find(|op| op.name == name).unwrap())
}

/// The code of an admin search with `token`.
async fn search(t: &TestApp, token: &str) -> i64 {
    code(
        &t.manage(Method::GET, SEARCH, &[("q", "x")], Some(token))
            .await,
    )
}

async fn exercise(t: TestApp) {
    let db = &t.state.db;
    let token = t.operator("alice", "admin", &["users:read"]).await;
    let scraper = roster::issue_token(db, "alice", 1).await.unwrap().0;
    // Served once (a cache, if any, holds the session now), then changed behind its back.
    assert_eq!(search(&t, &token).await, 0);
    assert_eq!(search(&t, &scraper).await, 0);

    // A session's row deleted by hand ends it at the next request.
    execute(
        db,
        &format!("DELETE FROM operator_token WHERE token = '{scraper}'"),
    )
    .await;
    assert_eq!(
        search(&t, &scraper).await,
        40105,
        "a deleted token works no more"
    );
    assert_eq!(search(&t, &token).await, 0, "the other session goes on");

    // Disabled: every session ends, the right password is refused like a wrong one, and the
    // command line issues no token.
    let disabled = roster::disable(db, "alice").await.unwrap();
    assert!(disabled.disabled);
    assert_eq!(search(&t, &token).await, 40105);
    assert_eq!(login(&t, "alice", PASSWORD).await.0, 40105);
    assert!(roster::issue_token(db, "alice", 1).await.is_err());
    let listed = roster::list(db).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|op| (op.name.as_str(), op.disabled))
            .collect::<Vec<_>>(),
        [("alice", true)]
    );

    // Enabled again: the password logs in; the ended sessions stay ended.
    roster::enable(db, "alice").await.unwrap();
    assert_eq!(search(&t, &token).await, 40105);
    let (ok, token) = login(&t, "alice", PASSWORD).await;
    assert_eq!(ok, 0);
    let token = token.unwrap();
    assert_eq!(search(&t, &token).await, 0);

    // New privileges hold from the next request; the session goes on. A feed open since
    // before (one long request: the tree's guards ran at its start) ends at its next check,
    // and opened again the tree decides afresh.
    let feed_opened_as = operator_now(db, "alice").await;
    assert!(session::unchanged(&t.state, &token, &feed_opened_as).await);
    roster::set_privileges(db, "alice", &["live:read".into()])
        .await
        .unwrap();
    assert_eq!(search(&t, &token).await, 40301, "users:read taken away");
    assert!(
        !session::unchanged(&t.state, &token, &feed_opened_as).await,
        "an open feed ends when its operator's privileges change"
    );
    roster::set_privileges(db, "alice", &["users:read".into(), "users:read".into()])
        .await
        .unwrap();
    assert_eq!(search(&t, &token).await, 0, "given back, same session");
    assert!(session::unchanged(&t.state, &token, &feed_opened_as).await);

    // A new password ends every session; the old password fails, the new one logs in.
    let scraper = roster::issue_token(db, "alice", 1).await.unwrap().0;
    roster::set_password(db, "alice", "another-password")
        .await
        .unwrap();
    assert_eq!(search(&t, &token).await, 40105);
    assert_eq!(search(&t, &scraper).await, 40105);
    assert!(!session::unchanged(&t.state, &token, &feed_opened_as).await);
    assert_eq!(login(&t, "alice", PASSWORD).await.0, 40105);
    let token = login(&t, "alice", "another-password").await.1.unwrap();

    // Logged out from the command line: every session and token ends, the operator does not.
    let scraper = roster::issue_token(db, "alice", 1).await.unwrap().0;
    roster::end_sessions(db, "alice").await.unwrap();
    assert_eq!(search(&t, &token).await, 40105);
    assert_eq!(search(&t, &scraper).await, 40105);
    assert_eq!(login(&t, "alice", "another-password").await.0, 0);

    // Errors name what to fix, and change nothing.
    t.operator("hank", "host", &[]).await;
    for (result, expected) in [
        (roster::disable(db, "nobody").await.err(), "nobody"),
        (
            roster::set_privileges(db, "hank", &["users:read".into()])
                .await
                .err(),
            "--privileges",
        ),
        (
            roster::set_privileges(db, "alice", &["users:eat".into()])
                .await
                .err(),
            "--privileges",
        ),
        (
            roster::set_password(db, "alice", "short").await.err(),
            "8 characters",
        ),
    ] {
        let err = result.expect("refused");
        assert!(err.contains(expected), "{err}");
    }
    assert_eq!(login(&t, "alice", "another-password").await.0, 0);

    // Each change is in the audit log, by the command line, in the order made (a refused one
    // wrote nothing).
    use example_dating::db::entity::safety::audit_log;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let rows = audit_log::Entity::find()
        .filter(audit_log::Column::Target.eq(format!("operator:{}", disabled.id)))
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await
        .unwrap();
    let logged: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.operator_name.as_str(), r.action.as_str()))
        .collect();
    let by = example_dating::manage::audit::COMMAND_LINE;
    assert_eq!(
        logged,
        [
            "operators.add",
            "operators.token",
            "operators.disable",
            "operators.enable",
            "operators.privileges",
            "operators.privileges",
            "operators.token",
            "operators.password",
            "operators.token",
            "operators.logout",
        ]
        .map(|action| (by, action))
    );
    assert_eq!(rows[5].note, "users:read", "the privileges set, each once");
    // The console lists them by operator 0.
    let auditor = t.operator("auditor", "admin", &["audit:read"]).await;
    let listed = t
        .manage(
            Method::GET,
            "/manage/dating/admin/api/audit/list.json",
            &[("operator_id", "0"), ("pageCount", "50")],
            Some(&auditor),
        )
        .await;
    let listed = common::data(&listed);
    assert_eq!(
        listed["total"],
        rows.len() + 2,
        "hank's and the auditor's additions too"
    );
    assert!(
        rows.iter().all(|r| !r.note.contains(&scraper)),
        "no token written down"
    );
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
}

#[tokio::test]
async fn command_line_changes_hold_from_the_next_request_on_sqlite() {
    exercise(TestApp::new().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_changes_hold_from_the_next_request_on_postgres() {
    common::on_database_server(
        common::POSTGRES,
        "operator changes on postgres",
        |url| async move {
            exercise(TestApp::on(&url).await).await;
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_changes_hold_from_the_next_request_on_mariadb() {
    common::on_database_server(
        common::MARIADB,
        "operator changes on mariadb",
        |url| async move {
            exercise(TestApp::on(&url).await).await;
        },
    )
    .await;
}

/// A database that fails is not the end of an open feed (its periodic check cannot tell, and
/// a hiccup must not close every console tab), while the requests it fails are refused
/// (50301: the console fails closed); once the database answers, the check goes on as before.
#[tokio::test]
async fn a_feed_s_check_outlives_a_database_that_fails() {
    let t = TestApp::new().await;
    let token = t.operator("alice", "admin", &["users:read"]).await;
    let opened_as = operator_now(&t.state.db, "alice").await;
    execute(&t.state.db, "ALTER TABLE operator_token RENAME TO gone").await;
    assert_eq!(search(&t, &token).await, 50301, "a request fails closed");
    assert!(
        session::unchanged(&t.state, &token, &opened_as).await,
        "a failed check does not end the feed"
    );
    execute(&t.state.db, "ALTER TABLE gone RENAME TO operator_token").await;
    assert!(session::unchanged(&t.state, &token, &opened_as).await);
    roster::end_sessions(&t.state.db, "alice").await.unwrap();
    assert!(!session::unchanged(&t.state, &token, &opened_as).await);
}

/// A login under way when its operator's password changes or the operator is disabled: the
/// session it opens, if any, is dead once both are done — the login checked the old password,
/// and a session opened with it must end with the others. Rounds of the two started a few
/// steps apart each way (`common::races`).
async fn a_login_racing_a_change(t: TestApp) {
    let t = std::sync::Arc::new(t);
    t.operator("alice", "admin", &["users:read"]).await;
    let mut password = PASSWORD.to_owned();
    let mut refused = 0;
    for round in 0..ROUNDS {
        let disabling = round % 2 == 1;
        let next = format!("password-{round}");
        let login = {
            let (t, password) = (t.clone(), password.clone());
            // An address of its own each round: the refused logins count as failures, and
            // ten from one address would lock it out.
            let peer =
                std::net::SocketAddr::from(([10, 0, (round >> 8) as u8, round as u8], 40_000));
            common::races::start(common::races::mix(round, 1), async move {
                login_from(&t, "alice", &password, Some(peer)).await
            })
        };
        let change = {
            let (db, next) = (t.state.db.clone(), next.clone());
            common::races::start(common::races::mix(round, 2), async move {
                if disabling {
                    roster::disable(&db, "alice").await.unwrap();
                } else {
                    roster::set_password(&db, "alice", &next).await.unwrap();
                }
            })
        };
        let (code, token) = login.await.unwrap();
        change.await.unwrap();
        if let Some(token) = token {
            assert_eq!(
                search(&t, &token).await,
                40105,
                "round {round}: a session opened with the old standing outlived the change"
            );
        } else {
            assert_eq!(code, 40105, "round {round}");
            refused += 1;
        }
        if disabling {
            roster::enable(&t.state.db, "alice").await.unwrap();
        } else {
            password = next;
        }
    }
    eprintln!("{refused} of {ROUNDS} logins refused, the rest ended by the change");
}

/// Rounds of [`a_login_racing_a_change`].
const ROUNDS: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_racing_a_change_never_outlives_it_on_sqlite() {
    a_login_racing_a_change(TestApp::new().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_racing_a_change_never_outlives_it_on_postgres() {
    common::on_database_server(
        common::POSTGRES,
        "login racing on postgres",
        |url| async move {
            a_login_racing_a_change(TestApp::on(&url).await).await;
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_racing_a_change_never_outlives_it_on_mariadb() {
    common::on_database_server(
        common::MARIADB,
        "login racing on mariadb",
        |url| async move {
            a_login_racing_a_change(TestApp::on(&url).await).await;
        },
    )
    .await;
}

/// A database migrated before the column existed gets it, every operator enabled.
#[tokio::test]
async fn an_existing_database_gets_the_column_with_everyone_enabled() {
    use example_dating::db::{self, Migrator};
    use sea_orm_migration::MigratorTrait;
    let conn = db::connect("sqlite::memory:").await.unwrap();
    Migrator::up(&conn, Some(7)).await.unwrap();
    // The first migration creates tables from today's entities: take the column away, as a
    // database from before it has none.
    execute(&conn, "ALTER TABLE operator DROP COLUMN disabled").await;
    execute(
        &conn,
        "INSERT INTO operator (name, role, privileges, password_hash, created_at) \
         VALUES ('old', 'admin', 'users:read', 'x', 0)",
    )
    .await;
    db::migrate(&conn).await.unwrap();
    let listed = roster::list(&conn).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|op| (op.name.as_str(), op.disabled))
            .collect::<Vec<_>>(),
        [("old", false)]
    );
}
