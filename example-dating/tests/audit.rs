//! The security policy, asserted on the tree itself.

mod common;

use common::TestApp;

#[tokio::test]
async fn every_api_route_but_sendsms_and_login_passes_the_token_guard() {
    let t = TestApp::new().await;
    t.app
        .audit()
        .under("/api")
        .except("/api/auth/sendsms")
        .except("/api/auth/login")
        .require("load_caller")
        .unwrap();
    t.app
        .audit()
        .under("/api")
        .require("verify_client_signature")
        .unwrap();
    t.app
        .audit()
        .under("/pay")
        .require("verify_payment_signature")
        .unwrap();
    // And the exceptions really are the only ones.
    let open: Vec<String> = t
        .app
        .audit()
        .under("/api")
        .filter(|r| !r.passes("load_caller"))
        .routes()
        .iter()
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(open, ["/api/auth/sendsms", "/api/auth/login"]);
}

#[tokio::test]
async fn every_vip_route_passes_the_vip_guard_and_resources_load_where_promised() {
    let t = TestApp::new().await;
    t.app
        .audit()
        .under("/api/vip")
        .require("require_vip")
        .unwrap();
    t.app
        .audit()
        .under("/api/users/{user_id}")
        .require("load_target")
        .unwrap();
    t.app
        .audit()
        .under("/api/orders/{order_id}")
        .require("load_own_order")
        .unwrap();
    t.app
        .audit()
        .under("/api/me/album/{photo_id}")
        .require("load_own_photo")
        .unwrap();
}

/// Every route but the three that need no database waits for its schema: a server whose
/// database was down at start answers 50301 there, never a request run against no tables.
#[tokio::test]
async fn every_route_that_uses_the_database_waits_for_its_schema() {
    let t = TestApp::new().await;
    let unguarded: Vec<String> = t
        .app
        .audit()
        .filter(|r| !r.passes("database_migrated"))
        .routes()
        .iter()
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(unguarded, ["/healthz", "/readyz", "/openapi.json"]);
}
