//! Operator logins under attack (docs/src/dating/api/console.md): failures limited per name and per client address.

mod common;

use common::{TestApp, code};

/// Operator passwords cannot be guessed without limit: five failures for a name, or twenty
/// from one address, in fifteen minutes, and logins are 42901 until the window passes.
#[tokio::test]
async fn failed_operator_logins_are_limited_per_name_and_per_client() {
    let t = TestApp::new().await;
    t.operator("alice", "admin", &[]).await;
    let login = |name: &'static str, password: &'static str, peer: &'static str| {
        let t = &t;
        async move {
            t.app
                .client()
                .post("/manage/login.json")
                .peer(peer.parse().unwrap())
                .form(&[("name", name), ("password", password)])
                .send()
                .await
        }
    };
    for _ in 0..5 {
        assert_eq!(
            code(&login("alice", "guess", "198.51.100.1:1").await),
            40105
        );
    }
    let locked = login("alice", "password-123", "198.51.100.2:1").await;
    assert_eq!(
        code(&locked),
        42901,
        "even the right password, from anywhere"
    );
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry), "{retry}");

    // Twenty failures from one address, over many names, lock that address out.
    for i in 0..20 {
        let name: &'static str = Box::leak(format!("nobody{i}").into_boxed_str());
        assert_eq!(code(&login(name, "guess", "203.0.113.7:1").await), 40105);
    }
    assert_eq!(
        code(&login("somebody", "guess", "203.0.113.7:1").await),
        42901
    );
    // Another address is not concerned, and a success clears a name's count.
    t.operator("bob", "host", &[]).await;
    assert_eq!(code(&login("bob", "guess", "192.0.2.9:1").await), 40105);
    assert_eq!(code(&login("bob", "password-123", "192.0.2.9:1").await), 0);
    for _ in 0..4 {
        assert_eq!(code(&login("bob", "guess", "192.0.2.9:1").await), 40105);
    }
    assert_eq!(
        code(&login("bob", "password-123", "192.0.2.9:1").await),
        0,
        "4 after a success"
    );
}
