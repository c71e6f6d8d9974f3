//! The app's rate limits, in one place: what each counts, how many, over which windows. A
//! limit is taken all or none in one store step (`Store::take`): a refused try writes
//! nothing, and `Retry-After` is the time the refusing window has left.
//!
//! | limit | who | windows |
//! |---|---|---|
//! | [`SMS_PER_PHONE`] | a phone number | 1 a minute, 5 an hour, 10 a day |
//! | [`MESSAGES`] | a sender | 30 a minute, 1,000 a day |
//! | [`REPORTS`] | a reporter | 10 an hour, 30 a day |
//!
//! The per-client SMS limit (configurable) and operator logins (failures, not takes) are
//! counted where they are decided: `auth::sms` and `manage::session`.

use std::time::Duration;

use crate::codes::{self, AppError};
use crate::store::{Quota, Store, Write};

/// A limit on what one person (or phone) does: a name, and `(window name, takes, seconds)`.
pub struct Limit {
    name: &'static str,
    windows: &'static [(&'static str, i64, u64)],
    /// Where its counters live on a Redis Cluster: `None`, each person's own slot (a hash tag
    /// per person); `Some(tag)`, one slot shared by everyone, for a limit taken together with
    /// another's counters in one script.
    slot: Option<&'static str>,
}

/// The hash tag of every SMS counter — a phone's windows and a client's day: one script
/// checks a send against all of them, so a refused send is refused in one round trip and
/// writes nothing. SMS sends are few next to everything else, so one slot carries them.
pub const SMS_SLOT: &str = "{sms}";

/// SMS codes sent to one phone.
pub const SMS_PER_PHONE: Limit = Limit {
    name: "sms",
    windows: &[("minute", 1, 60), ("hour", 5, 3600), ("day", 10, 86_400)],
    slot: Some(SMS_SLOT),
};

/// Chat messages one user sends, across all peers: a conversation never grows faster than a
/// person types, and nobody can inflate another's export by flooding them.
pub const MESSAGES: Limit = Limit {
    name: "msg",
    windows: &[("minute", 30, 60), ("day", 1000, 86_400)],
    slot: None,
};

/// Reports one user files.
pub const REPORTS: Limit = Limit {
    name: "report",
    windows: &[("hour", 10, 3600), ("day", 30, 86_400)],
    slot: None,
};

impl Limit {
    /// The counter of `who` in `window`. A limit's counters share a Redis Cluster slot (see
    /// `slot`), so one script takes them all.
    pub fn key(&self, who: &str, window: &str) -> String {
        match self.slot {
            Some(tag) => format!("{}:{tag}:{who}:{window}", self.name),
            None => format!("{}:{{{who}}}:{window}", self.name),
        }
    }

    /// Takes one try for `who` from every window, or refuses with 42901 and writes nothing.
    pub async fn take(&self, store: &dyn Store, who: &str) -> Result<(), AppError> {
        self.take_after(store, &[], who, None).await
    }

    /// Gives back the try [`Limit::take`] took for `who`, when what it was taken for did not
    /// happen — a conflict found after it, a database that failed: a limit counts what was
    /// done, and a write that fails leaves nothing behind, its count included. A window that
    /// ended meanwhile is not touched (its counter is gone). Best effort: a store that fails
    /// here leaves the try spent until its window ends, and says so in the log.
    pub async fn give_back(&self, store: &dyn Store, who: &str) {
        self.give_back_after(store, &[], who).await;
    }

    /// [`Limit::give_back`] for what [`Limit::take_after`] took: the counters `first` as
    /// well (on this limit's slot).
    pub async fn give_back_after(&self, store: &dyn Store, first: &[&str], who: &str) {
        let keys = self.keys(who);
        let moves: Vec<(&str, i64)> = first
            .iter()
            .copied()
            .chain(keys.iter().map(String::as_str))
            .map(|key| (key, -1))
            .collect();
        if let Err(e) = store.add_existing(&moves).await {
            tracing::warn!(error = %e, limit = self.name, who, "could not give a try back");
        }
    }

    /// The counters of `who`, one per window.
    fn keys(&self, who: &str) -> Vec<String> {
        self.windows
            .iter()
            .map(|(window, _, _)| self.key(who, window))
            .collect()
    }

    /// Takes one try from each of `first` and then from every window of `who`, all or none,
    /// in one store step, and writes `then` in the same step once they are taken; refuses
    /// with 42901 and the time the first spent counter has left, and writes nothing. `first`
    /// and `then` must live on this limit's slot.
    pub async fn take_after(
        &self,
        store: &dyn Store,
        first: &[Quota<'_>],
        who: &str,
        then: Option<Write<'_>>,
    ) -> Result<(), AppError> {
        let keys = self.keys(who);
        let quotas: Vec<Quota<'_>> = first
            .iter()
            .copied()
            .chain(
                keys.iter()
                    .zip(self.windows)
                    .map(|(key, (_, limit, secs))| Quota {
                        key,
                        limit: *limit,
                        window: Duration::from_secs(*secs),
                    }),
            )
            .collect();
        match store.take(&quotas, then).await? {
            Some(left) => Err(codes::rate_limited(left.as_secs().max(1))),
            None => Ok(()),
        }
    }
}
