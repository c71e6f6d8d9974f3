//! docs/src/dating/api/people.md: album, labels, other users and their visibility, visits.

mod common;

use common::{TestApp, code, data};
use http::Method;
use sea_orm::Set;

const GET: Method = Method::GET;
const POST: Method = Method::POST;

#[tokio::test]
async fn the_album_holds_nine_photos_and_only_the_owner_deletes() {
    let t = TestApp::new().await;
    let (alice, _) = t.user("18900000001").await;
    let (bob, _) = t.user("18900000002").await;
    let mut ids = Vec::new();
    for i in 0..9 {
        let url = format!("https://img.example.com/{i}.jpg");
        let photo = data(
            &t.call(POST, "/api/me/album/add", &[("photo", &url)], Some(&alice))
                .await,
        );
        assert_eq!(photo["photo"], url);
        ids.push(photo["photo_id"].as_i64().unwrap());
    }
    let res = t
        .call(
            POST,
            "/api/me/album/add",
            &[("photo", "https://img.example.com/9.jpg")],
            Some(&alice),
        )
        .await;
    assert_eq!(code(&res), 40901);
    assert_eq!(
        code(
            &t.call(
                POST,
                "/api/me/album/add",
                &[("photo", "http://")],
                Some(&alice)
            )
            .await
        ),
        40002
    );
    let long = format!("https://img.example.com/{}.jpg", "x".repeat(250));
    assert_eq!(
        code(
            &t.call(POST, "/api/me/album/add", &[("photo", &long)], Some(&alice))
                .await
        ),
        40002
    );

    let path = format!("/api/me/album/{}/delete", ids[0]);
    assert_eq!(
        code(&t.call(POST, &path, &[], Some(&bob)).await),
        40401,
        "someone else's photo"
    );
    assert_eq!(code(&t.call(POST, &path, &[], Some(&alice)).await), 0);
    assert_eq!(
        code(&t.call(POST, &path, &[], Some(&alice)).await),
        40401,
        "already gone"
    );
    let album = data(&t.call(GET, "/api/me/album", &[], Some(&alice)).await);
    assert_eq!(album["list"].as_array().unwrap().len(), 8);
    assert_eq!(
        data(&t.call(GET, "/api/me", &[], Some(&alice)).await)["album"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
}

#[tokio::test]
async fn labels_filter_by_gender_and_a_user_wears_at_most_ten() {
    let t = TestApp::new().await;
    let (token, _) = t.user("18900000001").await;
    let all = data(&t.call(GET, "/api/labels", &[], Some(&token)).await)["list"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), 12);
    let male = data(
        &t.call(GET, "/api/labels", &[("gender", "1")], Some(&token))
            .await,
    )["list"]
        .as_array()
        .unwrap()
        .clone();
    assert!(male.iter().all(|l| l["gender"] == 0 || l["gender"] == 1));
    assert!(male.len() < all.len());
    assert_eq!(
        code(
            &t.call(GET, "/api/labels", &[("gender", "5")], Some(&token))
                .await
        ),
        40002
    );

    let mine = data(
        &t.call(
            POST,
            "/api/me/labels",
            &[("label_ids", "3,1,3")],
            Some(&token),
        )
        .await,
    );
    let ids: Vec<i64> = mine["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 3]);
    assert_eq!(
        code(
            &t.call(
                POST,
                "/api/me/labels",
                &[("label_ids", "1,999")],
                Some(&token)
            )
            .await
        ),
        40401,
        "an id that names no label"
    );
    assert_eq!(
        code(
            &t.call(
                POST,
                "/api/me/labels",
                &[("label_ids", "1,2,3,4,5,6,7,8,9,10,11")],
                Some(&token)
            )
            .await
        ),
        40002
    );
    assert_eq!(
        code(
            &t.call(POST, "/api/me/labels", &[("label_ids", "a")], Some(&token))
                .await
        ),
        40002
    );
    let cleared = data(
        &t.call(POST, "/api/me/labels", &[("label_ids", "")], Some(&token))
            .await,
    );
    assert_eq!(cleared["list"], serde_json::json!([]));
}

#[tokio::test]
async fn other_users_are_404_when_unknown_banned_hidden_or_contacts_only() {
    let t = TestApp::new().await;
    let (me, my_id) = t.user("18900000001").await;
    let (friend, friend_id) = t.user("18900000002").await;
    let (_, hidden) = t.user("18900000003").await;
    let (_, banned) = t.user("18900000004").await;
    t.set_profile(hidden, |u| {
        u.authority = Set(example_dating::people::Authority::Hidden)
    })
    .await;
    t.set_profile(banned, |u| u.banned = Set(true)).await;
    t.set_profile(friend_id, |u| {
        u.authority = Set(example_dating::people::Authority::Contacts)
    })
    .await;
    let show = |id: i64| format!("/api/users/{id}/show");

    for id in [hidden, banned, 999_999] {
        assert_eq!(
            code(&t.call(GET, &show(id), &[], Some(&me)).await),
            40401,
            "user {id}"
        );
    }
    assert_eq!(
        code(&t.call(GET, "/api/users/abc/show", &[], Some(&me)).await),
        40401
    );
    assert_eq!(
        code(&t.call(GET, &show(friend_id), &[], Some(&me)).await),
        40401,
        "contacts only, not a contact"
    );
    // The friend writes to me: now we are contacts, and I may see them.
    let msg = [("msg_type", "text"), ("content", "hi")];
    assert_eq!(
        code(
            &t.call(
                POST,
                &format!("/api/users/{my_id}/messages"),
                &msg,
                Some(&friend)
            )
            .await
        ),
        0
    );
    let profile = data(&t.call(GET, &show(friend_id), &[], Some(&me)).await);
    assert_eq!(profile["user_id"], friend_id);
    assert!(
        profile.get("phone").is_none() && profile.get("email").is_none(),
        "a public profile: {profile}"
    );
    // Hidden users may look at themselves.
    assert_eq!(code(&t.call(GET, &show(my_id), &[], Some(&me)).await), 0);
}

#[tokio::test]
async fn visits_are_one_per_day_and_vips_list_their_visitors() {
    let t = TestApp::new().await;
    let (me, my_id) = t.user("18900000001").await;
    let (a, a_id) = t.user("18900000002").await;
    let (b, b_id) = t.user("18900000003").await;
    let visitors = "/api/vip/visitors";
    assert_eq!(
        code(&t.call(GET, visitors, &[], Some(&me)).await),
        40302,
        "not a VIP"
    );

    let visit = async |token: &str| {
        assert_eq!(
            code(
                &t.call(GET, &format!("/api/users/{my_id}/show"), &[], Some(token))
                    .await
            ),
            0
        );
        // Age every footprint by a minute, so that the next visit is clearly newer.
        use example_dating::db::entity::users::visitor;
        use sea_orm::EntityTrait;
        use sea_orm::sea_query::{Expr, ExprTrait};
        visitor::Entity::update_many()
            .col_expr(
                visitor::Column::VisitTime,
                Expr::col(visitor::Column::VisitTime).sub(60),
            )
            .exec(&t.state.db)
            .await
            .unwrap();
    };
    visit(&a).await;
    visit(&b).await;
    visit(&a).await;
    // Looking at yourself records nothing.
    t.call(GET, &format!("/api/users/{my_id}/show"), &[], Some(&me))
        .await;

    example_dating::commerce::vip::extend(&t.state.db, my_id, 30, example_dating::clock::now())
        .await
        .unwrap();
    let first = data(&t.call(GET, visitors, &[], Some(&me)).await);
    assert_eq!(
        first["total"], 2,
        "one footprint per viewer and day: {first}"
    );
    let list = first["list"].as_array().unwrap();
    let viewers: Vec<i64> = list
        .iter()
        .map(|v| v["user_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        viewers,
        [a_id, b_id],
        "a's repeat visit moved it to the top"
    );
    assert!(
        list.iter()
            .all(|v| v["unread"] == true && v["visit_time"].is_string())
    );
    let second = data(&t.call(GET, visitors, &[], Some(&me)).await);
    assert!(
        second["list"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["unread"] == false),
        "listing marked them read"
    );
    assert_eq!(
        code(
            &t.call(GET, visitors, &[("pageCount", "51")], Some(&me))
                .await
        ),
        40002
    );
}

#[tokio::test]
async fn the_hot_list_ranks_by_recent_visits_with_vips_boosted() {
    let t = TestApp::new().await;
    let (me, _) = t.user("18900000000").await;
    let mut users = Vec::new();
    for i in 1..=4 {
        users.push(t.user(&format!("1890000000{i}")).await);
    }
    let (_, hidden) = t.user("18900000009").await;
    t.set_profile(hidden, |u| {
        u.authority = Set(example_dating::people::Authority::Hidden)
    })
    .await;
    // Visits: user 1 ← 3 viewers, user 2 ← 2 viewers (but VIP: counts 4), user 3 ← 1.
    let viewers: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(t.user(&format!("1880000000{i}")).await.0);
        }
        v
    };
    for (target, n) in [(users[0].1, 3), (users[1].1, 2), (users[2].1, 1)] {
        for viewer in &viewers[..n] {
            t.call(GET, &format!("/api/users/{target}/show"), &[], Some(viewer))
                .await;
        }
    }
    // Becoming VIP after the visits boosts the visits already counted.
    t.buy_vip(&users[1].0).await;
    let hot = data(
        &t.call(GET, "/api/user/hot/list", &[("pageCount", "3")], Some(&me))
            .await,
    );
    let ids: Vec<i64> = hot["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [users[1].1, users[0].1, users[2].1]);
    // Everyone visible but the caller: 4 users + 3 viewers; the hidden one is left out.
    assert_eq!(hot["total"], 7);
    assert_eq!(hot["has_next"], true);
    let last = data(
        &t.call(
            GET,
            "/api/user/hot/list",
            &[("pageCount", "3"), ("page", "3")],
            Some(&me),
        )
        .await,
    );
    assert_eq!(
        (
            last["list"].as_array().unwrap().len(),
            last["has_next"].as_bool()
        ),
        (1, Some(false))
    );
    assert_eq!(
        code(
            &t.call(GET, "/api/user/hot/list", &[("page", "0")], Some(&me))
                .await
        ),
        40002
    );
}

/// Every list stops at its 1,000th item: `page × pageCount` past it is 40002, on each list
/// that pages by number (one rule, in `paging.rs`).
#[tokio::test]
async fn no_page_reaches_past_the_thousandth_item() {
    let t = TestApp::new().await;
    let (me, _) = t.user("13800000001").await;
    for path in [
        "/api/user/hot/list",
        "/api/contacts",
        "/api/me/blocks",
        "/api/live/list",
    ] {
        let deepest = t
            .call(GET, path, &[("page", "20"), ("pageCount", "50")], Some(&me))
            .await;
        assert_eq!(code(&deepest), 0, "{path}: the 1,000th item is reachable");
        for (page, size) in [("21", "50"), ("1001", "1"), ("100000", "50")] {
            let past = t
                .call(GET, path, &[("page", page), ("pageCount", size)], Some(&me))
                .await;
            assert_eq!(code(&past), 40002, "{path} page {page} × {size}");
        }
    }
}
