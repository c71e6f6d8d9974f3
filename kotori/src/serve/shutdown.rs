//! The server's shutdown, as connections and upgraded sockets see it.

use tokio::sync::watch;

/// Tells upgraded connections (WebSockets) when the server shuts down, and by when they must
/// be gone. Each open socket holds a clone: the server knows they are all closed when the
/// channel is.
#[derive(Clone)]
#[cfg_attr(not(feature = "ws"), allow(dead_code))]
pub(crate) struct ShutdownSignal(pub(crate) watch::Receiver<Option<tokio::time::Instant>>);

impl ShutdownSignal {
    /// Completes once a graceful shutdown has begun (or the server is gone).
    pub(super) async fn begun(&self) {
        let _ = self.0.clone().wait_for(Option::is_some).await;
    }
}
