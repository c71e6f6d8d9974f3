//! Where a real-time event goes ([`Route`]), and who else hears of every route delivered
//! ([`Listener`]: what keeps copies of what a route announces a change of).

use serde::{Deserialize, Serialize};

/// The reason of the `Close` (and the `bye`) an erased account's connections get: what the
/// [`Listener`]s that keep a person's place take them out on.
pub const ERASED: &str = "deleted";

/// Where an event goes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Route {
    /// Every connection of a user (chat: never dropped silently).
    User(i64),
    /// Every connection subscribed to a live (danmaku: dropped for a slow reader).
    Live(i64),
    /// Ends every connection of a user, after a `bye` with this reason.
    Close(i64, String),
    /// A connection of a user opened (`instance:connection`), from a client address: every
    /// instance keeps the same order of them, so they agree on which is the oldest.
    Opened(i64, String, Option<String>),
    /// A connection of a user ended.
    Closed(i64, String, Option<String>),
    /// A block between two users began (`true`: their open connections stop passing each
    /// other's events) or ended (open connections keep hiding: either may still block the
    /// other; the [`Listener`]s forget what they kept).
    Blocked(i64, i64, bool),
    /// What anyone may see of a user changed (their profile, who may see it, a ban lifted):
    /// no connection is told, the [`Listener`]s are (`people::cache` forgets its copy).
    Changed(i64),
    /// Two users exchanged a message and may not have been contacts before: no connection is
    /// told, the [`Listener`]s are (`people::cache` forgets whom each has talked with).
    Contacted(i64, i64),
    /// A user set their location (`lat`, `lng`): no connection is told, the [`Listener`]s are
    /// (`people::geo` moves them in this instance's index).
    Moved(i64, f64, f64),
}

/// Told of every route delivered on this instance, and of the times some may have been
/// missed: what keeps a copy of something a route announces a change of (`people::cache`)
/// listens here, so that a change made on any instance reaches it.
pub trait Listener: Send + Sync {
    /// `route` was delivered here (before any connection is told).
    fn delivered(&self, route: &Route);
    /// Deliveries may have been lost (the subscription to Redis was restored, or fell
    /// behind): forget whatever a lost route could have changed.
    fn missed(&self);
}
