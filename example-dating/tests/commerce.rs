//! docs/src/dating/api/vip.md: products, orders, VIP, and the idempotent payment notice.

mod common;

use std::sync::Arc;

use common::{TestApp, code, data};
use http::Method;
use serde_json::Value;

async fn order(t: &TestApp, token: &str, product: &str) -> Value {
    data(
        &t.call(
            Method::POST,
            "/api/orders",
            &[("product_id", product)],
            Some(token),
        )
        .await,
    )
}

#[tokio::test]
async fn products_orders_and_their_owner() {
    let t = TestApp::new().await;
    let (alice, _) = t.user("18900000001").await;
    let (bob, _) = t.user("18900000002").await;
    let products = data(
        &t.call(Method::GET, "/api/products", &[], Some(&alice))
            .await,
    );
    let names: Vec<&str> = products["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["month", "quarter", "year"]);
    assert_eq!(products["list"][0]["price"], 30.0);
    assert_eq!(products["list"][2]["vip_time"], 365);

    let o = order(&t, &alice, "1").await;
    assert_eq!(
        (
            o["pay"].as_i64(),
            o["fee"].as_f64(),
            o["product_name"].as_str()
        ),
        (Some(0), Some(30.0), Some("month"))
    );
    assert!(o["trade_no"].as_str().unwrap().starts_with('T'));
    let show = format!("/api/orders/{}/show", o["order_id"]);
    assert_eq!(
        data(&t.call(Method::GET, &show, &[], Some(&alice)).await)["trade_no"],
        o["trade_no"]
    );
    assert_eq!(
        code(&t.call(Method::GET, &show, &[], Some(&bob)).await),
        40401,
        "someone else's order"
    );
    assert_eq!(
        code(
            &t.call(
                Method::POST,
                "/api/orders",
                &[("product_id", "99")],
                Some(&alice)
            )
            .await
        ),
        40401,
        "an unknown product, like an unknown id in a path"
    );
    assert_eq!(
        code(&t.call(Method::POST, "/api/orders", &[], Some(&alice)).await),
        40001
    );

    let cancel = format!("/api/orders/{}/cancel", o["order_id"]);
    assert_eq!(
        code(&t.call(Method::POST, &cancel, &[], Some(&bob)).await),
        40401
    );
    assert_eq!(
        data(&t.call(Method::POST, &cancel, &[], Some(&alice)).await)["pay"],
        2
    );
    let res = t
        .pay(&[
            ("trade_no", o["trade_no"].as_str().unwrap()),
            ("fee", "30"),
            ("status", "SUCCESS"),
        ])
        .await;
    assert_eq!(code(&res), 40901, "a cancelled order cannot be paid");
}

#[tokio::test]
async fn ten_concurrent_identical_notices_extend_vip_exactly_once() {
    let t = Arc::new(TestApp::new().await);
    let (alice, alice_id) = t.user("18900000001").await;
    assert_eq!(
        data(&t.call(Method::GET, "/api/me/vip", &[], Some(&alice)).await)["is_vip"],
        false
    );
    let o = order(&t, &alice, "1").await;
    let trade_no = o["trade_no"].as_str().unwrap().to_owned();
    let mut notices = Vec::new();
    for fee in [
        "30", "30.0", "30.00", "30.000", "30", "30", "30", "30", "30", "30",
    ] {
        let t = t.clone();
        let trade_no = trade_no.clone();
        notices.push(tokio::spawn(async move {
            code(
                &t.pay(&[("trade_no", &trade_no), ("fee", fee), ("status", "SUCCESS")])
                    .await,
            )
        }));
    }
    for notice in notices {
        assert_eq!(notice.await.unwrap(), 0, "every notice is acknowledged");
    }
    let vip = data(&t.call(Method::GET, "/api/me/vip", &[], Some(&alice)).await);
    assert_eq!(vip["is_vip"], true);
    let deadline = example_dating::commerce::vip::deadline(&t.state.db, alice_id)
        .await
        .unwrap()
        .unwrap();
    let expected = example_dating::clock::now() + 30 * 86_400;
    assert!(
        (deadline - expected).abs() <= 5,
        "extended once by 30 days: {deadline} vs {expected}"
    );
    let show = format!("/api/orders/{}/show", o["order_id"]);
    assert_eq!(
        data(&t.call(Method::GET, &show, &[], Some(&alice)).await)["pay"],
        1
    );
    let cancel = format!("/api/orders/{}/cancel", o["order_id"]);
    assert_eq!(
        code(&t.call(Method::POST, &cancel, &[], Some(&alice)).await),
        40901,
        "a paid order cannot be cancelled"
    );

    // A second order extends from the current deadline, not from now.
    let o2 = order(&t, &alice, "2").await;
    assert_eq!(
        code(
            &t.pay(&[
                ("trade_no", o2["trade_no"].as_str().unwrap()),
                ("fee", "78.00"),
                ("status", "SUCCESS")
            ])
            .await
        ),
        0
    );
    let extended = example_dating::commerce::vip::deadline(&t.state.db, alice_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(extended, deadline + 90 * 86_400);
}

#[tokio::test]
async fn a_wrong_fee_or_unknown_trade_changes_nothing() {
    let t = TestApp::new().await;
    let (alice, alice_id) = t.user("18900000001").await;
    let o = order(&t, &alice, "1").await;
    let trade_no = o["trade_no"].as_str().unwrap();
    for (fee, expected) in [("29.99", 40002), ("30.001", 40002), ("abc", 40002)] {
        assert_eq!(
            code(
                &t.pay(&[("trade_no", trade_no), ("fee", fee), ("status", "SUCCESS")])
                    .await
            ),
            expected,
            "{fee}"
        );
    }
    assert_eq!(
        code(
            &t.pay(&[("trade_no", "T-none"), ("fee", "30"), ("status", "SUCCESS")])
                .await
        ),
        40401,
        "an unknown trade number"
    );
    assert_eq!(
        code(&t.pay(&[("trade_no", trade_no), ("fee", "30")]).await),
        40001
    );
    assert_eq!(
        code(
            &t.pay(&[("trade_no", trade_no), ("fee", "30"), ("status", "CLOSED")])
                .await
        ),
        0,
        "acknowledged, ignored"
    );
    assert_eq!(
        example_dating::commerce::vip::deadline(&t.state.db, alice_id)
            .await
            .unwrap(),
        None
    );
    let show = format!("/api/orders/{}/show", o["order_id"]);
    assert_eq!(
        data(&t.call(Method::GET, &show, &[], Some(&alice)).await)["pay"],
        0
    );
}

/// A payment that arrives after the buyer erased their account is the order's (paid, for
/// accounting) but brings no membership back: the erasure deleted it.
#[tokio::test]
async fn a_payment_after_the_buyers_erasure_pays_the_order_and_makes_no_member() {
    use example_dating::db::entity::commerce::{user_order, vip_info};
    use sea_orm::EntityTrait;
    let t = TestApp::new().await;
    let (token, user_id) = t.user("18900000501").await;
    let (trade_no, fee) = t.order_vip(&token).await;
    let erased = t
        .call(Method::POST, "/api/me/delete", &[], Some(&token))
        .await;
    assert_eq!(code(&erased), 0);
    let notice = [
        ("trade_no", trade_no.as_str()),
        ("fee", fee.as_str()),
        ("status", "SUCCESS"),
    ];
    assert_eq!(code(&t.pay(&notice).await), 0);
    let orders = user_order::Entity::find().all(&t.state.db).await.unwrap();
    assert_eq!(
        orders.iter().map(|o| o.pay).collect::<Vec<_>>(),
        [1],
        "the order is paid"
    );
    let member = vip_info::Entity::find_by_id(user_id)
        .one(&t.state.db)
        .await
        .unwrap();
    assert_eq!(member, None, "an erased account became a member again");
    // A repeat of the notice changes nothing either.
    assert_eq!(code(&t.pay(&notice).await), 0);
    assert!(
        vip_info::Entity::find_by_id(user_id)
            .one(&t.state.db)
            .await
            .unwrap()
            .is_none()
    );
}
