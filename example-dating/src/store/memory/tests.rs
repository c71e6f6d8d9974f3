//! The in-process store's own: its sweeper, and its replay marks' expiry.

use std::sync::Arc;
use std::time::Duration;

use super::MemoryStore;
use crate::store::Store;

#[tokio::test(start_paused = true)]
async fn expired_keys_are_swept_shard_by_shard() {
    let store = MemoryStore::new();
    for i in 0..1000 {
        store
            .set_nx(&format!("nonce:{i}"), "1", Duration::from_secs(10))
            .await
            .unwrap();
    }
    store
        .set("keeps", "1", Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(store.len(), 1001);
    tokio::time::advance(Duration::from_secs(11)).await;
    let swept: usize = (0..64).map(|_| store.sweep_one_shard()).sum();
    assert_eq!(swept, 1000, "one pass drops every expired key");
    assert_eq!(store.len(), 1);
    assert_eq!(store.get("keeps").await.unwrap().as_deref(), Some("1"));
}

#[tokio::test(start_paused = true)]
async fn the_background_sweeper_keeps_the_store_from_growing() {
    let store = Arc::new(MemoryStore::new());
    let sweeper = store.sweep_every(Duration::from_secs(1));
    for round in 0..5 {
        for i in 0..200 {
            let key = format!("sig:{round}:{i}");
            store
                .set_nx(&key, "1", Duration::from_secs(2))
                .await
                .unwrap();
        }
        // Three seconds pass: every key of the round before expires and is swept.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    assert!(store.len() <= 200, "held {} keys", store.len());
    drop(store);
    // The task ends with the store.
    tokio::time::timeout(Duration::from_secs(5), sweeper)
        .await
        .unwrap()
        .unwrap();
}

/// A mark is new again once its ttl has passed, is swept once expired, and is no key.
#[tokio::test(start_paused = true)]
async fn marks_expire_after_their_ttl_and_are_swept() {
    let store = MemoryStore::new();
    let ttl = Duration::from_secs(10);
    let keys: Vec<String> = (0..1000).map(|i| format!("nonce:k:{i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let (new, _) = store.mark_each_and_get(&keys, ttl, None).await.unwrap();
    assert!(new.iter().all(|&n| n));
    assert_eq!(
        (store.marks_len(), store.len()),
        (1000, 0),
        "marks are not keys"
    );
    assert_eq!(store.get("nonce:k:1").await.unwrap(), None);
    tokio::time::advance(Duration::from_secs(9)).await;
    let (new, _) = store
        .mark_each_and_get(&keys[..1], ttl, None)
        .await
        .unwrap();
    assert_eq!(new, [false], "still marked within its ttl");
    tokio::time::advance(Duration::from_secs(2)).await;
    let (new, _) = store
        .mark_each_and_get(&keys[..1], ttl, None)
        .await
        .unwrap();
    assert_eq!(new, [true], "new again once its ttl passed");
    let swept: usize = (0..64).map(|_| store.sweep_one_shard()).sum();
    assert_eq!(swept, 999, "one pass drops every expired mark");
    assert_eq!(store.marks_len(), 1);
}
