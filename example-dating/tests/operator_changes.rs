//! What the command line changes about an operator (docs/src/dating/console.md, "Operators"):
//! disabled, enabled, a new password, new privileges, sessions ended — each holds from the
//! operator's next request, whatever the console served them before; on SQLite, MariaDB and
//! PostgreSQL (each server on a database of its own, dropped afterwards; skipped, and said so,
//! without its URL). An existing database gets the new column with every operator enabled.

mod common;

use common::{TestApp, code};
use example_dating::manage::operators;
use http::Method;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

const SEARCH: &str = "/manage/dating/admin/api/users/search.json";
const PASSWORD: &str = "password-123";

/// The code of `POST /manage/login.json` for `name` and `password`, and the token if any.
async fn login(t: &TestApp, name: &str, password: &str) -> (i64, Option<String>) {
    let res = t
        .app
        .client()
        .post("/manage/login.json")
        .form(&[("name", name), ("password", password)])
        .send()
        .await;
    let token = res.json::<serde_json::Value>()["data"]["token"]
        .as_str()
        .map(str::to_owned);
    (code(&res), token)
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
    let scraper = operators::issue_token(db, "alice", 1).await.unwrap().0;
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
    let disabled = operators::disable(db, "alice").await.unwrap();
    assert!(disabled.disabled);
    assert_eq!(search(&t, &token).await, 40105);
    assert_eq!(login(&t, "alice", PASSWORD).await.0, 40105);
    assert!(operators::issue_token(db, "alice", 1).await.is_err());
    let listed = operators::list(db).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|op| (op.name.as_str(), op.disabled))
            .collect::<Vec<_>>(),
        [("alice", true)]
    );

    // Enabled again: the password logs in; the ended sessions stay ended.
    operators::enable(db, "alice").await.unwrap();
    assert_eq!(search(&t, &token).await, 40105);
    let (ok, token) = login(&t, "alice", PASSWORD).await;
    assert_eq!(ok, 0);
    let token = token.unwrap();
    assert_eq!(search(&t, &token).await, 0);

    // New privileges hold from the next request; the session goes on.
    operators::set_privileges(db, "alice", &["live:read".into()])
        .await
        .unwrap();
    assert_eq!(search(&t, &token).await, 40301, "users:read taken away");
    operators::set_privileges(db, "alice", &["users:read".into(), "users:read".into()])
        .await
        .unwrap();
    assert_eq!(search(&t, &token).await, 0, "given back, same session");

    // A new password ends every session; the old password fails, the new one logs in.
    let scraper = operators::issue_token(db, "alice", 1).await.unwrap().0;
    operators::set_password(db, "alice", "another-password")
        .await
        .unwrap();
    assert_eq!(search(&t, &token).await, 40105);
    assert_eq!(search(&t, &scraper).await, 40105);
    assert_eq!(login(&t, "alice", PASSWORD).await.0, 40105);
    let token = login(&t, "alice", "another-password").await.1.unwrap();

    // Logged out from the command line: every session and token ends, the operator does not.
    let scraper = operators::issue_token(db, "alice", 1).await.unwrap().0;
    operators::end_sessions(db, "alice").await.unwrap();
    assert_eq!(search(&t, &token).await, 40105);
    assert_eq!(search(&t, &scraper).await, 40105);
    assert_eq!(login(&t, "alice", "another-password").await.0, 0);

    // Errors name what to fix, and change nothing.
    t.operator("hank", "host", &[]).await;
    for (result, expected) in [
        (operators::disable(db, "nobody").await.err(), "nobody"),
        (
            operators::set_privileges(db, "hank", &["users:read".into()])
                .await
                .err(),
            "--privileges",
        ),
        (
            operators::set_privileges(db, "alice", &["users:eat".into()])
                .await
                .err(),
            "--privileges",
        ),
        (
            operators::set_password(db, "alice", "short").await.err(),
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
    let listed = operators::list(&conn).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|op| (op.name.as_str(), op.disabled))
            .collect::<Vec<_>>(),
        [("old", false)]
    );
}
