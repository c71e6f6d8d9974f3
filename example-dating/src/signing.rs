//! The request-signing schemes of docs/src/dating/signing.md, as pure functions: v1 (MD5, legacy clients) and
//! v2 (HMAC-SHA256 over a canonical request). The guard that enforces them is
//! `auth::signature`; the `call` subcommand signs with the same functions.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

use crate::hex;

/// The parameters that are not signed as `key=value`: they travel beside the signature.
pub const RESERVED: [&str; 5] = ["appkey", "timestamp", "nonce", "sign", "token"];

/// Which scheme an app signs with; fixed per appkey, so a client cannot downgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// MD5 over the sorted `key=value` pairs (DatingToday compatible).
    V1,
    /// HMAC-SHA256 over method, path and a canonical query.
    V2,
}

/// What is signed beside the parameters.
pub struct Signed<'a> {
    /// The request method (v2 only).
    pub method: &'a str,
    /// The request path without the query (v2 only).
    pub path: &'a str,
    /// The app key (v2 only; v1 signs it implicitly through the secret).
    pub appkey: &'a str,
    /// The token, or `""`.
    pub token: &'a str,
    /// The timestamp exactly as sent.
    pub timestamp: &'a str,
    /// The nonce exactly as sent.
    pub nonce: &'a str,
}

/// v1 step 1: `key=value` for every non-reserved parameter, sorted by byte order, joined by `&`.
pub fn v1_message<'p>(params: impl IntoIterator<Item = (&'p str, &'p str)>) -> String {
    v1_parts(&v1_pairs(params)).collect()
}

/// The message of the sorted `pairs` in the pieces it is joined from (`k`, `=`, `v`, `&`, …):
/// `sign` feeds them to MD5 as they are, [`v1_message`] joins them.
fn v1_parts<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = &'a str> + 'a {
    pairs
        .iter()
        .enumerate()
        .flat_map(|(i, &(k, v))| [if i == 0 { "" } else { "&" }, k, "=", v])
}

/// The pairs v1 signs, in its order: the byte order of `key=value` — of the joined text, not of
/// the keys: `a1=2` sorts before `a=1` ('1' < '='). Compared in place, without writing each
/// pair out: a guard signs every request.
fn v1_pairs<'p>(params: impl IntoIterator<Item = (&'p str, &'p str)>) -> Vec<(&'p str, &'p str)> {
    fn joined<'a>((k, v): &(&'a str, &'a str)) -> impl Iterator<Item = u8> + 'a {
        k.bytes().chain([b'=']).chain(v.bytes())
    }
    let mut pairs: Vec<_> = params
        .into_iter()
        .filter(|(k, _)| !RESERVED.contains(k))
        .collect();
    pairs.sort_unstable_by(|a, b| joined(a).cmp(joined(b)));
    pairs
}

/// v1 step 2: `md5(msg + token + timestamp + nonce + appsecret)` in lowercase hex.
pub fn v1_sign(msg: &str, signed: &Signed<'_>, secret: &str) -> String {
    v1_digest([msg], signed, secret)
}

/// v1 step 2 over the message given in parts, fed to MD5 as they are.
fn v1_digest<'m>(
    msg: impl IntoIterator<Item = &'m str>,
    signed: &Signed<'_>,
    secret: &str,
) -> String {
    let mut md5 = Md5::new();
    for part in msg {
        md5.update(part.as_bytes());
    }
    for part in [signed.token, signed.timestamp, signed.nonce, secret] {
        md5.update(part.as_bytes());
    }
    hex::encode(&md5.finalize())
}

/// v2's QUERY: each non-reserved key and value percent-encoded (unreserved kept, upper-case
/// hex), sorted by encoded key then value, joined as `k=v` with `&`.
pub fn v2_query<'p>(params: impl IntoIterator<Item = (&'p str, &'p str)>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .into_iter()
        .filter(|(k, _)| !RESERVED.contains(k))
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// v2: lowercase hex HMAC-SHA256, keyed with the secret, of the canonical request.
pub fn v2_sign(query: &str, signed: &Signed<'_>, secret: &str) -> String {
    let canonical = [
        signed.method,
        signed.path,
        query,
        signed.appkey,
        signed.token,
        signed.timestamp,
        signed.nonce,
    ]
    .join("\n");
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(canonical.as_bytes());
    hex::encode(&mac.finalize().into_bytes())
}

/// Signs `params` with `scheme`: what a client sends as `sign`.
pub fn sign<'p>(
    scheme: Scheme,
    params: impl IntoIterator<Item = (&'p str, &'p str)>,
    signed: &Signed<'_>,
    secret: &str,
) -> String {
    match scheme {
        // The message in parts, straight into MD5: no `key=value` string is written.
        Scheme::V1 => v1_digest(v1_parts(&v1_pairs(params)), signed, secret),
        Scheme::V2 => v2_sign(&v2_query(params), signed, secret),
    }
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed<'a>(token: &'a str, timestamp: &'a str, nonce: &'a str) -> Signed<'a> {
        Signed {
            method: "",
            path: "",
            appkey: "",
            token,
            timestamp,
            nonce,
        }
    }

    #[test]
    fn v1_first_vector() {
        let params = [
            ("phone", "18922986865"),
            ("appkey", "432ABZ"),
            ("timestamp", "1564486841415"),
            ("nonce", "34C2AF"),
        ];
        let msg = v1_message(params);
        assert_eq!(msg, "phone=18922986865");
        let sign = v1_sign(&msg, &signed("", "1564486841415", "34C2AF"), "1AE32B09224");
        assert_eq!(sign, "6e308bf74512cd4b34f5395993ee9165");
    }

    #[test]
    fn v1_second_vector_token_empty_value_utf8_and_prefix_keys() {
        let params = [
            ("nickname", "小明"),
            ("a_b", "2"),
            ("a", "1"),
            ("empty", ""),
        ];
        let msg = v1_message(params);
        assert_eq!(msg, "a=1&a_b=2&empty=&nickname=小明");
        let s = signed("5bea89727e7553284f162d35c9926414", "1564486841", "n0nce");
        assert_eq!(
            v1_sign(&msg, &s, "1AE32B09224"),
            "c88a723451f2001fc67f3fc66190c065"
        );
    }

    #[test]
    fn v1_third_vector_sorts_the_pairs_not_the_keys() {
        let msg = v1_message([("a", "1"), ("a1", "2")]);
        assert_eq!(msg, "a1=2&a=1");
        assert_eq!(
            v1_sign(&msg, &signed("", "1700000000", "xyz"), "1AE32B09224"),
            "ca2a2a584012b3fb0cfb54109cf6a118"
        );
    }

    /// `sign` feeds MD5 the message in parts; it signs what the message joined would.
    #[test]
    fn v1_in_parts_signs_the_joined_message() {
        let sets: [&[(&str, &str)]; 6] = [
            &[],
            &[("a", "1"), ("a1", "2"), ("a", "")],
            &[
                ("b", "x"),
                ("a", "2"),
                ("a", "1"),
                ("nonce", "n"),
                ("token", "t"),
            ],
            &[("k", "v=w&x"), ("k=", "v"), ("", "empty key")],
            &[("名", "小明"), ("z", "1"), ("Z", "1"), ("sign", "ignored")],
            &[("appkey", "only"), ("timestamp", "reserved")],
        ];
        for params in sets {
            let s = signed("tok", "1700000000", "xyz");
            let joined = v1_sign(&v1_message(params.iter().copied()), &s, "secret");
            assert_eq!(
                sign(Scheme::V1, params.iter().copied(), &s, "secret"),
                joined,
                "{params:?}"
            );
        }
        assert_eq!(v1_message([("b", "1"), ("a", "2")]), "a=2&b=1");
    }

    #[test]
    fn v2_vector() {
        let params = [
            ("nickname", "小明"),
            ("height", "170"),
            ("bio", "a&b=c d"),
            ("appkey", "V2KEY"),
            ("token", "5bea89727e7553284f162d35c9926414"),
            ("timestamp", "1700000000"),
            ("nonce", "a1b2c3"),
        ];
        let query = v2_query(params);
        assert_eq!(
            query,
            "bio=a%26b%3Dc%20d&height=170&nickname=%E5%B0%8F%E6%98%8E"
        );
        let s = Signed {
            method: "POST",
            path: "/api/me/update",
            appkey: "V2KEY",
            token: "5bea89727e7553284f162d35c9926414",
            timestamp: "1700000000",
            nonce: "a1b2c3",
        };
        assert_eq!(
            v2_sign(&query, &s, "s3cr3t"),
            "9e2ecd0faf7fd24ba990be04a6440136366c91c762026c5390ae7ae6e7486791"
        );
    }
}
