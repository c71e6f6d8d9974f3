//! Money: amounts arrive in yuan, to the cent, and are kept as whole cents, so
//! that sums and comparisons are exact.

use crate::codes::{self, AppError};

/// An amount in yuan, as cents: `30`, `30.0`, `30.00` — and `30.000`, the same amount written
/// with more zeros (at most 12 decimals). A fraction of a cent (`30.001`) is refused.
pub fn cents(name: &str, value: &str) -> Result<i64, AppError> {
    let bad = || {
        codes::malformed(
            name,
            "an amount in yuan, to the cent (at most two decimals)",
        )
    };
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty()
        || whole.len() > 12
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 12
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (value.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    // Digits past the cent must be zeros: the amount is compared to the cent, not rounded.
    let (cent_digits, past) = fraction.split_at(fraction.len().min(2));
    if past.bytes().any(|b| b != b'0') {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{cent_digits:0<2}").parse().map_err(|_| bad())?;
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
            ("30.000", 3000),
            ("268.500000000000", 26850),
        ] {
            assert_eq!(cents("fee", s).unwrap(), c, "{s}");
        }
        for bad in [
            "",
            "30.",
            ".5",
            "30.001",
            "30.0000000000001",
            "-1",
            "1e3",
            "3 0",
            "30,00",
        ] {
            assert!(cents("fee", bad).is_err(), "{bad}");
        }
        assert_eq!(yuan(2999).to_string(), "29.99");
    }
}
