//! Field rules of API.md §4–6, each failure a 40002 that names the field.

use kotori::Rejection;

use crate::clock;
use crate::codes;
use crate::params::Params;

/// An optional integer field within `range`.
pub fn int_in(
    params: &Params,
    name: &str,
    range: std::ops::RangeInclusive<i32>,
) -> Result<Option<i32>, Rejection> {
    match params.parse_optional::<i32>(name)? {
        Some(v) if !range.contains(&v) => Err(codes::malformed(
            name,
            &format!("from {} to {}", range.start(), range.end()),
        )),
        other => Ok(other),
    }
}

/// A required coordinate pair.
pub fn lat_lng(params: &Params) -> Result<(f64, f64), Rejection> {
    let lat: f64 = params.parse_required("lat")?;
    let lng: f64 = params.parse_required("lng")?;
    check_lat_lng(lat, lng)
}

/// Checks a coordinate pair's ranges.
pub fn check_lat_lng(lat: f64, lng: f64) -> Result<(f64, f64), Rejection> {
    if !(-90.0..=90.0).contains(&lat) {
        return Err(codes::malformed("lat", "from -90 to 90"));
    }
    if !(-180.0..=180.0).contains(&lng) {
        return Err(codes::malformed("lng", "from -180 to 180"));
    }
    Ok((lat, lng))
}

/// A nickname: 2–32 characters of any script, no control characters.
pub fn nickname(value: &str) -> Result<String, Rejection> {
    let trimmed = value.trim();
    let n = trimmed.chars().count();
    if !(2..=32).contains(&n) || trimmed.chars().any(char::is_control) {
        return Err(codes::malformed("nickname", "2 to 32 characters"));
    }
    Ok(trimmed.to_owned())
}

/// An e-mail address: one `@` between non-empty parts, a dot in the domain, at most 255 bytes.
pub fn email(value: &str) -> Result<String, Rejection> {
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
pub fn birthday(value: &str) -> Result<String, Rejection> {
    let date =
        clock::parse_date(value).ok_or_else(|| codes::malformed("birthday", "YYYY-MM-DD"))?;
    if !(18..=120).contains(&clock::age(date, clock::now())) {
        return Err(codes::malformed("birthday", "an age from 18 to 120"));
    }
    Ok(value.to_owned())
}

/// An http(s) URL of at most 255 characters.
pub fn url(name: &str, value: &str) -> Result<String, Rejection> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let ok = value.len() <= 255
        && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
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
pub fn text(name: &str, value: &str, min: usize, max: usize) -> Result<String, Rejection> {
    let n = value.chars().count();
    if n < min || n > max || value.trim().is_empty() {
        return Err(codes::malformed(
            name,
            &format!("{min} to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// An amount in yuan with at most two decimals (`30`, `30.0`, `30.00`), as cents.
pub fn cents(name: &str, value: &str) -> Result<i64, Rejection> {
    let bad = || codes::malformed(name, "an amount in yuan with at most two decimals");
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty()
        || whole.len() > 12
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (value.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    Ok(whole * 100 + fraction)
}

/// Cents as a JSON number in yuan.
pub fn yuan(cents: i64) -> serde_json::Value {
    serde_json::json!(cents as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_compare_to_the_cent() {
        for (s, c) in [
            ("30", 3000),
            ("30.0", 3000),
            ("30.00", 3000),
            ("0.01", 1),
            ("268.5", 26850),
        ] {
            assert_eq!(cents("fee", s).unwrap(), c, "{s}");
        }
        for bad in ["", "30.", ".5", "30.001", "-1", "1e3", "3 0", "30,00"] {
            assert!(cents("fee", bad).is_err(), "{bad}");
        }
        assert_eq!(yuan(2999).to_string(), "29.99");
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
        assert!(url("photo", "https://img.example.com/1.jpg").is_ok());
        for bad in [
            "ftp://x/1.jpg",
            "https://",
            "https:///x",
            "javascript:alert(1)",
        ] {
            assert!(url("photo", bad).is_err(), "{bad}");
        }
        assert!(birthday("2000-01-01").is_ok());
        assert!(birthday("2020-01-01").is_err(), "too young");
        assert!(birthday("1800-01-01").is_err(), "too old");
    }
}
