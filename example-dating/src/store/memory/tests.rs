//! The in-process store's own: its sweeper.

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
