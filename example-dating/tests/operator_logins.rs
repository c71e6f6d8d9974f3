//! Operator logins under attack (docs/src/dating/api/console.md): guessing is limited per
//! client address and slowed per name, and nobody can lock an operator out.

mod common;

use std::time::Duration;

use common::{TestApp, code};
use example_dating::db::entity::rooms::operator;
use example_dating::manage::session::{FAILURES_PER_CLIENT, FREE_FAILURES_PER_NAME, slow_down};
use sea_orm::EntityTrait;

async fn login(t: &TestApp, name: &str, password: &str, peer: &str) -> kotori::test::TestResponse {
    t.app
        .client()
        .post("/manage/login.json")
        .peer(peer.parse().unwrap())
        .form(&[("name", name), ("password", password)])
        .send()
        .await
}

/// Wrong passwords for a name from many addresses never lock its operator out: the right
/// password from an address that has not been failing still logs in.
#[tokio::test]
async fn nobody_can_lock_an_operator_out() {
    let t = TestApp::new().await;
    t.operator("alice", "admin", &[]).await;
    // Past the free failures (each later try slowed), from a new address each time.
    for i in 0..FREE_FAILURES_PER_NAME + 3 {
        let peer = format!("198.51.100.{}:1", i + 1);
        assert_eq!(
            code(&login(&t, "alice", "guess", &peer).await),
            40105,
            "try {i}"
        );
    }
    // The failures were counted on alice (docs/src/dating/api/console.md).
    let alice = operator::Entity::find()
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    let key = format!("oplogin:operator:{}", alice.id);
    let failures = (FREE_FAILURES_PER_NAME + 3).to_string();
    assert_eq!(t.state.store.get(&key).await.unwrap(), Some(failures));
    let res = login(&t, "alice", "password-123", "192.0.2.200:1").await;
    assert_eq!(code(&res), 0, "the operator logs in");
    // And the success cleared the count: the next try starts again at one.
    let res = login(&t, "alice", "guess", "198.51.100.99:1").await;
    assert_eq!(code(&res), 40105);
    assert_eq!(t.state.store.get(&key).await.unwrap(), Some("1".into()));
}

/// An address that keeps failing — over any names — is refused (42901, with the window's time
/// left), the right password included; other addresses are not concerned.
#[tokio::test]
async fn an_address_that_keeps_failing_is_refused() {
    let t = TestApp::new().await;
    t.operator("bob", "host", &[]).await;
    for i in 0..FAILURES_PER_CLIENT {
        let name = format!("nobody{i}");
        assert_eq!(
            code(&login(&t, &name, "guess", "203.0.113.7:1").await),
            40105
        );
    }
    let refused = login(&t, "bob", "password-123", "203.0.113.7:1").await;
    assert_eq!(code(&refused), 42901);
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry), "{retry}");
    assert_eq!(
        code(&login(&t, "bob", "password-123", "192.0.2.9:1").await),
        0
    );
}

#[test]
fn a_name_under_attack_is_slowed_not_locked() {
    for free in 0..FREE_FAILURES_PER_NAME {
        assert_eq!(slow_down(free), None);
    }
    let waits: Vec<u128> = (FREE_FAILURES_PER_NAME..FREE_FAILURES_PER_NAME + 7)
        .map(|n| slow_down(n).unwrap().as_millis())
        .collect();
    assert_eq!(waits, [200, 400, 800, 1600, 3000, 3000, 3000]);
    assert_eq!(slow_down(i64::MAX), Some(Duration::from_secs(3)));
}
