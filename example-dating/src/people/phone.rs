//! Phone numbers in one form. A handset is one number however it is written — `18922986865`,
//! `+8618922986865`, `008618922986865`, `86 189 2298 6865` — so it is stored, looked up and
//! counted (every SMS limit) in E.164 (`+8618922986865`). Without a country code, mainland
//! China is assumed: the original clients send 11 digits. Parsing is libphonenumber's rules
//! (the `phonenumber` crate), which know every country's trunk and international prefixes.

use phonenumber::{Mode, country};

use crate::codes::{self, AppError};

/// `raw` in E.164, if it is a phone number: an optional `+` and 6 to 15 digits that parse as
/// a number of some country (40002 naming `phone` otherwise).
///
/// ```
/// use example_dating::people::phone::canonical;
///
/// for spelling in ["13380107582", "8613380107582", "+8613380107582", "008613380107582"] {
///     assert_eq!(canonical(spelling).unwrap(), "+8613380107582");
/// }
/// assert_eq!(canonical("+14155552671").unwrap(), "+14155552671");
/// assert!(canonical("+999999999999").is_err(), "no such country code");
/// assert!(canonical("12ab5678").is_err());
/// ```
pub fn canonical(raw: &str) -> Result<String, AppError> {
    let refused = || codes::malformed("phone", "a phone number: an optional + and 6 to 15 digits");
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    if !(6..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    let number = phonenumber::parse(Some(country::Id::CN), raw).map_err(|_| refused())?;
    let e164 = number.format().mode(Mode::E164).to_string();
    // What E.164 allows: at most 15 digits after the `+`.
    if e164.len() > 16 {
        return Err(refused());
    }
    Ok(e164)
}

/// Compiles the phone rules now (they compile on first use), so no request waits for it.
pub fn warm() {
    let _ = canonical("+8613380107582");
}

/// The number as dialled at home: without `+86` for mainland China (the 11 digits the original
/// clients send), else without the `+`. A first login's nickname is `u-` and this.
///
/// ```
/// use example_dating::people::phone::national;
///
/// assert_eq!(national("+8618922986865"), "18922986865");
/// assert_eq!(national("+14155552671"), "14155552671");
/// ```
pub fn national(e164: &str) -> &str {
    e164.strip_prefix("+86")
        .or_else(|| e164.strip_prefix('+'))
        .unwrap_or(e164)
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn one_number_one_form() {
        for (spellings, e164) in [
            (
                &[
                    "18922986865",
                    "+8618922986865",
                    "8618922986865",
                    "008618922986865",
                ][..],
                "+8618922986865",
            ),
            (&["+14155552671", "0014155552671"][..], "+14155552671"),
            (&["+442079460958", "00442079460958"][..], "+442079460958"),
        ] {
            for spelling in spellings {
                assert_eq!(canonical(spelling).unwrap(), e164, "{spelling}");
            }
        }
    }

    #[test]
    fn what_is_not_a_number_is_40002() {
        for bad in [
            "12345",
            "1234567890123456",
            "+",
            "",
            "189-2298-6865",
            "１８９２２９８６８６５",
            "++8618922986865",
            "+999999999999",
            "123456",
        ] {
            let e = canonical(bad).unwrap_err();
            assert_eq!(e.code(), 40002, "{bad}");
        }
    }
}
