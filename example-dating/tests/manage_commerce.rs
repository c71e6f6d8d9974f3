//! docs/src/dating/api/console.md: the admin console's products and orders — writing the catalogue, listing and
//! filtering orders, and the list's cached totals.

mod common;

use common::{TestApp, code, data};
use http::Method;

#[tokio::test]
async fn admins_manage_products_and_list_orders() {
    let t = TestApp::new().await;
    let writer = t
        .operator(
            "writer",
            "admin",
            &["products:read", "products:write", "orders:read"],
        )
        .await;
    let reader = t.operator("reader", "admin", &["products:read"]).await;
    let create = "/manage/dating/admin/api/products/create.json";
    let new = [
        ("name", "week"),
        ("desc", "VIP for 7 days"),
        ("vip_time", "7"),
        ("price", "9.90"),
    ];
    assert_eq!(
        code(&t.manage(Method::POST, create, &new, Some(&reader)).await),
        40301
    );
    let product = data(&t.manage(Method::POST, create, &new, Some(&writer)).await);
    assert_eq!(
        (product["price"].as_f64(), product["vip_time"].as_i64()),
        (Some(9.9), Some(7))
    );
    for (field, value) in [("vip_time", "0"), ("price", "9.999"), ("name", "")] {
        let mut bad: Vec<(&str, &str)> = new.iter().copied().filter(|(k, _)| *k != field).collect();
        bad.push((field, value));
        assert!(
            matches!(
                code(&t.manage(Method::POST, create, &bad, Some(&writer)).await),
                40001 | 40002
            ),
            "{field}"
        );
    }
    let edit = format!(
        "/manage/dating/admin/api/products/{}/edit.json",
        product["product_id"]
    );
    let edited = data(
        &t.manage(
            Method::POST,
            &edit,
            &[("price", "8"), ("active", "false")],
            Some(&writer),
        )
        .await,
    );
    assert_eq!(
        (edited["price"].as_f64(), edited["active"].as_bool()),
        (Some(8.0), Some(false))
    );
    assert_eq!(
        code(&t.manage(Method::POST, &edit, &[], Some(&writer)).await),
        40001
    );
    assert_eq!(
        code(
            &t.manage(
                Method::POST,
                "/manage/dating/admin/api/products/999/edit.json",
                &[("price", "1")],
                Some(&writer)
            )
            .await
        ),
        40401
    );
    let all = data(
        &t.manage(
            Method::GET,
            "/manage/dating/admin/api/products/list.json",
            &[],
            Some(&reader),
        )
        .await,
    );
    assert_eq!(
        all["list"].as_array().unwrap().len(),
        4,
        "inactive products are listed for admins"
    );
    let (user_token, user) = t.user("18900000001").await;
    assert_eq!(
        data(
            &t.call(Method::GET, "/api/products", &[], Some(&user_token))
                .await
        )["list"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "but not sold"
    );

    for product_id in ["1", "2"] {
        let order = t
            .call(
                Method::POST,
                "/api/orders",
                &[("product_id", product_id)],
                Some(&user_token),
            )
            .await;
        assert_eq!(code(&order), 0, "product {product_id}");
    }
    let orders = "/manage/dating/admin/api/orders/list.json";
    let uid = user.to_string();
    let listed = data(
        &t.manage(
            Method::GET,
            orders,
            &[("user_id", &uid), ("pay", "0")],
            Some(&writer),
        )
        .await,
    );
    assert_eq!(listed["total"], 2);
    assert_eq!(
        data(
            &t.manage(Method::GET, orders, &[("pay", "1")], Some(&writer))
                .await
        )["total"],
        0
    );
    assert_eq!(
        code(
            &t.manage(Method::GET, orders, &[("pay", "3")], Some(&writer))
                .await
        ),
        40002
    );
}

/// The order list's totals are cached (counting every order is a scan at scale) and forgotten
/// by every change: an admin who just read a total sees the next order, payment and cancel.
#[tokio::test]
async fn the_order_list_totals_follow_every_change() {
    let t = TestApp::new().await;
    let admin = t.operator("root", "admin", &["orders:read"]).await;
    let (buyer, _) = t.user("18900000001").await;
    let totals = async || {
        let mut seen = Vec::new();
        for pay in [None, Some("0"), Some("1"), Some("2")] {
            let query: Vec<(&str, &str)> = pay.map(|p| ("pay", p)).into_iter().collect();
            let res = t
                .manage(
                    Method::GET,
                    "/manage/dating/admin/api/orders/list.json",
                    &query,
                    Some(&admin),
                )
                .await;
            seen.push(data(&res)["total"].as_i64().unwrap());
        }
        seen
    };
    // [all, unpaid, paid, cancelled]
    assert_eq!(totals().await, [0, 0, 0, 0]);
    t.buy_vip(&buyer).await;
    assert_eq!(totals().await, [1, 0, 1, 0]);
    let order = t
        .call(
            Method::POST,
            "/api/orders",
            &[("product_id", "1")],
            Some(&buyer),
        )
        .await;
    let unpaid = data(&order)["order_id"].as_i64().unwrap();
    assert_eq!(totals().await, [2, 1, 1, 0]);
    let cancel = format!("/api/orders/{unpaid}/cancel");
    assert_eq!(
        code(&t.call(Method::POST, &cancel, &[], Some(&buyer)).await),
        0
    );
    assert_eq!(totals().await, [2, 0, 1, 1]);
}
