//! The `Host` rule of HTTP/1 (RFC 9112 §3.2): a server answers `400` to an HTTP/1.1 request
//! without a `Host`, and to any request with more than one, or with one that is not a host and
//! an optional port. Where a proxy and the application each read a different one of two `Host`
//! lines, a cache keyed by one serves what the other asked for; and an application that writes
//! its own URLs from `Host` must not be handed text that is not one.
//!
//! HTTP/2 carries the authority in `:authority` and is left to hyper.

use http::header::HOST;

/// What is wrong with `req`'s `Host`, as a message for the client; `None` if nothing is.
pub(super) fn problem<B>(req: &http::Request<B>) -> Option<&'static str> {
    let mut hosts = req.headers().get_all(HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if req.version() == http::Version::HTTP_11 => {
            Some("missing Host header: HTTP/1.1 requests name the server they are for")
        }
        (None, _) => None,
        (Some(_), Some(_)) => Some("more than one Host header: send one"),
        (Some(host), None) if !is_host(host.as_bytes()) => {
            Some("malformed Host header: send a host name or address, and an optional port")
        }
        (Some(_), None) => None,
    }
}

/// `uri-host [ ":" port ]`, or nothing (a request for a resource with no authority).
fn is_host(value: &[u8]) -> bool {
    if value.is_empty() {
        return true;
    }
    // No user information: `Host` names a server, and `user@` in it is a trick on whoever
    // reads the part before the `@` as the host.
    let port = match value.iter().rposition(|&b| b == b':' || b == b']') {
        Some(at) if value[at] == b':' => &value[at + 1..],
        _ => &[][..],
    };
    !value.contains(&b'@')
        && port.iter().all(u8::is_ascii_digit)
        && std::str::from_utf8(value)
            .ok()
            .and_then(|text| text.parse::<http::uri::Authority>().ok())
            .is_some_and(|authority| authority.as_str().len() == value.len())
}

#[cfg(test)]
mod tests {
    use super::{is_host, problem};

    fn request(version: http::Version, hosts: &[&str]) -> http::Request<()> {
        let mut req = http::Request::builder().version(version).uri("/");
        for host in hosts {
            req = req.header(http::header::HOST, *host);
        }
        req.body(()).unwrap()
    }

    #[test]
    fn one_host_is_required_of_http_1_1_and_two_are_refused_of_any() {
        use http::Version;
        assert!(problem(&request(Version::HTTP_11, &[])).is_some());
        assert!(problem(&request(Version::HTTP_10, &[])).is_none());
        assert!(problem(&request(Version::HTTP_11, &["a.example"])).is_none());
        for version in [Version::HTTP_10, Version::HTTP_11] {
            let two = request(version, &["a.example", "b.example"]);
            assert!(problem(&two).is_some(), "{version:?}");
            let same = request(version, &["a.example", "a.example"]);
            assert!(problem(&same).is_some(), "{version:?}: even the same twice");
        }
    }

    #[test]
    fn a_host_is_a_name_or_an_address_and_an_optional_port() {
        for good in [
            "",
            "example.com",
            "example.com:8080",
            "127.0.0.1",
            "127.0.0.1:80",
            "[::1]",
            "[::1]:8080",
            "xn--bcher-kva.example",
        ] {
            assert!(is_host(good.as_bytes()), "{good:?}");
        }
        for bad in [
            "a b",
            "user@example.com",
            "example.com/path",
            "example.com?q",
            "example.com#f",
            "example.com:port",
            "example.com:80x",
            "[::1]:x",
            "exa\"mple",
            "[::1",
        ] {
            assert!(!is_host(bad.as_bytes()), "{bad:?}");
        }
        assert!(!is_host(b"\xff\xfe"), "not text");
    }
}
