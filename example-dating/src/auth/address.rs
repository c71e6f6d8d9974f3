//! The client's address as a handler argument: the peer, or behind a trusted proxy the address
//! it forwarded (`crate::client_ip`). What every per-address limit counts — SMS sends, operator
//! login failures, sockets — by [`ClientAddress::key`], the one spelling of a client.

use std::net::IpAddr;

use kotori::extract::FromCtx;
use kotori::{Ctx, Rejection};

use crate::client_ip::client_key;
use crate::state::AppState;

/// The client's address (`None` when served in process, without a peer).
#[derive(Clone, Debug)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// The client as the limits count it (`unknown` without an address): an IPv6 client by
    /// its /64 ([`client_key`]).
    pub fn key(&self) -> String {
        self.known_key().unwrap_or_else(|| "unknown".to_owned())
    }

    /// [`ClientAddress::key`], or `None` in process (where nothing is counted per address).
    pub fn known_key(&self) -> Option<String> {
        self.0.map(client_key)
    }

    /// The client of the request in `cx`.
    pub fn of(cx: &Ctx<AppState>) -> Self {
        let peer = cx.peer_addr();
        ClientAddress(cx.state().config.trusted_proxies.client(peer, cx.headers()))
    }
}

impl FromCtx<AppState> for ClientAddress {
    fn from_ctx(cx: &mut Ctx<AppState>) -> Result<Self, Rejection> {
        Ok(ClientAddress::of(cx))
    }
}
