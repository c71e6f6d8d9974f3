//! Parameter parsing: any query and body parse or are refused with 40002, never panic; what
//! parses has distinct keys, at most the documented number, and encodes back to itself.
#![no_main]

use example_dating::params::{MAX_PARAMS, Params};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the content type, the next splits query from body.
    let Some((&kind, rest)) = data.split_first() else { return };
    let Some((&split, rest)) = rest.split_first() else { return };
    let at = (split as usize).min(rest.len());
    let (query, body) = rest.split_at(at);
    let Ok(query) = std::str::from_utf8(query) else { return };
    let content_type = match kind % 4 {
        0 => None,
        1 => Some("application/x-www-form-urlencoded"),
        2 => Some("application/x-www-form-urlencoded; charset=utf-8"),
        _ => Some("application/json"),
    };
    match Params::parse(Some(query), content_type, body) {
        Err(e) => assert_eq!(e.code(), 40002),
        Ok(params) => {
            let pairs = params.pairs();
            assert!(pairs.len() <= MAX_PARAMS);
            let mut keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), pairs.len(), "a key given twice was accepted");
            let encoded = example_dating::client::encode(pairs);
            let again = Params::parse(Some(&encoded), None, b"").expect("re-encoded parses");
            assert_eq!(again.pairs(), pairs);
        }
    }
});
