//! The client's address as a handler argument: the peer, or behind a trusted proxy the address
//! it forwarded (`crate::client_ip`). What every per-address limit counts — SMS sends, sockets.

use std::net::IpAddr;

use kotori::extract::FromCtx;
use kotori::{Ctx, Rejection};

use crate::state::AppState;

/// The client's address (`None` when served in process, without a peer).
#[derive(Clone, Debug)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// The address as the limits' keys spell it (`unknown` without one).
    pub fn key(&self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

impl FromCtx<AppState> for ClientAddress {
    fn from_ctx(cx: &mut Ctx<AppState>) -> Result<Self, Rejection> {
        let peer = cx.peer_addr();
        let client = cx.state().config.trusted_proxies.client(peer, cx.headers());
        Ok(ClientAddress(client))
    }
}
