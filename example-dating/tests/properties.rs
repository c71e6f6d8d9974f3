//! Property tests: whatever a client sends, signing and parameter parsing never panic and keep
//! their invariants (the fuzzing of the normal suite; see docs/src/dating/decisions.md).

use example_dating::params::Params;
use example_dating::signing::{self, Scheme, Signed};
use proptest::prelude::*;

fn signed<'a>(method: &'a str, path: &'a str, token: &'a str) -> Signed<'a> {
    Signed {
        method,
        path,
        appkey: "K",
        token,
        timestamp: "1700000000",
        nonce: "n0nce",
    }
}

/// Distinct keys (a request repeats none) with any values, including `&`, `=`, `%` and
/// non-ASCII text.
fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map("[a-z_&=%+ 字é]{1,8}", "\\PC{0,12}", 0..8)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_signature_does_not_depend_on_parameter_order(mut p in pairs(), token in "[0-9a-f]{0,32}") {
        for scheme in [Scheme::V1, Scheme::V2] {
            let s = signed("POST", "/api/me/update", &token);
            let forward = signing::sign(scheme, p.iter().map(|(k, v)| (k.as_str(), v.as_str())), &s, "secret");
            p.reverse();
            let backward = signing::sign(scheme, p.iter().map(|(k, v)| (k.as_str(), v.as_str())), &s, "secret");
            prop_assert_eq!(&forward, &backward);
            prop_assert!(forward.len() == 32 || forward.len() == 64);
            prop_assert!(forward.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn v2_signs_what_each_value_is_not_where_its_separators_fall(a in "\\PC{0,6}", b in "\\PC{0,6}") {
        // `x=a&b` as one value must not sign like two parameters.
        let s = signed("GET", "/p", "");
        let joined = format!("{a}&y={b}");
        let one = signing::sign(Scheme::V2, [("x", joined.as_str())], &s, "k");
        let two = signing::sign(Scheme::V2, [("x", a.as_str()), ("y", b.as_str())], &s, "k");
        prop_assert_ne!(one, two);
    }

    #[test]
    fn encoded_parameters_parse_back_to_themselves(p in pairs()) {
        let encoded = example_dating::client::encode(&p);
        let parsed = Params::parse(Some(&encoded), None, b"").unwrap();
        prop_assert_eq!(parsed.pairs(), &p[..]);
        // The same pairs in the body, and a form content type.
        let parsed = Params::parse(None, Some("application/x-www-form-urlencoded"), encoded.as_bytes()).unwrap();
        prop_assert_eq!(parsed.pairs(), &p[..]);
    }

    #[test]
    fn any_bytes_parse_or_are_refused_without_a_panic(query in "\\PC{0,64}", body in proptest::collection::vec(any::<u8>(), 0..128)) {
        if let Err(e) = Params::parse(Some(&query), None, &body) {
            prop_assert_eq!(e.code(), 40002);
        }
    }
}
