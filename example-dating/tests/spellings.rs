//! One thing, one spelling, whatever the database: MariaDB compares strings without case or
//! trailing spaces (`ROOT ` is `root`), SQLite and PostgreSQL do not. A token respelled in
//! capitals must not be a second session that a logout or a ban leaves working, and an
//! operator name respelled must not bring a fresh count of login failures. Each test runs on
//! SQLite, MariaDB and PostgreSQL.

mod common;

use std::sync::Arc;

use common::{TestApp, code};
use example_dating::db::entity::rooms::operator;
use http::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A user's token and an operator's, in capitals: unknown (40105) while the token as issued
/// works, and after it is logged out or its account banned.
async fn a_token_has_one_spelling(t: &TestApp) {
    let (token, user_id) = t.user("18900000101").await;
    let shouting = token.to_uppercase();
    assert_ne!(
        shouting, token,
        "a token has letters in it (or this test proves nothing)"
    );
    assert_eq!(
        code(&t.call(Method::GET, "/api/me", &[], Some(&token)).await),
        0
    );
    assert_eq!(
        code(&t.call(Method::GET, "/api/me", &[], Some(&shouting)).await),
        40105
    );
    // Before the fix, on MariaDB: the capitals opened the session, were cached apart, and
    // kept working after the logout below, until the cache forgot them.
    let logout = t
        .call(Method::POST, "/api/auth/logout", &[], Some(&token))
        .await;
    assert_eq!(code(&logout), 0);
    for token in [&token, &shouting] {
        assert_eq!(
            code(&t.call(Method::GET, "/api/me", &[], Some(token)).await),
            40105
        );
    }
    let (token, _) = t.user("18900000101").await;
    let shouting = token.to_uppercase();
    example_dating::people::account::ban(&t.state, user_id, "spam")
        .await
        .unwrap();
    for token in [&token, &shouting] {
        assert_eq!(
            code(&t.call(Method::GET, "/api/me", &[], Some(token)).await),
            40105
        );
    }

    let operator = t.operator("carol", "admin", &["users:read"]).await;
    let search = "/manage/dating/admin/api/users/search.json";
    assert_eq!(
        code(&t.manage(Method::GET, search, &[], Some(&operator)).await),
        0
    );
    let shouting = operator.to_uppercase();
    assert_ne!(shouting, operator);
    assert_eq!(
        code(&t.manage(Method::GET, search, &[], Some(&shouting)).await),
        40105
    );
}

/// Failed logins for every spelling the database matches to an operator count on that
/// operator; a spelling it does not match is a name nobody has.
async fn failures_count_per_operator(t: &TestApp) {
    t.operator("dave", "host", &[]).await;
    let id = operator::Entity::find()
        .filter(operator::Column::Name.eq("dave"))
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let spellings = ["dave", "DAVE", "Dave ", " dave", "dAvE"];
    let mut matched = 0;
    for (i, name) in spellings.iter().enumerate() {
        // Each from its own address: only the per-name count is at stake here.
        let res = t
            .app
            .client()
            .post("/manage/login.json")
            .peer(format!("198.51.100.{}:1", i + 1).parse().unwrap())
            .form(&[("name", *name), ("password", "wrong")])
            .send()
            .await;
        assert_eq!(code(&res), 40105, "{name:?}");
        // Whether this database opens dave's row for the name, as the login reads it.
        let found = operator::Entity::find()
            .filter(operator::Column::Name.eq(name.trim()))
            .one(&t.state.db)
            .await
            .unwrap();
        if found.is_some() {
            matched += 1;
        } else {
            let key = format!("oplogin:name:{}", name.trim().to_lowercase());
            assert!(t.state.store.get(&key).await.unwrap().is_some(), "{name:?}");
        }
    }
    let counted = t
        .state
        .store
        .get(&format!("oplogin:operator:{id}"))
        .await
        .unwrap();
    assert_eq!(counted, Some(matched.to_string()));
}

async fn spellings(url: String) {
    let t = Arc::new(
        TestApp::with(
            common::config(),
            &url,
            Arc::new(example_dating::store::MemoryStore::new()),
        )
        .await,
    );
    a_token_has_one_spelling(&t).await;
    failures_count_per_operator(&t).await;
}

#[tokio::test]
async fn one_spelling_on_sqlite() {
    let dir = common::TempDir::new("spellings");
    spellings(dir.sqlite_url()).await;
}

#[tokio::test]
async fn one_spelling_on_mariadb() {
    common::on_database_server(common::MARIADB, "one_spelling_on_mariadb", spellings).await;
}

#[tokio::test]
async fn one_spelling_on_postgres() {
    common::on_database_server(common::POSTGRES, "one_spelling_on_postgres", spellings).await;
}
