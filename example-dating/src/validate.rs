//! Field rules of API.md §4–6, each failure a 40002 that names the field.

use crate::clock;
use crate::codes::{self, AppError};
use crate::params::Params;

/// An optional integer field within `range`.
pub fn int_in(
    params: &Params,
    name: &str,
    range: std::ops::RangeInclusive<i32>,
) -> Result<Option<i32>, AppError> {
    match params.parse_optional::<i32>(name)? {
        Some(v) if !range.contains(&v) => Err(codes::malformed(
            name,
            &format!("from {} to {}", range.start(), range.end()),
        )),
        other => Ok(other),
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

/// A nickname: 2–32 characters of any script, no control characters.
pub fn nickname(value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    let n = trimmed.chars().count();
    if !(2..=32).contains(&n) || trimmed.chars().any(char::is_control) {
        return Err(codes::malformed("nickname", "2 to 32 characters"));
    }
    Ok(trimmed.to_owned())
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

/// An http(s) URL of at most 255 characters.
pub fn url(name: &str, value: &str) -> Result<String, AppError> {
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
