//! The suite both stores must pass, run against the in-process store always, against Redis
//! when `KOTORI_TEST_REDIS_URL` is set and against a Redis Cluster when
//! `KOTORI_TEST_REDIS_CLUSTER_URL` is.

use std::time::Duration;

use super::{MemoryStore, Quota, RedisStore, Store, Write};

/// The Redis URLs the suite runs against, each named by its environment variable.
const REDIS_VARS: [&str; 2] = ["KOTORI_TEST_REDIS_URL", "KOTORI_TEST_REDIS_CLUSTER_URL"];

/// A store on the Redis named by the environment variable `var`, under a prefix unique to this
/// run and test, or `None` (and a note) when `var` is not set.
async fn redis_store_at(var: &str, test: &str) -> Option<RedisStore> {
    let Ok(url) = std::env::var(var) else {
        eprintln!("skipped the {var} part of `{test}`: {var} is not set");
        return None;
    };
    let prefix = format!(
        "kotori-test:{}:{}:{test}:",
        std::process::id(),
        crate::random::hex_token(4)
    );
    Some(
        RedisStore::connect(&url, &prefix)
            .await
            .unwrap_or_else(|e| panic!("{var} is not a usable Redis URL: {e}")),
    )
}

async fn both(test: &str, check: impl AsyncFn(&dyn Store)) {
    check(&MemoryStore::new()).await;
    for var in REDIS_VARS {
        if let Some(redis) = redis_store_at(var, test).await {
            check(&redis).await;
            redis.clear().await.unwrap();
            redis.quit().await;
        }
    }
}

const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn set_if_absent_get_and_delete() {
    both("set_nx", async |s: &dyn Store| {
        assert!(s.set_nx("k", "1", LONG).await.unwrap(), "{}", s.name());
        assert!(!s.set_nx("k", "2", LONG).await.unwrap(), "{}", s.name());
        assert_eq!(s.get("k").await.unwrap().as_deref(), Some("1"));
        assert!(s.del("k").await.unwrap());
        assert!(!s.del("k").await.unwrap());
        assert_eq!(s.get("k").await.unwrap(), None);
        s.set("k", "3", LONG).await.unwrap();
        s.set("k", "4", LONG).await.unwrap();
        assert_eq!(s.get("k").await.unwrap().as_deref(), Some("4"));
    })
    .await;
}

/// A lock's release: the key goes only while it holds the owner's value.
#[tokio::test]
async fn a_key_is_deleted_only_while_it_holds_the_value() {
    both("del_if", async |s: &dyn Store| {
        assert!(s.set_nx("lock", "mine", LONG).await.unwrap());
        assert!(!s.del_if("lock", "theirs").await.unwrap(), "{}", s.name());
        assert_eq!(s.get("lock").await.unwrap().as_deref(), Some("mine"));
        assert!(s.del_if("lock", "mine").await.unwrap(), "{}", s.name());
        assert_eq!(s.get("lock").await.unwrap(), None);
        assert!(!s.del_if("lock", "mine").await.unwrap(), "gone already");
    })
    .await;
}

/// A signed request's replay marks and its session, in one round trip: marks on different
/// cluster slots, each new once, the read answered with them.
#[tokio::test]
async fn marks_are_new_once_and_a_read_comes_with_them() {
    both("mark_each_and_get", async |s: &dyn Store| {
        let keys = ["nonce:a:1", "sig:a:ff", "sig:b:ee"];
        s.set("tok:x", "7:99", LONG).await.unwrap();
        let (set, read) = s
            .mark_each_and_get(&keys, LONG, Some("tok:x"))
            .await
            .unwrap();
        assert_eq!(set, [true, true, true], "{}", s.name());
        assert_eq!(read.as_deref(), Some("7:99"));
        let (again, nothing) = s.mark_each_and_get(&keys[..2], LONG, None).await.unwrap();
        assert_eq!((again, nothing), (vec![false, false], None), "{}", s.name());
        let (one_new, _) = s
            .mark_each_and_get(&["sig:b:ee", "sig:c:dd", "sig:c:dd"], LONG, None)
            .await
            .unwrap();
        assert_eq!(one_new, [false, true, false], "{}", s.name());
        let (_, missing) = s
            .mark_each_and_get(&[], LONG, Some("tok:none"))
            .await
            .unwrap();
        assert_eq!(missing, None);
        if s.name() != "memory" {
            // On Redis a mark is a key of its own, with the mark's expiry.
            let left = s.ttl("nonce:a:1").await.unwrap();
            assert!(
                left.is_some_and(|t| t > LONG / 2 && t <= LONG),
                "a mark expires after its ttl: {left:?} on {}",
                s.name()
            );
        }
    })
    .await;
}

/// Quotas are taken all or none: a spent one refuses with its time left and writes nothing,
/// not even to the quotas that had room, nor the key the take was to write.
#[tokio::test]
async fn quotas_are_taken_all_or_none() {
    both("take", async |s: &dyn Store| {
        let minute = Quota {
            key: "q:{p}:minute",
            limit: 1,
            window: LONG,
        };
        let day = Quota {
            key: "q:{p}:day",
            limit: 3,
            window: Duration::from_secs(86_400),
        };
        assert_eq!(s.spent(minute).await.unwrap(), None, "{}", s.name());
        let write = |value| Write {
            key: "q:{p}:code",
            value,
            ttl: LONG,
        };
        let taken = s.take(&[minute, day], Some(write("first"))).await.unwrap();
        assert_eq!(taken, None, "{}", s.name());
        assert_eq!(s.get("q:{p}:code").await.unwrap().as_deref(), Some("first"));
        let left = s.ttl("q:{p}:code").await.unwrap().expect("it expires");
        assert!(left > Duration::from_secs(30) && left <= LONG, "{left:?}");
        let left = s.spent(minute).await.unwrap().expect("spent");
        assert!(left > Duration::from_secs(30) && left <= LONG, "{left:?}");
        for _ in 0..5 {
            let refused = s
                .take(&[day, minute], Some(write("refused")))
                .await
                .unwrap()
                .expect("the minute is spent");
            assert!(
                refused <= LONG,
                "{}: the minute's time left, {refused:?}",
                s.name()
            );
        }
        // The refusals wrote nothing: the day's counter is still at one, the key as it was.
        assert_eq!(s.get("q:{p}:day").await.unwrap().as_deref(), Some("1"));
        assert_eq!(s.get("q:{p}:code").await.unwrap().as_deref(), Some("first"));
        assert_eq!(s.spent(day).await.unwrap(), None);
        // A quota nobody took is not spent, and checking it creates nothing.
        let fresh = Quota {
            key: "q:{p}:fresh",
            limit: 1,
            window: LONG,
        };
        assert_eq!(s.spent(fresh).await.unwrap(), None);
        assert_eq!(s.get("q:{p}:fresh").await.unwrap(), None, "{}", s.name());
        // A refusal leaves no counter it would have started: the fresh quota before the spent
        // one has no key after, and the day's keeps its expiry.
        let refused = s.take(&[fresh, minute], None).await.unwrap();
        assert!(refused.is_some(), "{}", s.name());
        assert_eq!(s.get("q:{p}:fresh").await.unwrap(), None, "{}", s.name());
        assert_eq!(s.ttl("q:{p}:fresh").await.unwrap(), None, "{}", s.name());
        let day_left = s.ttl("q:{p}:day").await.unwrap().expect("the day expires");
        assert!(day_left > LONG, "{}: {day_left:?}", s.name());
    })
    .await;
}

#[tokio::test]
async fn counters_increment_and_carry_the_ttl_of_their_first_increment() {
    both("incr", async |s: &dyn Store| {
        assert_eq!(s.incr("c", LONG).await.unwrap(), 1, "{}", s.name());
        assert_eq!(s.incr("c", Duration::from_secs(1)).await.unwrap(), 2);
        let ttl = s.ttl("c").await.unwrap().expect("a counter expires");
        assert!(
            ttl > Duration::from_secs(30),
            "{}: the first increment sets the TTL ({ttl:?})",
            s.name()
        );
        assert_eq!(s.ttl("none").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_kept_count_moves_only_where_it_exists() {
    both("add_existing", async |s: &dyn Store| {
        let keys = ["kept:{k}:a", "kept:{k}:b"];
        let up = [(keys[0], 1), (keys[1], 1)];
        assert_eq!(
            s.add_existing(&up).await.unwrap(),
            [None, None],
            "{}",
            s.name()
        );
        assert_eq!(
            s.get(keys[0]).await.unwrap(),
            None,
            "{}: nothing written",
            s.name()
        );
        s.set(keys[1], "41", LONG).await.unwrap();
        assert_eq!(
            s.add_existing(&up).await.unwrap(),
            [None, Some(42)],
            "{}",
            s.name()
        );
        assert_eq!(s.get(keys[0]).await.unwrap(), None, "{}", s.name());
        assert_eq!(s.get(keys[1]).await.unwrap().as_deref(), Some("42"));
        let ttl = s.ttl(keys[1]).await.unwrap().expect("the expiry stays");
        assert!(ttl > Duration::from_secs(30), "{}: {ttl:?}", s.name());
        // Down by any amount, to zero and past it: a count is whatever its moves make it.
        let down = [(keys[0], -1), (keys[1], -43)];
        assert_eq!(
            s.add_existing(&down).await.unwrap(),
            [None, Some(-1)],
            "{}",
            s.name()
        );
        assert_eq!(s.get(keys[0]).await.unwrap(), None, "{}", s.name());
    })
    .await;
}

#[tokio::test]
async fn expired_keys_are_gone() {
    both("expiry", async |s: &dyn Store| {
        s.set("short", "x", Duration::from_millis(1)).await.unwrap();
        // Poll until it has expired (bounded): Redis expires on its own clock.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while s.get("short").await.unwrap().is_some() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: a 1 ms key outlived 5 s",
                s.name()
            );
            tokio::task::yield_now().await;
        }
        assert!(
            s.set_nx("short", "y", LONG).await.unwrap(),
            "{}: an expired key is absent",
            s.name()
        );
    })
    .await;
}

#[tokio::test]
async fn rankings_count_hits_in_the_window_and_boost_while_boosted() {
    use super::Ranking;
    const HOT: Ranking = Ranking {
        name: "r",
        boost: 2,
    };
    both("rank", async |s: &dyn Store| {
        let name = s.name();
        let now = 1_000;
        for (day, member) in [(10, 1), (11, 1), (11, 2), (11, 3), (11, 30)] {
            s.rank_hit(&HOT, day, member, now).await.unwrap();
        }
        // 1 has two hits; the others tie, the higher member first (30 after 3 as a string).
        assert_eq!(
            s.rank_range(&HOT, 0, 10).await.unwrap(),
            [1, 30, 3, 2],
            "{name}"
        );
        assert_eq!(s.rank_range(&HOT, 1, 2).await.unwrap(), [30, 3], "{name}");
        // A boost counts the hits already there, and those to come.
        s.rank_boost(&HOT, 2, now + 60, now).await.unwrap();
        s.rank_hit(&HOT, 11, 2, now).await.unwrap();
        assert_eq!(
            s.rank_range(&HOT, 0, 1).await.unwrap(),
            [2],
            "{name}: 4 points"
        );
        // Loading adds to what is there.
        s.rank_load(&HOT, &[(11, 3, 2), (11, 1, 2)], now)
            .await
            .unwrap();
        assert_eq!(
            s.rank_range(&HOT, 0, 10).await.unwrap(),
            [2, 1, 3, 30],
            "{name}"
        );
        // Day 10 leaves the window, in batches of one.
        let mut batches = 0;
        while s.rank_expire(&HOT, 11, now, 1).await.unwrap() > 0 {
            batches += 1;
        }
        assert_eq!(batches, 1, "{name}");
        assert_eq!(
            s.rank_range(&HOT, 0, 10).await.unwrap(),
            [2, 3, 1, 30],
            "{name}"
        );
        // The boost ends: 2 counts its two hits once.
        while s.rank_expire(&HOT, 11, now + 60, 100).await.unwrap() > 0 {}
        assert_eq!(
            s.rank_range(&HOT, 0, 10).await.unwrap(),
            [3, 1, 2, 30],
            "{name}"
        );
        // Every day leaves: nobody is ranked.
        while s.rank_expire(&HOT, 12, now + 60, 2).await.unwrap() > 0 {}
        assert!(
            s.rank_range(&HOT, 0, 10).await.unwrap().is_empty(),
            "{name}"
        );
        s.rank_hit(&HOT, 12, 5, now).await.unwrap();
        s.rank_clear(&HOT).await.unwrap();
        assert!(
            s.rank_range(&HOT, 0, 10).await.unwrap().is_empty(),
            "{name}"
        );
    })
    .await;
}

/// Taking hits back (an erased account's footprints) undoes what was counted, boosted hits at
/// their boost, never more than a day still counts, nothing of a day that expired.
#[tokio::test]
async fn rankings_take_back_what_was_counted_and_no_more() {
    use super::Ranking;
    const HOT: Ranking = Ranking {
        name: "t",
        boost: 2,
    };
    both("take", async |s: &dyn Store| {
        let name = s.name();
        let now = 1_000;
        s.rank_load(&HOT, &[(10, 1, 3), (11, 1, 1), (11, 2, 2), (11, 3, 1)], now)
            .await
            .unwrap();
        s.rank_boost(&HOT, 3, now + 60, now).await.unwrap();
        // 1: 4 hits, 2: 2, 3: 1 × 2.
        assert_eq!(
            s.rank_range(&HOT, 0, 10).await.unwrap(),
            [1, 3, 2],
            "{name}"
        );
        // More than day 11 counts for 1 takes its one hit; a day never counted takes nothing.
        s.rank_take(&HOT, &[(11, 1, 5), (9, 2, 1)], now)
            .await
            .unwrap();
        assert_eq!(
            s.rank_range(&HOT, 0, 10).await.unwrap(),
            [1, 3, 2],
            "{name}: 3, 2, 2"
        );
        // A boosted member loses its hit at its boost: gone with it.
        s.rank_take(&HOT, &[(11, 3, 1), (10, 1, 2)], now)
            .await
            .unwrap();
        assert_eq!(
            s.rank_range(&HOT, 0, 10).await.unwrap(),
            [2, 1],
            "{name}: 2, 1"
        );
        // Day 10 expires: what was taken is not taken twice.
        while s.rank_expire(&HOT, 11, now, 10).await.unwrap() > 0 {}
        assert_eq!(s.rank_range(&HOT, 0, 10).await.unwrap(), [2], "{name}");
        s.rank_take(&HOT, &[(11, 2, 2)], now).await.unwrap();
        assert!(
            s.rank_range(&HOT, 0, 10).await.unwrap().is_empty(),
            "{name}"
        );
        s.rank_clear(&HOT).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn clearing_deletes_every_key_under_the_prefix_on_every_node() {
    for var in REDIS_VARS {
        let Some(redis) = redis_store_at(var, "clear").await else {
            continue;
        };
        // Enough keys that a cluster's three primaries each hold some.
        let keys: Vec<String> = (0..60).map(|i| format!("k{i}")).collect();
        for key in &keys {
            redis.set(key, "v", LONG).await.unwrap();
        }
        assert_eq!(redis.clear().await.unwrap(), 60, "{var}");
        for key in &keys {
            assert_eq!(redis.get(key).await.unwrap(), None, "{var}: {key}");
        }
        redis.quit().await;
    }
}
