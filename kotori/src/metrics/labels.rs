//! The bounded label values dispatch records under: a method's index among the standard ones,
//! "no step", and the kinds of stream.

use http::Method;

/// The nine standard methods, then `_OTHER`.
pub(crate) const METHODS: usize = 10;

/// No step refused: the request passed, or kotori itself answered.
pub(crate) const NO_STEP: u16 = u16::MAX;

const NAMES: [&str; METHODS] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER",
];

/// The index of `m` among the standard methods; `_OTHER` for any other (an unbounded label
/// otherwise: a method is whatever token the client sends).
pub(crate) fn method_index(m: &Method) -> u8 {
    // The common methods first: `Method` compares its standard variants without strings.
    if *m == Method::GET {
        0
    } else if *m == Method::POST {
        2
    } else if *m == Method::HEAD {
        1
    } else if *m == Method::PUT {
        3
    } else if *m == Method::DELETE {
        4
    } else if *m == Method::CONNECT {
        5
    } else if *m == Method::OPTIONS {
        6
    } else if *m == Method::TRACE {
        7
    } else if *m == Method::PATCH {
        8
    } else {
        9
    }
}

pub(crate) fn method_name(index: u8) -> &'static str {
    NAMES[usize::from(index).min(METHODS - 1)]
}

/// What kind of stream a response opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamKind {
    Sse = 0,
    WebSocket = 1,
}

impl StreamKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StreamKind::Sse => "sse",
            StreamKind::WebSocket => "websocket",
        }
    }
}
