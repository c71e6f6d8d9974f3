//! The nearby list: nearest first, within the radius, visible users only — the same users in
//! the same order whether the geo index is the in-process store or Redis.

mod common;

use std::sync::Arc;

use common::{TestApp, code, data};
use example_dating::store::{MemoryStore, RedisStore, Store};
use http::Method;
use sea_orm::Set;

/// Places users around (114.0, 22.5) and returns the nearby list's (ids, distances) for the
/// caller at the centre, plus what the errors answer.
async fn scenario(store: Arc<dyn Store>) -> Vec<(i64, f64)> {
    let t = TestApp::with(common::config(), "sqlite::memory:", store).await;
    let (me, _) = t.user("18900000000").await;
    t.call(
        Method::POST,
        "/api/me/location",
        &[("lat", "22.5"), ("lng", "114.0")],
        Some(&me),
    )
    .await;
    // (lat, visible): ~0.0, 1.1, 2.2, 3.3 km north, and one 55 km away; one hidden.
    let spots = [
        ("22.52", true),
        ("22.5", true),
        ("22.53", false),
        ("22.51", true),
        ("23.0", true),
    ];
    for (i, (lat, visible)) in spots.iter().enumerate() {
        let (token, id) = t.user(&format!("1890000001{i}")).await;
        let res = t
            .call(
                Method::POST,
                "/api/me/location",
                &[("lat", lat), ("lng", "114.0")],
                Some(&token),
            )
            .await;
        assert_eq!(code(&res), 0);
        if !visible {
            t.set_profile(id, |u| {
                u.authority = Set(example_dating::people::Authority::Hidden)
            })
            .await;
        }
    }
    // A user who moved away is found at the new place only.
    let list = data(
        &t.call(Method::GET, "/api/user/nearby/list", &[], Some(&me))
            .await,
    );
    assert_eq!(list["total"], 3, "{list}");
    let far = data(
        &t.call(
            Method::GET,
            "/api/user/nearby/list",
            &[("radius_km", "100")],
            Some(&me),
        )
        .await,
    );
    assert_eq!(far["total"], 4);
    let paged = data(
        &t.call(
            Method::GET,
            "/api/user/nearby/list",
            &[("pageCount", "2"), ("page", "2")],
            Some(&me),
        )
        .await,
    );
    assert_eq!(
        (
            paged["list"].as_array().unwrap().len(),
            paged["has_next"].as_bool()
        ),
        (1, Some(false))
    );
    let elsewhere = data(
        &t.call(
            Method::GET,
            "/api/user/nearby/list",
            &[("lat", "23.0"), ("lng", "114.0"), ("radius_km", "1")],
            Some(&me),
        )
        .await,
    );
    assert_eq!(elsewhere["total"], 1);
    for bad in [[("radius_km", "0")], [("radius_km", "101")], [("lat", "x")]] {
        let res = t
            .call(Method::GET, "/api/user/nearby/list", &bad, Some(&me))
            .await;
        assert!(matches!(code(&res), 40001 | 40002), "{bad:?}");
    }
    let (stranger, _) = t.user("18900000099").await;
    assert_eq!(
        code(
            &t.call(Method::GET, "/api/user/nearby/list", &[], Some(&stranger))
                .await
        ),
        40001,
        "no stored location"
    );
    list["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["user_id"].as_i64().unwrap(),
                u["distance_km"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn both_stores_return_the_same_users_in_the_same_order() {
    let memory = scenario(Arc::new(MemoryStore::new())).await;
    let ids: Vec<i64> = memory.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [3, 5, 2], "nearest first: {memory:?}");
    assert!(
        memory[0].1 < 0.01
            && (memory[1].1 - 1.112).abs() < 0.01
            && (memory[2].1 - 2.224).abs() < 0.01,
        "{memory:?}"
    );
    let Ok(url) = std::env::var("KOTORI_TEST_REDIS_URL") else {
        eprintln!("skipped the Redis half: KOTORI_TEST_REDIS_URL is not set");
        return;
    };
    let prefix = format!(
        "kotori-test:{}:{}:nearby:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let redis = Arc::new(RedisStore::connect(&url, &prefix).await.unwrap());
    let from_redis = scenario(redis.clone()).await;
    redis.clear().await.unwrap();
    redis.quit().await;
    assert_eq!(
        from_redis.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        ids
    );
    for ((_, a), (_, b)) in memory.iter().zip(&from_redis) {
        assert!(
            (a - b).abs() < 0.001,
            "distances agree: {memory:?} / {from_redis:?}"
        );
    }
}

/// The index is asked for a page plus a margin; when the people nearest the centre are hidden,
/// the search widens until the page is full, and paging stays right.
#[tokio::test]
async fn pages_fill_up_past_hidden_people_and_has_next_is_right() {
    let t = TestApp::new().await;
    let (me, _) = t.user("18900000000").await;
    let here = [("lat", "22.5"), ("lng", "114.0")];
    assert_eq!(
        code(
            &t.call(Method::POST, "/api/me/location", &here, Some(&me))
                .await
        ),
        0
    );
    let mut visible = Vec::new();
    // 40 hidden people within 400 m, then 5 visible ones from 1 km out.
    for i in 0..45 {
        let (token, id) = t.user(&format!("1880000{i:04}")).await;
        let lat = if i < 40 {
            22.5 + f64::from(i) * 1e-4
        } else {
            22.51 + f64::from(i) * 1e-3
        };
        let lat = lat.to_string();
        let spot = [("lat", lat.as_str()), ("lng", "114.0")];
        assert_eq!(
            code(
                &t.call(Method::POST, "/api/me/location", &spot, Some(&token))
                    .await
            ),
            0
        );
        if i < 40 {
            t.set_profile(id, |row| {
                row.authority = Set(example_dating::people::Authority::Hidden)
            })
            .await;
        } else {
            visible.push(id);
        }
    }
    let page = |n: &'static str| {
        let (t, me) = (&t, me.clone());
        async move {
            data(
                &t.call(
                    Method::GET,
                    "/api/user/nearby/list",
                    &[("page", n), ("pageCount", "3")],
                    Some(&me),
                )
                .await,
            )
        }
    };
    let first = page("1").await;
    let ids: Vec<i64> = first["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, visible[..3], "{first}");
    assert_eq!(first["has_next"], true);
    let second = page("2").await;
    let ids: Vec<i64> = second["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, visible[3..], "{second}");
    assert_eq!(
        (second["has_next"].as_bool(), second["total"].as_i64()),
        (Some(false), Some(5))
    );
}

/// Someone visible to contacts only is nearby to their contacts and to nobody else; whether the
/// caller is a contact is asked only about such people.
#[tokio::test]
async fn contacts_only_people_are_nearby_to_their_contacts_alone() {
    let t = TestApp::new().await;
    let here = [("lat", "22.5"), ("lng", "114.0")];
    let (me, my_id) = t.user("18900000000").await;
    let (stranger, _) = t.user("18900000001").await;
    let (friend, friend_id) = t.user("18900000002").await;
    for token in [&me, &stranger, &friend] {
        let res = t
            .call(Method::POST, "/api/me/location", &here, Some(token))
            .await;
        assert_eq!(code(&res), 0);
    }
    t.set_profile(friend_id, |u| {
        u.authority = Set(example_dating::people::Authority::Contacts)
    })
    .await;
    let nearby = |token: String| {
        let t = &t;
        async move {
            let list = data(
                &t.call(Method::GET, "/api/user/nearby/list", &[], Some(&token))
                    .await,
            );
            list["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["user_id"].as_i64().unwrap())
                .collect::<Vec<i64>>()
        }
    };
    assert!(!nearby(me.clone()).await.contains(&friend_id));
    // The friend writes to me: we are contacts now.
    let msg = t.message(&friend, my_id, "hi").await;
    assert_eq!(code(&msg), 0);
    assert!(nearby(me.clone()).await.contains(&friend_id));
    assert!(!nearby(stranger).await.contains(&friend_id));
    // A contact who is banned is nobody's neighbour.
    t.set_profile(friend_id, |u| u.banned = Set(true)).await;
    assert!(!nearby(me).await.contains(&friend_id));
}

/// A search from any valid latitude answers, on both stores: one from a pole starts at the
/// index's edge, where people placed at the pole are, so they find each other.
async fn polar(store: Arc<dyn Store>) {
    let t = TestApp::with(common::config(), "sqlite::memory:", store).await;
    let (north, north_id) = t.user("18900000100").await;
    let (south, south_id) = t.user("18900000101").await;
    let (me, _) = t.user("18900000102").await;
    for (token, lat) in [(&north, "90"), (&south, "-90")] {
        let placed = t
            .call(
                Method::POST,
                "/api/me/location",
                &[("lat", lat), ("lng", "0")],
                Some(token),
            )
            .await;
        assert_eq!(code(&placed), 0);
    }
    for (lat, expect) in [
        ("90", north_id),
        ("89.99", north_id),
        ("-90", south_id),
        ("-89.99", south_id),
    ] {
        let res = t
            .call(
                Method::GET,
                "/api/user/nearby/list",
                &[("lat", lat), ("lng", "0"), ("radius_km", "100")],
                Some(&me),
            )
            .await;
        assert_eq!(code(&res), 0, "lat {lat}");
        let ids: Vec<i64> = data(&res)["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [expect], "lat {lat}");
    }
    // A restart loads both from their rows, at the edge again: the row keeps what was sent,
    // and a load does not stop at a latitude the index cannot hold.
    assert_eq!(t.state.places().load(&t.state.db).await.unwrap(), 2);
    let from_pole = t
        .call(
            Method::GET,
            "/api/user/nearby/list",
            &[("lat", "90"), ("lng", "0"), ("radius_km", "100")],
            Some(&me),
        )
        .await;
    assert_eq!(data(&from_pole)["list"][0]["user_id"], north_id);
    // ±89, 1,000 km from the edge: valid, answered, and nobody that far from the poles' edge.
    for lat in ["89", "-89"] {
        let res = t
            .call(
                Method::GET,
                "/api/user/nearby/list",
                &[("lat", lat), ("lng", "0")],
                Some(&me),
            )
            .await;
        assert_eq!(code(&res), 0, "lat {lat}");
    }
}

#[tokio::test]
async fn nearby_answers_at_every_valid_latitude_on_both_stores() {
    polar(Arc::new(MemoryStore::new())).await;
    let Ok(url) = std::env::var("KOTORI_TEST_REDIS_URL") else {
        eprintln!("skipped the Redis half: KOTORI_TEST_REDIS_URL is not set");
        return;
    };
    let prefix = format!(
        "kotori-test:{}:{}:polar:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let redis = Arc::new(RedisStore::connect(&url, &prefix).await.unwrap());
    polar(redis.clone()).await;
    redis.clear().await.unwrap();
    redis.quit().await;
}

/// `total` counts everyone the list would show the caller within the radius — not the people
/// a page's search happened to look at — so it is the same on every page, whatever the page
/// size: 30 people around, 4 of them hidden, 1 blocking the caller, 1 blocked by the caller,
/// one far away.
#[tokio::test]
async fn the_total_counts_everyone_within_the_radius_on_every_page() {
    let t = TestApp::new().await;
    let (me, my_id) = t.user("18700000000").await;
    let here = [("lat", "31.2"), ("lng", "121.5")];
    let placed = t
        .call(Method::POST, "/api/me/location", &here, Some(&me))
        .await;
    assert_eq!(code(&placed), 0);
    let mut shown = Vec::new();
    for i in 0..31 {
        let (token, id) = t.user(&format!("1871000{i:04}")).await;
        // Within 3 km, nearest first; the last one 60 km away.
        let lat = if i < 30 {
            31.2 + f64::from(i) * 1e-3
        } else {
            31.75
        };
        let lat = lat.to_string();
        let spot = [("lat", lat.as_str()), ("lng", "121.5")];
        assert_eq!(
            code(
                &t.call(Method::POST, "/api/me/location", &spot, Some(&token))
                    .await
            ),
            0
        );
        let (theirs, mine) = (
            [("user_id", my_id.to_string())],
            [("user_id", id.to_string())],
        );
        match i {
            3 | 9 | 17 | 25 => {
                t.set_profile(id, |row| {
                    row.authority = Set(example_dating::people::Authority::Hidden)
                })
                .await
            }
            12 => {
                let params = [("user_id", theirs[0].1.as_str())];
                let res = t
                    .call(Method::POST, "/api/me/blocks/add", &params, Some(&token))
                    .await;
                assert_eq!(code(&res), 0);
            }
            20 => {
                let params = [("user_id", mine[0].1.as_str())];
                let res = t
                    .call(Method::POST, "/api/me/blocks/add", &params, Some(&me))
                    .await;
                assert_eq!(code(&res), 0);
            }
            30 => {}
            _ => shown.push(id),
        }
    }
    assert_eq!(shown.len(), 24);
    for size in [2, 5, 10, 50] {
        let size_param = size.to_string();
        let mut listed = Vec::new();
        for page in 1.. {
            let page_param = page.to_string();
            let params = [
                ("page", page_param.as_str()),
                ("pageCount", size_param.as_str()),
            ];
            let res = t
                .call(Method::GET, "/api/user/nearby/list", &params, Some(&me))
                .await;
            let answer = data(&res);
            assert_eq!(
                answer["total"], 24,
                "pageCount {size}, page {page}: {answer}"
            );
            let items = answer["list"].as_array().unwrap();
            listed.extend(items.iter().map(|u| u["user_id"].as_i64().unwrap()));
            let more = page * size < 24;
            assert_eq!(answer["has_next"], more, "pageCount {size}, page {page}");
            if !more {
                break;
            }
        }
        assert_eq!(
            listed, shown,
            "pageCount {size}: everyone shown once, nearest first"
        );
    }
}
