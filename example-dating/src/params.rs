//! Request parameters: the query string and the form body, merged, each key at most once.

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use kotori::Ctx;

use crate::codes::{self, AppError};
use crate::state::AppState;

/// The decoded parameters of a request, in the order they were sent.
///
/// Loaded once on `/api` and `/pay` (the signature needs them all), read by every step below.
#[derive(Clone, Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// The most parameters one request may carry (40002 beyond): no route of the API takes more
/// than a dozen, and each one costs the signature check work.
pub const MAX_PARAMS: usize = 64;

/// A form-encoded key or value: `+` is a space, `%XX` a byte (`%2B` a plus; a `%` not followed
/// by two hex digits stays as it is), then UTF-8 without a NUL, or what is wrong with it. One
/// pass, one allocation: every signed request decodes a dozen of these before its signature is
/// checked.
///
/// No parameter of the API holds a NUL, and PostgreSQL refuses one in any text: let through,
/// it failed the write there as if the database were down (50301), and only there.
fn decode(raw: &[u8]) -> Result<String, &'static str> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let digit = |at: usize| raw.get(at).and_then(|&b| hex(b));
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => match (digit(i + 1), digit(i + 2)) {
                (Some(0), Some(0)) => return Err(NUL),
                (Some(high), Some(low)) => {
                    bytes.push(high << 4 | low);
                    i += 2;
                }
                _ => bytes.push(b'%'),
            },
            0 => return Err(NUL),
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8")
}

/// What a parameter holding a NUL is told.
const NUL: &str = "a NUL character (%00) is not allowed";

/// One `key=value` of a query string or form body: `+` is a space, `%XX` a byte, and the
/// bytes must be UTF-8 — a parameter is refused (40002), never silently altered.
fn decode_pair(pair: &[u8]) -> Result<(String, String), AppError> {
    let at = pair.iter().position(|&b| b == b'=');
    let (key, value) = match at {
        Some(at) => (&pair[..at], &pair[at + 1..]),
        None => (pair, &b""[..]),
    };
    let key = decode(key).map_err(|wrong| codes::malformed("parameters", wrong))?;
    let value = decode(value).map_err(|wrong| codes::malformed(&key, wrong))?;
    Ok((key, value))
}

impl Params {
    /// Decodes the query string and, for a form body, the body. A key given twice — twice in
    /// one, or once in each — is 40002: a signature over an ambiguous request means nothing.
    /// So are more than [`MAX_PARAMS`] parameters. Linear in the request's size: this runs
    /// before any signature is checked.
    pub fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Self, AppError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut add = |source: &[u8]| -> Result<(), AppError> {
            for pair in source.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
                let (key, value) = decode_pair(pair)?;
                if pairs.len() == MAX_PARAMS {
                    return Err(codes::malformed(
                        "parameters",
                        &format!("at most {MAX_PARAMS} in one request"),
                    ));
                }
                // At most 64 keys before it to compare with (the count is checked first).
                if pairs.iter().any(|(seen, _)| *seen == key) {
                    return Err(codes::malformed(&key, "given twice"));
                }
                pairs.push((key, value));
            }
            Ok(())
        };
        add(query.unwrap_or("").as_bytes())?;
        if !body.is_empty() {
            let is_form = content_type.is_none_or(|ct| {
                ct.split(';').next().is_some_and(|t| {
                    t.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
            if !is_form {
                return Err(codes::malformed(
                    "body",
                    "send parameters as application/x-www-form-urlencoded",
                ));
            }
            add(body)?;
        }
        Ok(Params { pairs })
    }

    /// Builds parameters from pairs (for clients and tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Params {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// A parameter, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that must be sent and not empty (40001 otherwise).
    pub fn required(&self, name: &str) -> Result<&str, AppError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| codes::missing(name))
    }

    /// A required parameter parsed as `T` (40002 when it does not parse).
    pub fn parse_required<T: std::str::FromStr>(&self, name: &str) -> Result<T, AppError> {
        self.required(name)?
            .parse()
            .map_err(|_| codes::malformed(name, "not a valid value"))
    }

    /// An optional parameter parsed as `T`; empty counts as absent.
    pub fn parse_optional<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, AppError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(raw) => raw
                .parse()
                .map(Some)
                .map_err(|_| codes::malformed(name, "not a valid value")),
        }
    }
}

/// The loader: parses the query and the body. Taking `Bytes` is what makes kotori read the
/// body (within the node's limit) before this step runs.
#[kotori::loader]
pub fn load_params(cx: &mut Ctx<AppState>, body: Bytes) -> Result<Params, AppError> {
    if !body.is_empty() && !plain_encoding(cx.header(CONTENT_ENCODING)) {
        // A compressed form would otherwise be read as a form, and refused for whatever its
        // bytes happen to look like (a NUL, not UTF-8): say what is wrong instead.
        return Err(codes::malformed(
            "body",
            "send the form uncompressed (no Content-Encoding)",
        ));
    }
    Params::parse(cx.query(), cx.header(CONTENT_TYPE), &body)
}

/// Whether a body's `Content-Encoding` leaves its bytes as they are: none, or `identity`.
fn plain_encoding(content_encoding: Option<&str>) -> bool {
    content_encoding.is_none_or(|codings| {
        codings
            .split(',')
            .all(|c| c.trim().is_empty() || c.trim().eq_ignore_ascii_case("identity"))
    })
}

/// What load_params reads and answers, for `/openapi.json`.
pub fn load_params_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .refuses(400, 40001, "a required parameter is missing")
        .refuses(
            400,
            40002,
            "a parameter is malformed (not UTF-8, or holding a NUL), out of range, or given \
             twice; or the body is not a plain form (another content type, a Content-Encoding)",
        )
}

#[cfg(test)]
mod tests {
    use super::{Params, plain_encoding};

    #[test]
    fn only_a_body_as_it_is_is_read() {
        for plain in [None, Some("identity"), Some(" Identity "), Some("")] {
            assert!(plain_encoding(plain), "{plain:?}");
        }
        for coded in ["gzip", "identity, gzip", "br", "deflate"] {
            assert!(!plain_encoding(Some(coded)), "{coded}");
        }
    }

    #[test]
    fn query_and_body_merge_and_a_repeated_key_is_refused() {
        let p = Params::parse(Some("a=1&b=%E5%B0%8F"), None, b"c=3").unwrap();
        assert_eq!(p.get("b"), Some("小"));
        assert_eq!(p.pairs().len(), 3);
        for (q, body) in [("a=1&a=2", ""), ("a=1", "a=2")] {
            let err = Params::parse(Some(q), None, body.as_bytes()).unwrap_err();
            assert_eq!(err.code(), 40002, "{q} / {body}");
        }
        let err = Params::parse(None, Some("application/json"), b"{}").unwrap_err();
        assert_eq!(err.code(), 40002);
    }

    #[test]
    fn plus_is_a_space_and_an_escape_is_a_byte_or_stays_as_it_is() {
        let p = Params::parse(
            Some("a=1+2%2B3&b=%&c=%4&d=%zz1&e=50%25&f%5B%5D=x"),
            None,
            b"",
        )
        .unwrap();
        let got = ["a", "b", "c", "d", "e", "f[]"].map(|k| p.get(k));
        let want = ["1 2+3", "%", "%4", "%zz1", "50%", "x"].map(Some);
        assert_eq!(got, want);
    }

    #[test]
    fn a_nul_is_refused_wherever_it_is() {
        for (query, body) in [
            (Some("content=a%00b"), &b""[..]),
            (Some("a%00=1"), &b""[..]),
            (None, &b"detail=x\0"[..]),
        ] {
            let err =
                Params::parse(query, Some("application/x-www-form-urlencoded"), body).unwrap_err();
            assert_eq!(err.code(), 40002, "{query:?} {body:?}");
        }
        // `%0` followed by anything but another hex digit is not a NUL.
        let p = Params::parse(Some("a=%0g&b=%10"), None, b"").unwrap();
        assert_eq!((p.get("a"), p.get("b")), (Some("%0g"), Some("\u{10}")));
    }

    #[test]
    fn invalid_utf8_is_refused_not_replaced() {
        let err = Params::parse(Some("nickname=%FF%FE"), None, b"").unwrap_err();
        assert_eq!(err.code(), 40002);
        let err = Params::parse(None, None, b"a=\xff").unwrap_err();
        assert_eq!(err.code(), 40002);
        let p = Params::parse(Some("a=%E5%B0%8F+x&b&c="), None, b"").unwrap();
        assert_eq!(
            (p.get("a"), p.get("b"), p.get("c")),
            (Some("小 x"), Some(""), Some(""))
        );
    }

    #[test]
    fn at_most_64_parameters_and_duplicates_found_in_linear_time() {
        let query = |n: usize| {
            (0..n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert_eq!(
            Params::parse(Some(&query(64)), None, b"")
                .unwrap()
                .pairs()
                .len(),
            64
        );
        let err = Params::parse(
            Some(&query(40)),
            None,
            query(25).replace('k', "b").as_bytes(),
        );
        assert_eq!(err.unwrap_err().code(), 40002, "65 across query and body");
        // Thousands of distinct keys are refused at the 65th, before any quadratic work.
        let many = query(16_000);
        assert_eq!(
            Params::parse(Some(&many), None, b"").unwrap_err().code(),
            40002
        );
    }

    #[test]
    fn required_and_optional_parameters() {
        let p = Params::from_pairs([("n", "12"), ("e", ""), ("x", "no")]);
        assert_eq!(p.parse_required::<u32>("n").unwrap(), 12);
        assert_eq!(p.required("e").unwrap_err().code(), 40001);
        assert_eq!(p.required("missing").unwrap_err().code(), 40001);
        assert_eq!(p.parse_required::<u32>("x").unwrap_err().code(), 40002);
        assert_eq!(p.parse_optional::<u32>("e").unwrap(), None);
    }
}
