//! The console's user search and the totals of long lists, on SQLite, MariaDB and PostgreSQL
//! (each server backend on a database of its own, dropped afterwards; skipped, and said so,
//! without its URL): what `q` matches, in which order, and how far a request counts.

mod common;

use common::{TestApp, data};
use http::Method;

/// One page of the admin search for `q`: the user ids in order, `total` and `has_next`.
async fn search(
    t: &TestApp,
    admin: &str,
    q: &str,
    page: &str,
    size: &str,
) -> (Vec<i64>, serde_json::Value, serde_json::Value) {
    let res = t
        .manage(
            Method::GET,
            "/manage/dating/admin/api/users/search.json",
            &[("q", q), ("page", page), ("pageCount", size)],
            Some(admin),
        )
        .await;
    let answer = data(&res);
    let ids = answer["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_i64().unwrap())
        .collect();
    (ids, answer["total"].clone(), answer["has_next"].clone())
}

async fn exercise(url: String) {
    let t = TestApp::on(&url).await;
    let admin = t.operator("searcher", "admin", &["users:read"]).await;
    wildcards_are_characters(&t, &admin).await;
    exact_matches_come_first_then_nicknames_in_order(&t, &admin).await;
    a_long_list_is_counted_by_the_request_only_to_its_deepest_page(&t, &admin).await;
}

/// `q` is the start of a nickname, ASCII case aside: `%` and `_` match themselves.
async fn wildcards_are_characters(t: &TestApp, admin: &str) {
    let (_, percent) = t.user("18900000031").await;
    let (_, under) = t.user("18900000032").await;
    let (_, plain) = t.user("18900000033").await;
    for (id, nickname) in [
        (percent, "50%off"),
        (under, "snake_case"),
        (plain, "50 off xcase"),
    ] {
        t.set_profile(id, |row| row.nickname = sea_orm::Set(nickname.into()))
            .await;
    }
    for (q, expected) in [
        ("50%", vec![percent]),
        ("%", vec![]),
        ("snake_", vec![under]),
        ("snake%", vec![]),
        ("SNAKE_C", vec![under]),
        ("50", vec![plain, percent]),
    ] {
        let (found, ..) = search(t, admin, q, "1", "10").await;
        assert_eq!(found, expected, "q={q}");
    }
}

/// The user `q` names exactly (by id or phone) comes first, once, then the nicknames starting
/// with `q` in the order of their search keys, paged across both.
async fn exact_matches_come_first_then_nicknames_in_order(t: &TestApp, admin: &str) {
    let (_, a) = t.user("18900000041").await;
    let (_, b) = t.user("18900000042").await;
    let (_, c) = t.user("18900000043").await;
    // Every nickname starts with `a`'s id, `a`'s own too.
    for (id, tail) in [(a, "z"), (b, "b"), (c, "a")] {
        t.set_profile(id, |row| row.nickname = sea_orm::Set(format!("{a}{tail}")))
            .await;
    }
    let q = a.to_string();
    assert_eq!(
        search(t, admin, &q, "1", "10").await,
        (vec![a, c, b], 3.into(), false.into())
    );
    assert_eq!(
        search(t, admin, &q, "1", "2").await,
        (vec![a, c], 3.into(), true.into())
    );
    assert_eq!(
        search(t, admin, &q, "2", "2").await,
        (vec![b], 3.into(), false.into())
    );
}

/// A list longer than its deepest page (a search matching 1,200 people) is counted by the
/// request only to item 1,001 — the statement stops there on every backend — and its full
/// total follows from the one count kept for that query, made off the request path.
async fn a_long_list_is_counted_by_the_request_only_to_its_deepest_page(t: &TestApp, admin: &str) {
    use example_dating::db::entity::users::user_info;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let filled = example_dating::demo::fill(&t.state.db, Some(&*t.state.store), 1_200)
        .await
        .unwrap();
    assert_eq!(filled, 1_200);
    // Every demo user's nickname starts alike for the search (demo nicknames are `Ming1234`...).
    user_info::Entity::update_many()
        .col_expr(
            user_info::Column::SearchKey,
            Expr::value(b"longlist".to_vec()),
        )
        .filter(user_info::Column::Phone.starts_with("+86199"))
        .exec(&t.state.db)
        .await
        .unwrap();
    let (first, total, has_next) = search(t, admin, "LongList", "1", "50").await;
    assert_eq!(total, 1_001, "the request counts to 1,001");
    assert_eq!(has_next, true);
    assert_eq!(first.len(), 50);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while search(t, admin, "LongList", "1", "50").await.1 != 1_200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the kept total never reached 1,200"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (deepest, total, _) = search(t, admin, "LongList", "20", "50").await;
    assert_eq!(deepest.len(), 50, "the 1,000th item is reachable");
    assert_eq!(total, 1_200);
}

#[tokio::test]
async fn the_admin_search_on_sqlite() {
    exercise("sqlite::memory:".to_owned()).await;
}

#[tokio::test]
async fn the_admin_search_on_mariadb() {
    common::on_database_server(common::MARIADB, "the_admin_search_on_mariadb", exercise).await;
}

#[tokio::test]
async fn the_admin_search_on_postgres() {
    common::on_database_server(common::POSTGRES, "the_admin_search_on_postgres", exercise).await;
}
