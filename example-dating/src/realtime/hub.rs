//! The hub: who is connected here, and how an event reaches every connection it concerns — on
//! this instance directly, on the others through Redis pub/sub when `REDIS_URL` is set.
//!
//! Writes stay on the HTTP API; the hub only delivers what already happened. Each connection
//! has a bounded queue: chat never drops silently (a connection whose queue is full is closed
//! with 1013, and the client catches up with `after_id`), danmaku are dropped for a slow reader
//! and counted, so one stuck client never delays the others.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use fred::prelude::*;
use fred::types::Builder;
use fred::types::config::{Config as RedisConfig, ReconnectPolicy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

/// Events a connection's queue holds before it counts as stuck.
pub const QUEUE: usize = 256;
/// Connections one user may hold, across instances; a sixth closes the oldest (`replaced`).
pub const MAX_CONNECTIONS: usize = 5;
/// Connections one client address may hold across instances unless configured
/// ([`Hub::limit_per_address`]); past it the address's oldest is closed (`replaced`).
pub const PER_ADDRESS: usize = 50;

pub use super::route::{Listener, Route};

/// An event and its route, as it crosses instances.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Delivery {
    route: Route,
    /// `{"type": ..., "data": ...}`.
    event: Value,
    /// The user whose action it is (a danmaku's author): not delivered across a block.
    from: Option<i64>,
}

/// A connection registered with the hub that leaves it when dropped: its task ended, or its
/// stream was dropped with the client, or it failed before it was served.
pub struct Registered {
    hub: Arc<Hub>,
    /// The connection.
    pub conn: Connection,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let (hub, id) = (Arc::clone(&self.hub), self.conn.id);
        tokio::spawn(async move { hub.unregister(id).await });
    }
}

/// What a connection's task receives.
#[derive(Debug)]
pub enum Out {
    /// An event, as the JSON text sent to the client.
    Event(Arc<str>),
}

/// The handle a connection task holds.
pub struct Connection {
    /// Its id in the hub.
    pub id: u64,
    /// Its queue.
    pub events: mpsc::Receiver<Out>,
    /// Set when the connection must end: (close code, `bye` reason).
    pub closing: watch::Receiver<Option<(u16, String)>>,
    /// Danmaku dropped per live since the last `lag` event.
    pub lagged: Arc<Mutex<HashMap<i64, u64>>>,
}

struct Conn {
    user: i64,
    address: Option<String>,
    tx: mpsc::Sender<Out>,
    close: watch::Sender<Option<(u16, String)>>,
    lives: HashSet<i64>,
    lagged: Arc<Mutex<HashMap<i64, u64>>>,
    /// Users this connection's user blocked or was blocked by.
    hidden: HashSet<i64>,
}

#[derive(Default)]
struct Local {
    conns: HashMap<u64, Conn>,
    by_user: HashMap<i64, Vec<u64>>,
    /// Every instance's connections of each user, oldest first (`instance:connection`).
    everywhere: HashMap<i64, VecDeque<String>>,
    /// The same, by client address.
    by_address: HashMap<String, VecDeque<String>>,
}

/// The hub of one instance.
pub struct Hub {
    local: Mutex<Local>,
    next_id: AtomicU64,
    /// This instance, in connection keys.
    instance: String,
    redis: Option<Bridge>,
    per_address: AtomicUsize,
    listeners: Mutex<Vec<Arc<dyn Listener>>>,
}

struct Bridge {
    publisher: Pool,
    channel: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `{"type": kind, "data": data}`.
pub fn event(kind: &str, data: Value) -> Value {
    json!({ "type": kind, "data": data })
}

impl Hub {
    /// A hub for one process: events reach the connections of this instance.
    pub fn local() -> Arc<Hub> {
        Arc::new(Hub {
            local: Mutex::default(),
            next_id: AtomicU64::new(1),
            instance: crate::random::hex_token(8),
            redis: None,
            per_address: AtomicUsize::new(PER_ADDRESS),
            listeners: Mutex::default(),
        })
    }

    /// A hub that fans out through Redis pub/sub on `{prefix}realtime`: every instance
    /// subscribes, and delivers to its own connections. The subscription is restored by itself
    /// after Redis comes back.
    pub async fn with_redis(url: &str, prefix: &str) -> Result<Arc<Hub>, String> {
        let mut config = RedisConfig::from_url(url).map_err(|e| e.to_string())?;
        config.fail_fast = false;
        let policy = ReconnectPolicy::new_constant(0, 200);
        // A publish never waits on a Redis that is down: it fails at once (or after a second)
        // and the event goes to this instance's connections only.
        let timeout = std::time::Duration::from_secs(1);
        let publisher = Builder::from_config(config.clone())
            .with_performance_config(|perf| perf.default_command_timeout = timeout)
            .with_connection_config(|conn| {
                conn.connection_timeout = timeout;
                conn.max_command_attempts = 1;
            })
            .set_policy(policy.clone())
            .build_pool(2)
            .map_err(|e| e.to_string())?;
        publisher.connect();
        // Not fatal: a Redis that comes later is picked up (the policy reconnects).
        let settle = std::time::Duration::from_secs(2);
        let _ = tokio::time::timeout(settle, publisher.wait_for_connect()).await;
        let subscriber = Builder::from_config(config)
            // Room for bursts (a thousand viewers connecting at once announce themselves).
            .with_performance_config(|perf| perf.broadcast_channel_capacity = 65_536)
            .set_policy(policy)
            .build_subscriber_client()
            .map_err(|e| e.to_string())?;
        subscriber.connect();
        let _ = tokio::time::timeout(settle, subscriber.wait_for_connect()).await;
        let channel = format!("{prefix}realtime");
        let hub = Arc::new(Hub {
            local: Mutex::default(),
            next_id: AtomicU64::new(1),
            instance: crate::random::hex_token(8),
            redis: Some(Bridge {
                publisher,
                channel: channel.clone(),
            }),
            per_address: AtomicUsize::new(PER_ADDRESS),
            listeners: Mutex::default(),
        });
        let weak = Arc::downgrade(&hub);
        let mut messages = subscriber.message_rx();
        tokio::spawn(async move {
            loop {
                let message = match messages.recv().await {
                    Ok(message) => message,
                    // A burst larger than the client's buffer: those events are lost (clients
                    // catch up from the history), the subscription goes on.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "real-time fan-out fell behind; events dropped");
                        if let Some(hub) = weak.upgrade() {
                            hub.missed();
                        }
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                let Some(hub) = weak.upgrade() else { return };
                let Some(text) = message.value.as_str() else {
                    continue;
                };
                match serde_json::from_str::<Delivery>(&text) {
                    Ok(delivery) => hub.deliver(&delivery),
                    Err(e) => tracing::warn!(error = %e, "an unreadable real-time message"),
                }
            }
        });
        // Re-subscribes after every reconnection; whatever was published while the
        // connection was down is lost, and the listeners are told so.
        subscriber.manage_subscriptions();
        let (weak, mut reconnects) = (Arc::downgrade(&hub), subscriber.reconnect_rx());
        tokio::spawn(async move {
            while reconnects.recv().await.is_ok() {
                let Some(hub) = weak.upgrade() else { return };
                hub.missed();
            }
        });
        // Subscribed in the background: a Redis that is down at start must not keep the
        // server from listening. The task keeps the subscriber alive as long as the process.
        tokio::spawn(async move {
            if let Err(e) = subscriber.subscribe(channel).await {
                tracing::warn!(error = %e, "real-time subscription pending until Redis answers");
            }
            std::future::pending::<()>().await;
        });
        Ok(hub)
    }

    /// Tells `listener` of every route delivered here from now on.
    pub fn listen(&self, listener: Arc<dyn Listener>) {
        lock(&self.listeners).push(listener);
    }

    /// Tells every listener of `route` now, as a delivery here would, without telling any
    /// connection: the instance that made a change has its own copies follow it before it
    /// answers (the hub's own delivery of the route comes later, maybe after the answer).
    pub fn tell_listeners(&self, route: &Route) {
        let listeners = lock(&self.listeners).clone();
        for listener in listeners {
            listener.delivered(route);
        }
    }

    fn missed(&self) {
        let listeners = lock(&self.listeners).clone();
        for listener in listeners {
            listener.missed();
        }
    }

    /// At most `n` connections from one client address, across instances (every instance
    /// should be told the same number).
    pub fn limit_per_address(&self, n: usize) {
        self.per_address.store(n.max(1), Ordering::Relaxed);
    }

    /// Registers a connection of `user` from `address`. A connection past [`MAX_CONNECTIONS`]
    /// for the user, or past the per-address limit for the address — on any instance — closes
    /// the oldest with `replaced`. It hides nobody until [`Hub::hide`] says whom.
    pub async fn register(&self, user: i64, address: Option<String>) -> Connection {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, events) = mpsc::channel(QUEUE);
        let (close, closing) = watch::channel(None);
        let lagged = Arc::new(Mutex::new(HashMap::new()));
        {
            let mut local = lock(&self.local);
            local.conns.insert(
                id,
                Conn {
                    user,
                    address: address.clone(),
                    tx,
                    close,
                    lives: HashSet::new(),
                    lagged: Arc::clone(&lagged),
                    hidden: HashSet::new(),
                },
            );
            local.by_user.entry(user).or_default().push(id);
        }
        let opened = Route::Opened(user, self.key(id), address);
        self.publish(opened, Value::Null, None).await;
        Connection {
            id,
            events,
            closing,
            lagged,
        }
    }

    /// [`Hub::register`], held: the connection leaves the hub when the handle is dropped.
    pub async fn join(self: &Arc<Self>, user: i64, address: Option<String>) -> Registered {
        let conn = self.register(user, address).await;
        Registered {
            hub: Arc::clone(self),
            conn,
        }
    }

    /// Adds `hidden` (people blocked either way) to whom a connection hides: read after the
    /// registration, so that a block made meanwhile is either in it or announced to it.
    pub fn hide(&self, id: u64, hidden: impl IntoIterator<Item = i64>) {
        if let Some(conn) = lock(&self.local).conns.get_mut(&id) {
            conn.hidden.extend(hidden);
        }
    }

    /// How many connections `user` holds on this instance (for operations and tests).
    pub fn connections_of(&self, user: i64) -> usize {
        lock(&self.local).by_user.get(&user).map_or(0, Vec::len)
    }

    /// Asks a connection to end with `code` and a `bye` of `reason`.
    pub fn close(&self, id: u64, code: u16, reason: &str) {
        if let Some(conn) = lock(&self.local).conns.get(&id) {
            let _ = conn.close.send(Some((code, reason.into())));
        }
    }

    fn key(&self, id: u64) -> String {
        format!("{}:{id}", self.instance)
    }

    /// Forgets a connection that ended, here and (announced) everywhere.
    pub async fn unregister(&self, id: u64) {
        let (user, address) = {
            let mut local = lock(&self.local);
            let Some(conn) = local.conns.remove(&id) else {
                return;
            };
            if let Some(ids) = local.by_user.get_mut(&conn.user) {
                ids.retain(|&c| c != id);
                if ids.is_empty() {
                    local.by_user.remove(&conn.user);
                }
            }
            (conn.user, conn.address)
        };
        let closed = Route::Closed(user, self.key(id), address);
        self.publish(closed, Value::Null, None).await;
    }

    /// Subscribes a connection to a live's danmaku.
    pub fn subscribe(&self, id: u64, live: i64) {
        if let Some(conn) = lock(&self.local).conns.get_mut(&id) {
            conn.lives.insert(live);
        }
    }

    /// Ends a connection's subscription.
    pub fn unsubscribe(&self, id: u64, live: i64) {
        if let Some(conn) = lock(&self.local).conns.get_mut(&id) {
            conn.lives.remove(&live);
        }
    }

    /// Sends `event` where `route` says, on every instance. Best effort: what it announces is
    /// in the database already, and a client that missed it catches up with `after_id`. When
    /// Redis cannot be reached, this instance's connections still get it.
    pub async fn publish(&self, route: Route, event: Value, from: Option<i64>) {
        let delivery = Delivery { route, event, from };
        match &self.redis {
            None => self.deliver(&delivery),
            Some(bridge) => {
                if !bridge.publisher.is_connected() {
                    self.deliver(&delivery);
                    return;
                }
                let text = serde_json::to_string(&delivery).expect("a delivery serializes");
                let published: Result<i64, _> = bridge
                    .publisher
                    .next()
                    .publish(bridge.channel.as_str(), text)
                    .await;
                if let Err(e) = published {
                    tracing::warn!(error = %e, "real-time fan-out through Redis failed; delivering here only");
                    self.deliver(&delivery);
                }
            }
        }
    }

    /// Delivers to this instance's connections.
    fn deliver(&self, delivery: &Delivery) {
        self.tell_listeners(&delivery.route);
        let mut local = lock(&self.local);
        match &delivery.route {
            Route::Changed(_) | Route::Contacted(..) | Route::Moved(..) => {}
            Route::Opened(user, key, address) => {
                let mut oldest = Vec::new();
                let all = local.everywhere.entry(*user).or_default();
                all.push_back(key.clone());
                if all.len() > MAX_CONNECTIONS {
                    oldest.extend(all.pop_front());
                }
                if let Some(address) = address {
                    let cap = self.per_address.load(Ordering::Relaxed);
                    let all = local.by_address.entry(address.clone()).or_default();
                    all.push_back(key.clone());
                    if all.len() > cap {
                        oldest.extend(all.pop_front());
                    }
                }
                // Only the instance holding the oldest closes it.
                let prefix = format!("{}:", self.instance);
                for key in oldest {
                    let mine = key
                        .strip_prefix(&prefix)
                        .and_then(|id| id.parse::<u64>().ok());
                    if let Some(conn) = mine.and_then(|id| local.conns.get(&id)) {
                        let _ = conn.close.send(Some((1000, "replaced".into())));
                    }
                }
            }
            // A block that ended leaves open connections as they are: the other may block
            // too, which only the database knows; a connection opened later reads it.
            Route::Blocked(_, _, false) => {}
            Route::Blocked(a, b, true) => {
                for conn in local.conns.values_mut() {
                    let other = if conn.user == *a {
                        *b
                    } else if conn.user == *b {
                        *a
                    } else {
                        continue;
                    };
                    conn.hidden.insert(other);
                }
            }
            Route::Closed(user, key, address) => {
                if let Some(all) = local.everywhere.get_mut(user) {
                    all.retain(|k| k != key);
                    if all.is_empty() {
                        local.everywhere.remove(user);
                    }
                }
                if let Some(address) = address {
                    if let Some(all) = local.by_address.get_mut(address) {
                        all.retain(|k| k != key);
                        if all.is_empty() {
                            local.by_address.remove(address);
                        }
                    }
                }
            }
            Route::Close(user, reason) => {
                for id in local.by_user.get(user).cloned().unwrap_or_default() {
                    if let Some(conn) = local.conns.get(&id) {
                        let _ = conn.close.send(Some((1000, reason.clone())));
                    }
                }
            }
            Route::User(user) => {
                let text: Arc<str> = delivery.event.to_string().into();
                for id in local.by_user.get(user).cloned().unwrap_or_default() {
                    let Some(conn) = local.conns.get(&id) else {
                        continue;
                    };
                    if conn.tx.try_send(Out::Event(Arc::clone(&text))).is_err() {
                        // Chat is never dropped silently: a stuck connection is closed, and
                        // the client catches up from the history.
                        let _ = conn.close.send(Some((1013, "overloaded".into())));
                    }
                }
            }
            Route::Live(live) => {
                let text: Arc<str> = delivery.event.to_string().into();
                let finished = delivery.event["type"] == "live_finished";
                for conn in local.conns.values_mut() {
                    if !conn.lives.contains(live)
                        || delivery.from.is_some_and(|f| conn.hidden.contains(&f))
                    {
                        continue;
                    }
                    if conn.tx.try_send(Out::Event(Arc::clone(&text))).is_err() {
                        *lock(&conn.lagged).entry(*live).or_default() += 1;
                    }
                    if finished {
                        conn.lives.remove(live);
                    }
                }
            }
        }
    }
}
