//! Signing canonicalisation (v1 and v2): any parameters sign without a panic, to lowercase hex
//! of the scheme's length, independently of their order; v2 never signs two different
//! parameter lists alike merely because of where separators fall.
#![no_main]

use example_dating::signing::{self, Scheme, Signed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // NUL separates parameters, the first `=` a key from its value.
    let mut pairs: Vec<(&str, &str)> = text
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    // The signing parameters themselves are not part of the canonical string.
    pairs.retain(|(k, _)| !["appkey", "timestamp", "nonce", "token", "sign"].contains(k));
    pairs.sort_unstable();
    pairs.dedup_by(|a, b| a.0 == b.0);
    let signed = Signed {
        method: "POST",
        path: "/api/me/update",
        appkey: "K",
        token: "t",
        timestamp: "1700000000",
        nonce: "n",
    };
    for scheme in [Scheme::V1, Scheme::V2] {
        let forward = signing::sign(scheme, pairs.iter().copied(), &signed, "secret");
        let backward = signing::sign(scheme, pairs.iter().rev().copied(), &signed, "secret");
        assert_eq!(forward, backward, "{scheme:?} depends on the order");
        assert!(forward.len() == 32 || forward.len() == 64);
        assert!(forward.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
    // Two parameters joined into one value sign differently under v2.
    if let [(k1, v1), (k2, v2), ..] = pairs[..] {
        let joined = format!("{v1}&{k2}={v2}");
        let one = signing::sign(Scheme::V2, [(k1, joined.as_str())], &signed, "s");
        let two = signing::sign(Scheme::V2, [(k1, v1), (k2, v2)], &signed, "s");
        assert_ne!(one, two);
    }
});
