//! The bytes of a request head, as far as kotori reads them: where a head ends, whether a
//! request line or a header line is one hyper will accept, and the two headers that frame a
//! body.

/// Finds the blank line that ends a head, across reads.
#[derive(Clone, Copy)]
pub(super) enum LineEnd {
    /// Inside a line.
    Mid,
    /// Just after a newline.
    LineStart,
    /// After a newline and a carriage return.
    LineStartCr,
}

impl LineEnd {
    /// Feeds `bytes`; `true` once a blank line is complete.
    pub(super) fn feed(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            *self = match (b, *self) {
                (b'\n', LineEnd::LineStart | LineEnd::LineStartCr) => return true,
                (b'\n', LineEnd::Mid) => LineEnd::LineStart,
                (b'\r', LineEnd::LineStart) => LineEnd::LineStartCr,
                _ => LineEnd::Mid,
            };
        }
        false
    }
}

/// `METHOD SP target SP HTTP/1.x`, as hyper will accept it.
pub(super) fn request_line_ok(line: &[u8]) -> bool {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !method.is_empty()
        && method.iter().all(|&b| is_tchar(b))
        && matches!(version, b"HTTP/1.1" | b"HTTP/1.0")
        && target_ok(target)
}

/// A request target hyper will turn into a `Uri`. The common characters are checked here;
/// anything else is left to the `http` crate's parser (it allocates, so only then).
pub(super) fn target_ok(target: &[u8]) -> bool {
    !target.is_empty()
        && (target.iter().all(|&b| PLAIN[b as usize]) || http::Uri::try_from(target).is_ok())
}

/// `name: value` as hyper accepts it in a request: a token name straight before the colon (no
/// space there, RFC 9112 §5.1; a folded line, §5.2, starts with one), and a value of visible
/// characters, spaces, tabs and bytes from 0x80 — no control characters, no bare CR.
pub(super) fn header_line_ok(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    !name.is_empty()
        && name.iter().all(|&b| is_tchar(b))
        && value.iter().all(|&b| VALUE[b as usize])
}

/// A header value's bytes: HTAB, SP to `~`, and 0x80 to 0xFF.
static VALUE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b == 0x09 || (b >= 0x20 && b != 0x7f);
        b += 1;
    }
    t
};

/// RFC 9110 `tchar`.
pub(super) fn is_tchar(b: u8) -> bool {
    TCHAR[b as usize]
}

/// The bytes of a target taken as they are: a table, one load per byte — the target is most of
/// a request line, and a signed one is a few hundred bytes of query, checked on every request.
static PLAIN: [bool; 256] = table(b"-._~/?#%&=+,;:@!$'()*[]");

/// `tchar`: letters, digits and these.
static TCHAR: [bool; 256] = table(b"!#$%&'*+-.^_`|~");

/// A table true for ASCII letters, digits and `extra`.
const fn table(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

/// The value of a header line named `name` (lowercase, with its colon), case-insensitively.
pub(super) fn value_of<'a>(line: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..name.len())?;
    head.eq_ignore_ascii_case(name)
        .then(|| line[name.len()..].trim_ascii())
}

/// Whether a `Transfer-Encoding` value ends in `chunked` as hyper reads it: its last
/// comma-separated coding, trimmed, without regard to case, in a value of ASCII only.
pub(super) fn ends_in_chunked(value: &[u8]) -> bool {
    value.is_ascii()
        && value
            .rsplit(|&b| b == b',')
            .next()
            .is_some_and(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

/// A `Content-Length` value: one number of bytes, or a list of the same number (`5, 5`, which
/// RFC 9110 §8.6 lets a recipient take as one); `None` for anything else.
pub(super) fn parse_length(value: &[u8]) -> Option<u64> {
    let mut length = None;
    for part in value.split(|&b| b == b',') {
        let part = part.trim_ascii();
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n: u64 = std::str::from_utf8(part).ok()?.parse().ok()?;
        if length.is_some_and(|m| m != n) {
            return None;
        }
        length = Some(n);
    }
    length
}
