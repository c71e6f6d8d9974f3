//! The hot list (docs/src/dating/api/people.md): ranked by visits received in the last 7 days, VIPs boosted; never
//! the caller, banned, hidden or blocked users — and pages stay full when the top of the
//! ranking is people the caller may not see. Run on the in-process store, and on Redis when
//! `KOTORI_TEST_REDIS_URL` is set.

mod common;

use std::sync::Arc;

use common::{TestApp, code, data};
use example_dating::db::entity::users::visitor;
use example_dating::store::{MemoryStore, RedisStore, Store};
use example_dating::users::hot;
use http::Method;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::Value;

fn ids(list: &Value) -> Vec<i64> {
    list["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_i64().unwrap())
        .collect()
}

/// Runs `check` on a fresh app over the in-process store, then over Redis if configured.
async fn on_each_store(test: &str, check: impl AsyncFn(TestApp)) {
    check(
        TestApp::with(
            common::config(),
            "sqlite::memory:",
            Arc::new(MemoryStore::new()),
        )
        .await,
    )
    .await;
    let Ok(url) = std::env::var("KOTORI_TEST_REDIS_URL") else {
        eprintln!("skipped the Redis half of {test}: KOTORI_TEST_REDIS_URL is not set");
        return;
    };
    let prefix = format!(
        "kotori-test:{}:{}:{test}:",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let redis = Arc::new(RedisStore::connect(&url, &prefix).await.unwrap());
    check(TestApp::with(common::config(), "sqlite::memory:", redis.clone()).await).await;
    redis.clear().await.unwrap();
    redis.quit().await;
}

async fn show(t: &TestApp, viewer: &str, user: i64) {
    let res = t
        .call(
            Method::GET,
            &format!("/api/users/{user}/show"),
            &[],
            Some(viewer),
        )
        .await;
    assert_eq!(code(&res), 0);
}

#[tokio::test]
async fn pages_stay_full_past_the_hidden_banned_and_blocked_at_the_top() {
    on_each_store("hot_filtering", async |t: TestApp| {
        let (me, me_id) = t.user("18900000000").await;
        let (mut viewers, mut viewer_ids) = (Vec::new(), Vec::new());
        for i in 0..4 {
            let (token, id) = t.user(&format!("1880000000{i}")).await;
            viewers.push(token);
            viewer_ids.push(id);
        }
        // Four popular people the caller may not see, then three it may, by falling visits.
        let (_, hidden) = t.user("18900000001").await;
        let (_, contacts_only) = t.user("18900000002").await;
        let (_, banned) = t.user("18900000003").await;
        let (blocker, blocked_me) = t.user("18900000004").await;
        let mut shown = Vec::new();
        for i in 5..8 {
            shown.push(t.user(&format!("1890000000{i}")).await.1);
        }
        for user in [hidden, contacts_only, banned, blocked_me] {
            for viewer in &viewers {
                show(&t, viewer, user).await;
            }
        }
        for (n, user) in shown.iter().enumerate() {
            for viewer in &viewers[..3 - n] {
                show(&t, viewer, *user).await;
            }
        }
        t.set_profile(hidden, |u| {
            u.authority = Set(example_dating::people::Authority::Hidden)
        })
        .await;
        t.set_profile(contacts_only, |u| {
            u.authority = Set(example_dating::people::Authority::Contacts)
        })
        .await;
        let block = t
            .call(
                Method::POST,
                "/api/me/blocks/add",
                &[("user_id", &me_id.to_string())],
                Some(&blocker),
            )
            .await;
        assert_eq!(code(&block), 0);
        let admin = t
            .operator("root", "admin", &["users:read", "users:ban"])
            .await;
        let ban = format!("/manage/dating/admin/api/users/{banned}/ban.json");
        let res = t
            .manage(Method::POST, &ban, &[("reason", "spam")], Some(&admin))
            .await;
        assert_eq!(code(&res), 0);

        let page = |n: &'static str| {
            let (t, me) = (&t, &me);
            async move {
                data(
                    &t.call(
                        Method::GET,
                        "/api/user/hot/list",
                        &[("pageCount", "2"), ("page", n)],
                        Some(me),
                    )
                    .await,
                )
            }
        };
        // The count of public people is kept off the request path: count it now.
        example_dating::people::visibility::recount_public(&t.state.db, &*t.state.store)
            .await
            .unwrap();
        let first = page("1").await;
        assert_eq!(ids(&first), shown[..2], "{first}");
        assert_eq!(first["has_next"], true);
        // Shown: the three ranked, then the four unvisited viewers; the caller is not counted.
        assert_eq!(first["total"], 7, "{first}");
        let second = page("2").await;
        // After the ranked, everyone else newest first.
        assert_eq!(ids(&second), [shown[2], viewer_ids[3]], "{second}");
        let last = page("4").await;
        assert_eq!(ids(&last), [viewer_ids[0]], "{last}");
        assert_eq!(last["has_next"], false);
        assert!(page("5").await["list"].as_array().unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_viewer_counts_once_a_day_however_often_and_at_once() {
    on_each_store("hot_once", async |t: TestApp| {
        let (me, _) = t.user("18900000000").await;
        let (eager, _) = t.user("18800000000").await;
        let (a, b) = (t.user("18800000001").await.0, t.user("18800000002").await.0);
        let (_, once) = t.user("18900000001").await;
        let (_, twice) = t.user("18900000002").await;
        // `once` is created first: with equal scores it would list after `twice` anyway, so it
        // leads only if ten concurrent visits of one viewer counted more than once.
        let visits = (0..10).map(|_| show(&t, &eager, once));
        futures_util::future::join_all(visits).await;
        show(&t, &a, twice).await;
        show(&t, &b, twice).await;
        let hot = data(
            &t.call(
                Method::GET,
                "/api/user/hot/list",
                &[("pageCount", "2")],
                Some(&me),
            )
            .await,
        );
        assert_eq!(ids(&hot), [twice, once], "{hot}");
        let footprints = visitor::Entity::find().count(&t.state.db).await.unwrap();
        assert_eq!(footprints, 3, "one footprint per viewer, user and day");
    })
    .await;
}

#[tokio::test]
async fn the_ranking_is_rebuilt_from_the_footprints_of_the_last_seven_days() {
    on_each_store("hot_rebuild", async |t: TestApp| {
        let (me, _) = t.user("18900000000").await;
        let (_, old) = t.user("18900000001").await;
        let (_, recent) = t.user("18900000002").await;
        let (_, vip) = t.user("18900000003").await;
        let (_, newest) = t.user("18900000004").await;
        let today = example_dating::clock::day(example_dating::clock::now());
        let mut viewers = Vec::new();
        for i in 0..3 {
            viewers.push(t.user(&format!("1880000000{i}")).await.1);
        }
        // Straight into the table, as demo-data does: three visits eight days ago (outside the
        // window), one six days ago (inside), one to the VIP today.
        let footprint = |viewer: i64, viewed: i64, day: i64| visitor::ActiveModel {
            viewer_id: Set(viewer),
            viewed_id: Set(viewed),
            day: Set(day),
            visit_time: Set(day * 86_400 + 60),
            unread: Set(true),
            ..Default::default()
        };
        for &viewer in &viewers {
            footprint(viewer, old, today - 7)
                .insert(&t.state.db)
                .await
                .unwrap();
        }
        footprint(viewers[0], recent, today - 6)
            .insert(&t.state.db)
            .await
            .unwrap();
        footprint(viewers[0], vip, today)
            .insert(&t.state.db)
            .await
            .unwrap();
        footprint(viewers[1], vip, today)
            .insert(&t.state.db)
            .await
            .unwrap();
        for viewer in &viewers[..2] {
            footprint(*viewer, recent, today - 1)
                .insert(&t.state.db)
                .await
                .unwrap();
        }
        t.set_vip(vip).await;
        assert!(hot::rebuild(&t.state.db, &*t.state.store).await.unwrap());
        let hot = data(
            &t.call(
                Method::GET,
                "/api/user/hot/list",
                &[("pageCount", "4")],
                Some(&me),
            )
            .await,
        );
        // vip: 2 visits × 2; recent: 3; then the unvisited newest first: the viewers, newest.
        assert_eq!(ids(&hot), [vip, recent, viewers[2], viewers[1]], "{hot}");
        let rest = data(
            &t.call(
                Method::GET,
                "/api/user/hot/list",
                &[("pageCount", "4"), ("page", "2")],
                Some(&me),
            )
            .await,
        );
        assert_eq!(ids(&rest), [viewers[0], newest, old], "{rest}");
        // A rebuild replaces the ranking; it does not add to it.
        assert!(hot::rebuild(&t.state.db, &*t.state.store).await.unwrap());
        let again = data(
            &t.call(
                Method::GET,
                "/api/user/hot/list",
                &[("pageCount", "4")],
                Some(&me),
            )
            .await,
        );
        assert_eq!(ids(&again), ids(&hot));
    })
    .await;
}

#[tokio::test]
async fn a_store_that_lost_the_ranking_gets_it_back_at_the_next_upkeep() {
    let store = Arc::new(MemoryStore::new());
    let t = TestApp::with(common::config(), "sqlite::memory:", store.clone()).await;
    let (me, _) = t.user("18900000000").await;
    let (viewer, _) = t.user("18800000000").await;
    let (_, popular) = t.user("18900000001").await;
    let (_, _newer) = t.user("18900000002").await;
    show(&t, &viewer, popular).await;
    // The store forgets everything (a Redis restarted without persistence).
    store
        .rank_clear(&example_dating::people::footprints::HOT)
        .await
        .unwrap();
    store.del(hot::BUILT).await.unwrap();
    hot::upkeep(&t.state.db, &*t.state.store).await.unwrap();
    let hot = data(
        &t.call(
            Method::GET,
            "/api/user/hot/list",
            &[("pageCount", "1")],
            Some(&me),
        )
        .await,
    );
    assert_eq!(ids(&hot), [popular], "{hot}");
}

/// An erased account's footprints leave the ranking at once, on both stores and after a
/// rebuild: five visitors who then erase themselves count for nothing against two live ones,
/// and an erased account that was visited is not ranked at all.
#[tokio::test]
async fn erased_accounts_leave_the_ranking() {
    on_each_store("hot_erasure", async |t: TestApp| {
        let (me, _) = t.user("18900000000").await;
        let (_, target) = t.user("18900000001").await;
        let (_, liked) = t.user("18900000002").await;
        let (erased, erased_id) = t.user("18900000003").await;
        for i in 0..5 {
            let (ghost, _) = t.user(&format!("1870000000{i}")).await;
            show(&t, &ghost, target).await;
            show(&t, &ghost, erased_id).await;
            let res = t
                .call(Method::POST, "/api/me/delete", &[], Some(&ghost))
                .await;
            assert_eq!(code(&res), 0);
        }
        for i in 0..2 {
            let (fan, _) = t.user(&format!("1860000000{i}")).await;
            show(&t, &fan, liked).await;
            show(&t, &fan, erased_id).await;
        }
        let res = t
            .call(Method::POST, "/api/me/delete", &[], Some(&erased))
            .await;
        assert_eq!(code(&res), 0);
        let ranked = |t: &TestApp| {
            let store = t.state.store.clone();
            async move {
                store
                    .rank_range(&example_dating::people::footprints::HOT, 0, 100)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(ranked(&t).await, [liked], "only live visits count");
        let first = data(
            &t.call(
                Method::GET,
                "/api/user/hot/list",
                &[("pageCount", "2")],
                Some(&me),
            )
            .await,
        );
        assert_eq!(ids(&first)[0], liked, "{first}");
        assert!(hot::rebuild(&t.state.db, &*t.state.store).await.unwrap());
        assert_eq!(ranked(&t).await, [liked], "and after a rebuild");
    })
    .await;
}

/// The total is never counted by a request, nor after a change: a sign-up adds one to the kept
/// count at once, and a ban, an unban, a change of who may see someone and an erasure move it
/// by the one person they moved in or out — at once, with no recount set going.
#[tokio::test]
async fn every_change_moves_the_kept_total_by_the_one_person_it_moved() {
    let t = TestApp::new().await;
    let (me, _) = t.user("18900000399").await;
    let mut others = Vec::new();
    for i in 0..12 {
        others.push(t.user(&format!("189000003{i:02}")).await);
    }
    let counted = example_dating::people::visibility::recount_public(&t.state.db, &*t.state.store)
        .await
        .unwrap();
    // A short page: the total is the kept count, not the walk's (which knows the exact
    // total of a list it read to the end).
    let total = async || {
        let params = [("pageCount", "2")];
        let res = t
            .call(Method::GET, "/api/user/hot/list", &params, Some(&me))
            .await;
        data(&res)["total"].as_u64().unwrap()
    };
    use example_dating::people::visibility::{EVERYONE_COUNT, everyone};
    let all =
        example_dating::paging::count_now(&t.state.db, &*t.state.store, EVERYONE_COUNT, everyone())
            .await
            .unwrap();
    let kept_all = async || {
        let kept = t.state.store.get(EVERYONE_COUNT).await.unwrap();
        kept.unwrap().parse::<u64>().unwrap()
    };
    // Public people less the caller.
    assert_eq!(total().await, counted - 1);
    // Two people register through the API: each joins both kept counts, nothing is recounted.
    t.login("18900000350").await;
    t.login("18900000351").await;
    assert_eq!(total().await, counted + 1, "sign-ups counted at once");
    assert_eq!(
        kept_all().await,
        all + 2,
        "and in the admins' count of everyone"
    );

    let (banned, hidden, erased) = (others[0].1, &others[1], &others[2]);
    example_dating::people::account::ban(&t.state, banned, "spam")
        .await
        .unwrap();
    assert_eq!(total().await, counted, "a ban takes one at once");
    // A second ban of the same person moves nothing: they were no longer public.
    let again = example_dating::people::account::ban(&t.state, banned, "spam").await;
    assert!(again.is_ok());
    assert_eq!(total().await, counted, "banned twice, taken once");
    let admin = t.operator("kept-total", "admin", &["users:ban"]).await;
    let unban = format!("/manage/dating/admin/api/users/{banned}/unban.json");
    assert_eq!(
        code(&t.manage(Method::POST, &unban, &[], Some(&admin)).await),
        0
    );
    assert_eq!(total().await, counted + 1, "an unban gives it back");

    let authority = async |value: &str| {
        let params = [("authority", value)];
        let res = t
            .call(Method::POST, "/api/me/update", &params, Some(&hidden.0))
            .await;
        assert_eq!(code(&res), 0, "{}", res.text());
    };
    authority("0").await;
    assert_eq!(total().await, counted, "hidden: out");
    authority("2").await;
    assert_eq!(total().await, counted, "contacts only: still out");
    authority("1").await;
    assert_eq!(total().await, counted + 1, "visible to all: back");

    example_dating::people::account::delete(&t.state, erased.1)
        .await
        .unwrap();
    assert_eq!(total().await, counted, "an erasure takes one");
    assert_eq!(kept_all().await, all + 1, "from everyone too");

    let fresh = t
        .state
        .store
        .get("people:{kept}:public:fresh")
        .await
        .unwrap();
    assert!(fresh.is_some(), "no change set a recount going");
    // And the kept count is what a count says.
    let recounted =
        example_dating::people::visibility::recount_public(&t.state.db, &*t.state.store)
            .await
            .unwrap();
    assert_eq!(recounted, counted + 1);
}
