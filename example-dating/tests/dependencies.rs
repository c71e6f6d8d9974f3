//! Dependency failures: a store or database that fails gives 50301 and leaves nothing
//! half-written; the server fails closed, never serving an unchecked request.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{TestApp, code};
use example_dating::store::{Near, Ranking, Store, StoreError};
use http::Method;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};

/// A store that is down.
struct DownStore;

fn down<T>() -> Result<T, StoreError> {
    Err(StoreError("connection refused".into()))
}

#[async_trait]
impl Store for DownStore {
    async fn set_nx(&self, _: &str, _: &str, _: Duration) -> Result<bool, StoreError> {
        down()
    }
    async fn set(&self, _: &str, _: &str, _: Duration) -> Result<(), StoreError> {
        down()
    }
    async fn get(&self, _: &str) -> Result<Option<String>, StoreError> {
        down()
    }
    async fn del(&self, _: &str) -> Result<bool, StoreError> {
        down()
    }
    async fn incr(&self, _: &str, _: Duration) -> Result<i64, StoreError> {
        down()
    }
    async fn ttl(&self, _: &str) -> Result<Option<Duration>, StoreError> {
        down()
    }
    async fn geo_add(&self, _: &str, _: &str, _: f64, _: f64) -> Result<(), StoreError> {
        down()
    }
    async fn geo_search(
        &self,
        _: &str,
        _: f64,
        _: f64,
        _: f64,
        _: usize,
    ) -> Result<Vec<Near>, StoreError> {
        down()
    }
    async fn geo_position(&self, _: &str, _: &str) -> Result<Option<(f64, f64)>, StoreError> {
        down()
    }
    async fn geo_remove(&self, _: &str, _: &str) -> Result<(), StoreError> {
        down()
    }
    async fn rank_hit(&self, _: &Ranking, _: i64, _: i64, _: i64) -> Result<(), StoreError> {
        down()
    }
    async fn rank_load(
        &self,
        _: &Ranking,
        _: &[(i64, i64, i64)],
        _: i64,
    ) -> Result<(), StoreError> {
        down()
    }
    async fn rank_boost(&self, _: &Ranking, _: i64, _: i64, _: i64) -> Result<(), StoreError> {
        down()
    }
    async fn rank_expire(
        &self,
        _: &Ranking,
        _: i64,
        _: i64,
        _: usize,
    ) -> Result<usize, StoreError> {
        down()
    }
    async fn rank_range(&self, _: &Ranking, _: usize, _: usize) -> Result<Vec<i64>, StoreError> {
        down()
    }
    async fn rank_clear(&self, _: &Ranking) -> Result<(), StoreError> {
        down()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        down()
    }
    fn name(&self) -> &'static str {
        "down"
    }
}

#[tokio::test]
async fn a_store_that_is_down_fails_closed_with_50301() {
    let t = TestApp::with(common::config(), "sqlite::memory:", Arc::new(DownStore)).await;
    // A correctly signed request cannot be checked for replay: refused, not let through.
    let res = t
        .call(
            Method::POST,
            "/api/auth/sendsms",
            &[("phone", "18922986865")],
            None,
        )
        .await;
    assert_eq!(code(&res), 50301);
    let res = t.app.client().get("/readyz").send().await;
    assert_eq!(code(&res), 50301);
    assert!(res.text().contains("down unavailable"), "{}", res.text());
    // Liveness does not depend on the store.
    assert_eq!(code(&t.app.client().get("/healthz").send().await), 0);
}

#[tokio::test]
async fn a_failed_registration_writes_nothing() {
    let t = TestApp::new().await;
    // The identity insert fails half-way through registration (after the profile row).
    t.state
        .db
        .execute_unprepared("CREATE TRIGGER fail_identity BEFORE INSERT ON user_auth BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
        .await
        .unwrap();
    let sms = t.send_code("18922986865").await;
    let res = t
        .call(
            Method::POST,
            "/api/auth/login",
            &[("phone", "18922986865"), ("code", &sms)],
            None,
        )
        .await;
    assert_eq!(code(&res), 50301);
    use example_dating::db::entity::users::user_info;
    assert_eq!(
        user_info::Entity::find().count(&t.state.db).await.unwrap(),
        0,
        "the profile was rolled back"
    );
}

#[tokio::test]
async fn a_database_failure_is_50301_not_a_500() {
    let t = TestApp::new().await;
    t.state
        .db
        .execute_unprepared("DROP TABLE user_token")
        .await
        .unwrap();
    let bogus = "0123456789abcdef0123456789abcdef";
    let res = t
        .call(Method::POST, "/api/auth/logout", &[], Some(bogus))
        .await;
    assert_eq!(code(&res), 50301);
}
