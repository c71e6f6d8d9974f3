//! Field rules of docs/src/dating/api/people.md and docs/src/dating/api/chat.md and docs/src/dating/api/vip.md, each failure a 40002 that names the field.

use crate::clock;
use crate::codes::{self, AppError};
use crate::params::Params;

/// An optional integer field within `range`; sent empty, it is as if not sent (a filter).
pub fn int_in(
    params: &Params,
    name: &str,
    range: std::ops::RangeInclusive<i32>,
) -> Result<Option<i32>, AppError> {
    params
        .get(name)
        .filter(|raw| !raw.is_empty())
        .map(|raw| int_value(name, raw, range))
        .transpose()
}

/// The integer `raw`, sent as `name`, within `range`: 40002 naming the field otherwise, an
/// empty value included.
pub fn int_value(
    name: &str,
    raw: &str,
    range: std::ops::RangeInclusive<i32>,
) -> Result<i32, AppError> {
    match raw.parse::<i32>() {
        Ok(v) if range.contains(&v) => Ok(v),
        Ok(_) => Err(codes::malformed(
            name,
            &format!("from {} to {}", range.start(), range.end()),
        )),
        Err(_) => Err(codes::malformed(name, "not a valid value")),
    }
}

/// A required coordinate pair.
pub fn lat_lng(params: &Params) -> Result<(f64, f64), AppError> {
    let lat: f64 = params.parse_required("lat")?;
    let lng: f64 = params.parse_required("lng")?;
    check_lat_lng(lat, lng)
}

/// Checks a coordinate pair's ranges.
pub fn check_lat_lng(lat: f64, lng: f64) -> Result<(f64, f64), AppError> {
    if !(-90.0..=90.0).contains(&lat) {
        return Err(codes::malformed("lat", "from -90 to 90"));
    }
    if !(-180.0..=180.0).contains(&lng) {
        return Err(codes::malformed("lng", "from -180 to 180"));
    }
    Ok((lat, lng))
}

/// The most code points a nickname may take: the column holds 255 characters on MariaDB, and
/// a grapheme has no length of its own (emoji joined by zero-width joiners are one).
const NICKNAME_MAX_CODE_POINTS: usize = 255;

/// A nickname: 2–32 characters as a reader counts them (graphemes: `é` written as `e` and a
/// combining accent is one; `👩‍❤️‍👨`, six code points, is one), of any script, at most 255
/// code points in all. Refused: control characters, the invisible formatting ones (direction
/// overrides that reverse the text around a name, zero-width spaces), a character piled with
/// more than four combining marks, and a name with nothing visible in it.
pub fn nickname(value: &str) -> Result<String, AppError> {
    use unicode_segmentation::UnicodeSegmentation;
    let bad = || codes::malformed("nickname", "2 to 32 visible characters");
    let trimmed = value.trim();
    if trimmed
        .chars()
        .any(|c| c.is_control() || is_invisible_format(c))
        || trimmed.chars().nth(NICKNAME_MAX_CODE_POINTS).is_some()
    {
        return Err(bad());
    }
    let graphemes: Vec<&str> = trimmed.graphemes(true).collect();
    // Marks piled on one character (text that spills over the lines around it), not the
    // code points of an emoji sequence, which are joiners and pictures.
    let piled = graphemes
        .iter()
        .any(|g| g.chars().filter(|&c| is_combining_mark(c)).count() > 4);
    let visible = trimmed.chars().any(is_visible);
    if !(2..=32).contains(&graphemes.len()) || piled || !visible {
        return Err(bad());
    }
    Ok(trimmed.to_owned())
}

/// A character that shows something by itself: not a space, a combining mark, a joiner or a
/// variation selector.
fn is_visible(c: char) -> bool {
    !c.is_whitespace() && !is_combining_mark(c) && !matches!(u32::from(c), 0x200D | 0xFE00..=0xFE0F)
}

/// A combining mark that stacks on the character before it (the combining diacritical blocks).
fn is_combining_mark(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
    )
}

/// Formatting characters that show nothing but change how text around them reads. The
/// zero-width joiner stays allowed: emoji sequences need it.
fn is_invisible_format(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD | 0x061C | 0x180E | 0x200B | 0x200C | 0x200E | 0x200F | 0x202A..=0x202E
            | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF | 0xFFF9..=0xFFFB | 0xE0001 | 0xE0020..=0xE007F
    )
}

/// An e-mail address: one `@` between non-empty parts, a dot in the domain, at most 255 bytes.
pub fn email(value: &str) -> Result<String, AppError> {
    let ok = value.len() <= 255
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(value.to_owned())
    } else {
        Err(codes::malformed("email", "an e-mail address"))
    }
}

/// A birthday `YYYY-MM-DD` for an age of 18 to 120.
pub fn birthday(value: &str) -> Result<String, AppError> {
    let date =
        clock::parse_date(value).ok_or_else(|| codes::malformed("birthday", "YYYY-MM-DD"))?;
    if !(18..=120).contains(&clock::age(date, clock::now())) {
        return Err(codes::malformed("birthday", "an age from 18 to 120"));
    }
    Ok(value.to_owned())
}

/// An http(s) URL of at most 255 characters, with a host. The scheme is matched in any case
/// (`HTTPS://` is an https URL); the characters RFC 3986 never allows unencoded — whitespace,
/// controls, `"` `<` `>` `\` `^` `` ` `` `{` `|` `}` — are refused, so that a URL stored here
/// can be written into an HTML attribute or a client's markup without breaking out of it.
/// Characters past ASCII (an IRI's) are taken as they are.
pub fn url(name: &str, value: &str) -> Result<String, AppError> {
    let after_scheme = |scheme: &str| {
        value
            .get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .map(|_| &value[scheme.len()..])
    };
    let rest = after_scheme("https://").or_else(|| after_scheme("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let ok = value.chars().count() <= 255
        && host.is_some_and(|h| !h.is_empty() && !h.ends_with('@'))
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"<>\\^`{|}".contains(c));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(codes::malformed(
            name,
            "an http or https URL of at most 255 characters",
        ))
    }
}

/// Text of `min..=max` characters (not bytes), trimmed of nothing: what the user typed.
pub fn text(name: &str, value: &str, min: usize, max: usize) -> Result<String, AppError> {
    let n = value.chars().count();
    if n < min || n > max || value.trim().is_empty() {
        return Err(codes::malformed(
            name,
            &format!("{min} to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_are_counted_as_read_and_must_show_something() {
        assert!(nickname("小明").is_ok());
        assert!(nickname("Zoë").is_ok());
        assert!(
            nickname("👨\u{200D}👩\u{200D}👧 family").is_ok(),
            "emoji sequences pass"
        );
        // One visible character with 31 combining marks: 32 code points, one grapheme.
        let zalgo = format!("a{}", "\u{0301}".repeat(31));
        assert!(nickname(&zalgo).is_err());
        assert!(
            nickname(&format!("ab{}", "\u{0301}".repeat(8))).is_err(),
            "piled marks"
        );
        assert!(nickname("e\u{0301}").is_err(), "one grapheme is too short");
        // Emoji sequences of many code points are one character each: a couple with a heart
        // (6), a kiss with skin tones (10), a family of four (7).
        for couple in [
            "👩\u{200D}❤\u{FE0F}\u{200D}👨",
            "👩🏻\u{200D}❤\u{FE0F}\u{200D}💋\u{200D}👨🏼",
            "👨\u{200D}👩\u{200D}👧\u{200D}👦",
        ] {
            assert!(nickname(&format!("{couple}{couple}")).is_ok(), "{couple}");
        }
        // 32 of the longest is 320 code points: more than the column holds.
        let kiss = "👩🏻\u{200D}❤\u{FE0F}\u{200D}💋\u{200D}👨🏼";
        assert!(nickname(&kiss.repeat(25)).is_ok(), "250 code points");
        assert!(nickname(&kiss.repeat(26)).is_err(), "260 code points");
        // Joiners make one grapheme of any length: the bound is on code points too.
        let chain = vec!["👩"; 200].join("\u{200D}");
        assert!(
            nickname(&format!("ab{chain}")).is_err(),
            "a 399-code-point grapheme"
        );
        assert!(nickname("e\u{0301}x").is_ok());
        for bad in [
            "\u{202E}evil",
            "ab\u{200B}c",
            "\u{2066}x\u{2069}y",
            "\u{200B}\u{200B}\u{200B}",
        ] {
            assert!(nickname(bad).is_err(), "{bad:?}");
        }
        assert!(nickname(&"字".repeat(32)).is_ok());
        assert!(nickname(&"字".repeat(33)).is_err());
    }

    #[test]
    fn text_fields() {
        assert!(nickname("小明").is_ok());
        assert!(nickname("x").is_err());
        assert!(nickname(&"字".repeat(33)).is_err());
        assert!(email("a@b.cn").is_ok());
        for bad in ["a@b", "@b.cn", "a@@b.cn", "a b@c.cn", "a@.cn"] {
            assert!(email(bad).is_err(), "{bad}");
        }
        let longest = format!("https://x.cn/{}", "相".repeat(242));
        for good in [
            "https://img.example.com/1.jpg",
            "HTTP://img.example.com/1.jpg?w=1&h=2#top",
            "https://user@img.example.com:8443/a%20b.jpg",
            "https://图片.cn/照片.jpg",
            longest.as_str(),
        ] {
            assert!(url("photo", good).is_ok(), "{good}");
        }
        let too_long = format!("{longest}x");
        for bad in [
            "ftp://x/1.jpg",
            "https://",
            "https:///x",
            "https://?x",
            "https://user@/x",
            "javascript:alert(1)",
            "https://x.cn/\"onerror=\"alert(1)",
            "https://x.cn/<script>",
            "https://x.cn/a b",
            "https://x.cn/a\\b",
            "https://x.cn/{a}",
            too_long.as_str(),
        ] {
            assert!(url("photo", bad).is_err(), "{bad}");
        }
        assert!(birthday("2000-01-01").is_ok());
        assert!(birthday("2020-01-01").is_err(), "too young");
        assert!(birthday("1800-01-01").is_err(), "too old");
    }
}
