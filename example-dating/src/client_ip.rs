//! The client's address behind trusted proxies. nginx (or a load balancer) connects on the
//! clients' behalf; its `X-Forwarded-For` / `X-Real-IP` name the real client — but only a proxy
//! the configuration trusts may say so: anyone else could claim any address and dodge the
//! per-client limits.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

/// Addresses and networks whose forwarding headers are believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`... (comma- or list-separated).
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (item, None),
            };
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("trusted proxy `{item}`: not an IP address or network"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("trusted proxy `{item}`: prefix length 0 to {max}"))?,
            };
            nets.push((addr, bits));
        }
        Ok(TrustedProxies(nets))
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client seen through an IPv6 socket is the IPv4 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|&(net, bits)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(&net.octets(), &ip.octets(), bits),
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(&net.octets(), &ip.octets(), bits),
            _ => false,
        })
    }

    /// The client behind `peer`: when `peer` is trusted, the right-most address of
    /// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the address it
    /// saw, so the ones to the left are the client's own claims), else `X-Real-IP`; otherwise
    /// `peer` itself. `None` without a peer (in-process requests).
    pub fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.ip();
        if !self.contains(peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        if let Some(client) = forwarded.iter().rev().find(|ip| !self.contains(**ip)) {
            return Some(*client);
        }
        let real = headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Some(real.unwrap_or(peer))
    }
}

/// The client as every per-client limit counts it — SMS sends, operator login failures,
/// sockets: an IPv4 address by itself (one seen as an IPv4-mapped IPv6 address too, so a
/// client is one client on any socket), an IPv6 address by its /64 network, `2001:db8:0:1::/64`.
/// One host or subscriber is given a whole /64 and may send from any address in it (privacy
/// addresses change by themselves), so counting single IPv6 addresses would give one client
/// 2^64 budgets.
///
/// ```
/// use example_dating::client_ip::client_key;
/// assert_eq!(client_key("203.0.113.9".parse().unwrap()), "203.0.113.9");
/// assert_eq!(client_key("::ffff:203.0.113.9".parse().unwrap()), "203.0.113.9");
/// assert_eq!(
///     client_key("2001:db8:0:1:a:b:c:d".parse().unwrap()),
///     client_key("2001:db8:0:1::9".parse().unwrap())
/// );
/// ```
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !(u128::MAX >> 64);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (bytes, rest) = (usize::from(bits / 8), bits % 8);
    a[..bytes] == b[..bytes] && (rest == 0 || (a[bytes] ^ b[bytes]) >> (8 - rest) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn networks_parse_and_match() {
        let t = TrustedProxies::parse(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]).unwrap();
        for yes in ["127.0.0.1", "10.1.2.3", "fd12::1", "::ffff:10.9.9.9"] {
            assert!(t.contains(yes.parse().unwrap()), "{yes}");
        }
        for no in ["127.0.0.2", "11.0.0.1", "fe80::1"] {
            assert!(!t.contains(no.parse().unwrap()), "{no}");
        }
        assert!(TrustedProxies::parse(["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(["nginx"]).is_err());
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_network() {
        let key = |ip: &str| client_key(ip.parse().unwrap());
        assert_eq!(key("2001:db8:0:1::1"), "2001:db8:0:1::/64");
        assert_eq!(key("2001:db8:0:1:ffff:ffff:ffff:ffff"), "2001:db8:0:1::/64");
        assert_ne!(key("2001:db8:0:2::1"), key("2001:db8:0:1::1"));
        assert_eq!(key("::1"), "::/64");
        assert_eq!(key("::ffff:198.51.100.7"), key("198.51.100.7"));
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
        assert_ne!(key("198.51.100.7"), key("198.51.100.8"));
    }

    #[test]
    fn only_a_trusted_peer_may_name_the_client() {
        let t = TrustedProxies::parse(["127.0.0.1"]).unwrap();
        let via_nginx: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let direct: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7")]);
        assert_eq!(
            t.client(Some(via_nginx), &xff),
            Some("198.51.100.7".parse().unwrap())
        );
        // A client claiming an address directly is not believed.
        assert_eq!(
            t.client(Some(direct), &xff),
            Some("203.0.113.9".parse().unwrap())
        );
        let real = headers(&[("x-real-ip", "198.51.100.8")]);
        assert_eq!(
            t.client(Some(via_nginx), &real),
            Some("198.51.100.8".parse().unwrap())
        );
        assert_eq!(
            t.client(Some(via_nginx), &HeaderMap::new()),
            Some(via_nginx.ip())
        );
        assert_eq!(t.client(None, &xff), None);
    }
}
