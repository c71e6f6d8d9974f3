//! Time as the API shows it: UTC, `YYYY-MM-DD HH:MM:SS`, from Unix seconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn format(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The UTC day number (days since 1970-01-01) of `secs`.
pub fn day(secs: i64) -> i64 {
    secs.div_euclid(86_400)
}

/// Parses `YYYY-MM-DD` into (year, month, day), checking that the date exists.
pub fn parse_date(s: &str) -> Option<(i64, u32, u32)> {
    let mut parts = s.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if y.len() != 4 || m.len() != 2 || d.len() != 2 || ![y, m, d].into_iter().all(digits) {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    (civil_from_days(days_from_civil(y, m, d)) == (y, m, d)).then_some((y, m, d))
}

/// Whole years between the date `birth` and the UTC date of `now`.
pub fn age(birth: (i64, u32, u32), now: i64) -> i64 {
    let (y, m, d) = civil_from_days(day(now));
    let mut age = y - birth.0;
    if (m, d) < (birth.1, birth.2) {
        age -= 1;
    }
    age
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_dates() {
        assert_eq!(format(0), "1970-01-01 00:00:00");
        assert_eq!(format(1_564_486_841), "2019-07-30 11:40:41");
        assert_eq!(format(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(parse_date("2000-02-29"), Some((2000, 2, 29)));
        assert_eq!(parse_date("2001-02-29"), None);
        assert_eq!(parse_date("2001-2-28"), None);
        assert_eq!(parse_date("2000-+1-+1"), None, "digits only");
        assert_eq!(parse_date("+000-01-01"), None);
        assert_eq!(age((2000, 2, 29), 1_582_934_400), 20); // 2020-02-29
        assert_eq!(age((2000, 3, 1), 1_582_934_400), 19);
    }
}
