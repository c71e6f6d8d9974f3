//! A hold: a store key that says "taken" for a while — a conversation's turn, the hot list's
//! rebuild, a slow-mode interval, the hour of an export — given back early only by the one
//! that took it.
//!
//! Every hold expires by itself, so a holder that dies never keeps it. But a holder slower
//! than the expiry no longer holds it: someone else may have taken the key since, and a plain
//! delete would end *their* hold. A hold therefore writes a fresh random mark and is given back
//! with [`Store::del_if`] of that mark (a compare-and-delete), never with a plain delete.

use std::time::Duration;

use super::{Store, StoreError};

/// A key this caller holds until it expires or is given back.
#[must_use = "a hold is given back with `give_back`, or left to expire"]
pub struct Hold {
    key: String,
    mark: String,
}

impl Hold {
    /// Takes `key` for `ttl` if nobody holds it: `None` when it is taken.
    pub async fn take(
        store: &dyn Store,
        key: impl Into<String>,
        ttl: Duration,
    ) -> Result<Option<Hold>, StoreError> {
        let hold = Hold {
            key: key.into(),
            mark: crate::random::hex_token(8),
        };
        Ok(store
            .set_nx(&hold.key, &hold.mark, ttl)
            .await?
            .then_some(hold))
    }

    /// The key held.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Gives the hold back if it is still this one's; `false` when it had expired (and maybe
    /// passed to someone else, whose hold stays).
    pub async fn give_back(self, store: &dyn Store) -> Result<bool, StoreError> {
        store.del_if(&self.key, &self.mark).await
    }

    /// [`Hold::give_back`] where nothing waits on it: a store that fails here is logged, and
    /// the hold runs out by itself.
    pub async fn give_back_or_expire(self, store: &dyn Store) {
        let key = self.key.clone();
        if let Err(e) = self.give_back(store).await {
            tracing::warn!(error = %e, key, "a hold was not given back; it expires");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn a_late_holder_does_not_end_the_next_hold() {
        let store = MemoryStore::new();
        let first = Hold::take(&store, "h", Duration::from_secs(60))
            .await
            .unwrap()
            .expect("free");
        assert!(
            Hold::take(&store, "h", Duration::from_secs(60))
                .await
                .unwrap()
                .is_none(),
            "held"
        );
        // The first hold's time runs out (here: the key is deleted) and another takes it.
        store.del("h").await.unwrap();
        let second = Hold::take(&store, "h", Duration::from_secs(60))
            .await
            .unwrap()
            .expect("free again");
        assert!(!first.give_back(&store).await.unwrap(), "not its hold");
        assert!(store.get("h").await.unwrap().is_some(), "the second stays");
        assert!(second.give_back(&store).await.unwrap());
        assert!(store.get("h").await.unwrap().is_none());
    }

    /// A store that fails the release: the caller goes on, and the hold is left to expire.
    #[tokio::test]
    async fn a_release_the_store_refuses_leaves_the_hold_to_expire() {
        use crate::store::{StoreError, Watched};
        use std::sync::Arc;
        let inner: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let store = Watched::new(
            Arc::clone(&inner),
            Box::new(|command, _| match command {
                "del_if" => Err(StoreError("refused".into())),
                _ => Ok(()),
            }),
        );
        let hold = Hold::take(&store, "h", Duration::from_secs(60))
            .await
            .unwrap()
            .expect("free");
        hold.give_back_or_expire(&store).await;
        assert!(
            inner.ttl("h").await.unwrap().is_some(),
            "held until it expires"
        );
    }
}
