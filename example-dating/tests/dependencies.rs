//! Dependency failures: a store or database that fails gives 50301 and leaves nothing
//! half-written; the server fails closed, never serving an unchecked request.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::watched::Watched;
use common::{TestApp, code, data};
use example_dating::store::{MemoryStore, Quota, Ranking, Store, StoreError};
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
    async fn mark_each_and_get(
        &self,
        _: &[&str],
        _: Duration,
        _: Option<&str>,
    ) -> Result<(Vec<bool>, Option<String>), StoreError> {
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
    async fn del_if(&self, _: &str, _: &str) -> Result<bool, StoreError> {
        down()
    }
    async fn incr(&self, _: &str, _: Duration) -> Result<i64, StoreError> {
        down()
    }
    async fn add_existing(&self, _: &[(&str, i64)]) -> Result<Vec<Option<i64>>, StoreError> {
        down()
    }
    async fn take(
        &self,
        _: &[Quota<'_>],
        _: Option<example_dating::store::Write<'_>>,
    ) -> Result<Option<Duration>, StoreError> {
        down()
    }
    async fn spent(&self, _: Quota<'_>) -> Result<Option<Duration>, StoreError> {
        down()
    }
    async fn ttl(&self, _: &str) -> Result<Option<Duration>, StoreError> {
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
    async fn rank_take(
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

/// A database that fails under a block and an export: 50301 for both, and the export's hour
/// is not spent by a failure before its first byte (the next one may try again).
#[tokio::test]
async fn a_block_and_an_export_the_database_fails_are_50301() {
    let t = TestApp::new().await;
    let (token, me) = t.user("18900000501").await;
    let (_, other) = t.user("18900000502").await;
    t.state
        .db
        .execute_unprepared("DROP TABLE block")
        .await
        .unwrap();
    let other = other.to_string();
    let res = t
        .call(
            Method::POST,
            "/api/me/blocks/add",
            &[("user_id", other.as_str())],
            Some(&token),
        )
        .await;
    assert_eq!(code(&res), 50301, "{}", res.text());
    let res = t
        .call(Method::GET, "/api/me/export", &[], Some(&token))
        .await;
    assert_eq!(code(&res), 50301, "{}", res.text());
    let hour = t.state.store.get(&format!("export:{me}")).await.unwrap();
    assert_eq!(hour, None, "a failed export does not spend the hour");
}

/// A store that works, but, once told to (the flag set), refuses a payment's ranking boost, a
/// conversation's turn and a move of the kept counts (not a message limit's try given back): the failures that come after or before a
/// transaction.
fn refusing() -> (Arc<Watched>, Arc<AtomicBool>) {
    let refuse = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&refuse);
    let hook: common::watched::Hook = Box::new(move |command, key| {
        // A limit's try given back is a move too, but not one these tests refuse.
        let refused = command == "rank_boost"
            || (command == "add_existing" && !key.starts_with("msg:"))
            || (command == "set_nx" && key.contains("chat:turn:"));
        if refused && flag.load(Ordering::SeqCst) {
            return down();
        }
        Ok(())
    });
    (
        Arc::new(Watched::new(Arc::new(MemoryStore::new()), hook)),
        refuse,
    )
}

/// A payment whose hot-list boost the store refuses after the commit answers 50301; the
/// provider's repeated notice finds the order paid and boosts.
#[tokio::test]
async fn a_boost_the_store_refused_is_done_by_the_repeated_notice() {
    let (store, refuse) = refusing();
    let t = TestApp::with(common::config(), "sqlite::memory:", store).await;
    let (me, _) = t.user("18900000000").await;
    let (buyer, buyer_id) = t.user("18900000001").await;
    let (_, rival) = t.user("18900000002").await;
    let mut viewers = Vec::new();
    for i in 0..3 {
        viewers.push(t.user(&format!("1880000000{i}")).await.0);
    }
    // The buyer has two viewers, the rival three: boosted, the buyer's two count four.
    for (user, n) in [(buyer_id, 2), (rival, 3)] {
        for viewer in &viewers[..n] {
            let path = format!("/api/users/{user}/show");
            assert_eq!(
                code(&t.call(Method::GET, &path, &[], Some(viewer)).await),
                0
            );
        }
    }
    let top = async || {
        let hot = t
            .call(
                Method::GET,
                "/api/user/hot/list",
                &[("pageCount", "1")],
                Some(&me),
            )
            .await;
        common::data(&hot)["list"][0]["user_id"].as_i64().unwrap()
    };
    assert_eq!(top().await, rival);
    let (trade_no, fee) = t.order_vip(&buyer).await;
    let notice = [
        ("trade_no", &*trade_no),
        ("fee", &fee),
        ("status", "SUCCESS"),
    ];
    refuse.store(true, Ordering::SeqCst);
    assert_eq!(code(&t.pay(&notice).await), 50301);
    // The payment itself is committed; only the boost is missing.
    let vip = common::data(&t.call(Method::GET, "/api/me/vip", &[], Some(&buyer)).await);
    assert_eq!(vip["is_vip"], true);
    assert_eq!(top().await, rival);
    refuse.store(false, Ordering::SeqCst);
    assert_eq!(code(&t.pay(&notice).await), 0);
    assert_eq!(top().await, buyer_id);
}

/// A message whose conversation's turn the store cannot give answers 50301 and writes
/// nothing: no message, no contact row, no try of the sender's limit; and one whose database
/// fails gives its try back the same way.
#[tokio::test]
async fn a_message_without_its_turn_is_50301_and_writes_nothing() {
    use example_dating::db::entity::chat::{contacts, message};
    let (store, refuse) = refusing();
    let t = TestApp::with(common::config(), "sqlite::memory:", store).await;
    let (alice, alice_id) = t.user("18900000001").await;
    let (_, bob) = t.user("18900000002").await;
    let minute = example_dating::limits::MESSAGES.key(&alice_id.to_string(), "minute");
    let spent = async || {
        let n = t.state.store.get(&minute).await.unwrap();
        n.map_or(0, |n| n.parse::<i64>().unwrap())
    };
    refuse.store(true, Ordering::SeqCst);
    assert_eq!(code(&t.message(&alice, bob, "hello").await), 50301);
    assert_eq!(message::Entity::find().count(&t.state.db).await.unwrap(), 0);
    assert_eq!(
        contacts::Entity::find().count(&t.state.db).await.unwrap(),
        0
    );
    assert_eq!(spent().await, 0, "the try was given back");
    refuse.store(false, Ordering::SeqCst);
    assert_eq!(
        code(&t.message(&alice, bob, "hello").await),
        0,
        "and works once it can"
    );
    assert_eq!(spent().await, 1);
    // The database fails the message: 50301, and the try is given back.
    t.state
        .db
        .execute_unprepared("DROP TABLE contacts")
        .await
        .unwrap();
    assert_eq!(code(&t.message(&alice, bob, "again").await), 50301);
    assert_eq!(message::Entity::find().count(&t.state.db).await.unwrap(), 1);
    assert_eq!(spent().await, 1);
}

/// A ban whose move of the count of public people the store refuses after the commit still
/// bans (the database is the truth); the hot list's total is one too many until the next
/// recount, which heals it.
#[tokio::test]
async fn a_count_move_the_store_refused_is_healed_by_the_next_recount() {
    let (store, refuse) = refusing();
    let t = TestApp::with(common::config(), "sqlite::memory:", store).await;
    let (me, _) = t.user("18900000010").await;
    let (_, banned) = t.user("18900000011").await;
    // More people than the page shows: its total is then the kept count, not the walk's.
    for i in 2..6 {
        t.user(&format!("1890000001{i}")).await;
    }
    let recount = async || {
        example_dating::people::visibility::recount_public(&t.state.db, &*t.state.store)
            .await
            .unwrap()
    };
    let total = async || {
        let params = [("pageCount", "1")];
        let hot = t
            .call(Method::GET, "/api/user/hot/list", &params, Some(&me))
            .await;
        common::data(&hot)["total"].as_u64().unwrap()
    };
    let public = recount().await;
    assert_eq!(total().await, public - 1, "everyone public but the caller");
    refuse.store(true, Ordering::SeqCst);
    example_dating::people::account::ban(&t.state, banned, "spam")
        .await
        .expect("the ban stands when the count cannot move");
    refuse.store(false, Ordering::SeqCst);
    assert_eq!(total().await, public - 1, "the count missed the move");
    assert_eq!(recount().await, public - 1, "the database has the ban");
    // (This instance reads the count at most a second old: `people::cache::GLANCE_FOR`.)
    t.state.people().forget_glances();
    assert_eq!(total().await, public - 2, "healed by the recount");
}

/// A danmaku the database fails to store is 50301 and spends no slow-mode interval: the mark
/// is taken back, so the viewer may post again at once.
#[tokio::test]
async fn a_danmaku_the_database_fails_spends_no_slow_mode_interval() {
    let t = TestApp::new().await;
    let (viewer, viewer_id) = t.user("18900000011").await;
    let host = t.operator("host", "host", &[]).await;
    let live = t.create_live(&host, "Slow").await;
    let slow = format!("/manage/dating/shops/api/live/{live}/slow_mode.json");
    let set = t
        .manage(Method::POST, &slow, &[("seconds", "60")], Some(&host))
        .await;
    assert_eq!(code(&set), 0);
    t.state
        .db
        .execute_unprepared("DROP TABLE danmaku")
        .await
        .unwrap();
    let path = format!("/api/live/{live}/danmaku");
    let post = t
        .call(Method::POST, &path, &[("content", "hi")], Some(&viewer))
        .await;
    assert_eq!(code(&post), 50301);
    let mark = example_dating::live::moderation::slow_key(live, viewer_id);
    assert_eq!(
        t.state.store.get(&mark).await.unwrap(),
        None,
        "no interval spent"
    );
}

/// A report the database fails to write after its try was taken (the row's insert refused) is
/// 50301 and gives the try back: the hour's ten are all still there.
#[tokio::test]
async fn a_report_the_database_fails_gives_its_try_back() {
    let t = TestApp::new().await;
    let (me, my_id) = t.user("18900000021").await;
    let (_, them) = t.user("18900000022").await;
    // Reads of the table work; the insert does not.
    t.state
        .db
        .execute_unprepared(
            "CREATE TRIGGER refuse_reports BEFORE INSERT ON report \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .await
        .unwrap();
    let them = them.to_string();
    let params = [("user_id", them.as_str()), ("reason", "spam")];
    let res = t
        .call(Method::POST, "/api/reports", &params, Some(&me))
        .await;
    assert_eq!(code(&res), 50301, "{}", res.text());
    let hour = example_dating::limits::REPORTS.key(&my_id.to_string(), "hour");
    let spent = t.state.store.get(&hour).await.unwrap();
    assert_eq!(spent.as_deref(), Some("0"), "the try was given back");
}

/// A count whose reading fails answers 50301, never a `total` of what the page happened to
/// see: the page's people are kept from an earlier request (so the page itself is answered
/// from the kept copies), and only the count needs the people further away — whose rows
/// cannot be read.
#[tokio::test]
async fn a_count_that_cannot_read_the_people_it_counts_is_50301() {
    let t = TestApp::new().await;
    let (me, _) = t.user("18720000000").await;
    let here = [("lat", "31.2"), ("lng", "121.5")];
    let placed = t
        .call(Method::POST, "/api/me/location", &here, Some(&me))
        .await;
    assert_eq!(code(&placed), 0);
    // Ten people 0 m, 111 m, … 999 m to the north.
    for i in 0..10 {
        let (token, _) = t.user(&format!("1872100{i:04}")).await;
        let lat = (31.2 + f64::from(i) * 1e-3).to_string();
        let spot = [("lat", lat.as_str()), ("lng", "121.5")];
        let placed = t
            .call(Method::POST, "/api/me/location", &spot, Some(&token))
            .await;
        assert_eq!(code(&placed), 0);
    }
    // A page of one searches the nearest six and counts the rest: within 600 m, six people,
    // whose cards this request keeps.
    let nearby = |radius: &'static str| {
        let t = &t;
        let me = &me;
        async move {
            let params = [("pageCount", "1"), ("radius_km", radius)];
            t.call(Method::GET, "/api/user/nearby/list", &params, Some(me))
                .await
        }
    };
    let rename = async |from: &str, to: &str| {
        let sql = format!("ALTER TABLE {from} RENAME TO {to}");
        t.state.db.execute_unprepared(&sql).await.unwrap();
    };
    assert_eq!(data(&nearby("0.6").await)["total"], 6);
    rename("user_info", "user_info_away").await;
    // The same page from what is kept: still answered.
    assert_eq!(data(&nearby("0.6").await)["total"], 6);
    // Ten people within 2 km: the page is kept, the four others' rows cannot be read.
    let res = nearby("2").await;
    assert_eq!(code(&res), 50301, "{}", res.text());
    rename("user_info_away", "user_info").await;
    assert_eq!(data(&nearby("2").await)["total"], 10);
}
