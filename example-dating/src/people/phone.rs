//! Phone numbers in one form. A handset is one number however it is written — `18922986865`,
//! `+8618922986865`, `008618922986865`, `86 189 2298 6865` — so it is stored, looked up and
//! counted (every SMS limit) in E.164 (`+8618922986865`). Without a country code, mainland
//! China is assumed: the original clients send 11 digits. Parsing is libphonenumber's rules
//! (the `phonenumber` crate), which know every country's trunk and international prefixes.

use phonenumber::country;

use crate::codes::{self, AppError};

/// `raw` in E.164, if it is a phone number — an optional `+` and 6 to 15 digits, the
/// contract's one rule (40002 naming `phone` otherwise).
///
/// A number the rules of its country know is written as they say. One they do not (a number
/// too short for its country, a country code nobody has) is still a number by the contract: it
/// is written as it was sent, `+` and its digits — with `+86` in front when it names no country
/// — so that each spelling of it is still one number.
///
/// ```
/// use example_dating::people::phone::canonical;
///
/// for spelling in ["13380107582", "8613380107582", "+8613380107582", "008613380107582"] {
///     assert_eq!(canonical(spelling).unwrap(), "+8613380107582");
/// }
/// assert_eq!(canonical("+14155552671").unwrap(), "+14155552671");
/// assert_eq!(canonical("123456").unwrap(), "+86123456");
/// assert_eq!(canonical("+999999999999").unwrap(), "+999999999999");
/// assert!(canonical("12ab5678").is_err());
/// assert!(canonical("12345").is_err());
/// ```
pub fn canonical(raw: &str) -> Result<String, AppError> {
    let refused = || codes::malformed("phone", "a phone number: an optional + and 6 to 15 digits");
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    if !(6..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    if let Some(e164) = mainland_mobile(raw) {
        return Ok(e164);
    }
    let Some(number) = parse(raw) else {
        return Ok(as_sent(raw));
    };
    // E.164 is `+`, the country code and the national number with its leading zeros: written
    // here, not by the crate's formatter, which first picks the country's display format by
    // its patterns (regular expressions) for the modes that need one — two thirds of what a
    // phone cost a send (perf). `parse` has already refused a country code the metadata does
    // not know (`+999…` above), the one case the formatter fails on.
    let e164 = format!("+{}{}", number.code().value(), number.national());
    // What E.164 allows: at most 15 digits after the `+`. The rules made more of it (a trunk
    // prefix kept, say): the number as sent is the better guess.
    if e164.len() > 16 {
        return Ok(as_sent(raw));
    }
    Ok(e164)
}

/// A number the rules do not know, as sent: `+` and its digits when it names a country (`+`, or
/// China's international prefix `00`, or `86`), else `+86` and its digits.
fn as_sent(raw: &str) -> String {
    if raw.starts_with('+') {
        return raw.to_owned();
    }
    match international(raw) {
        Some(rest) => format!("+{rest}"),
        // `86…` is `+86…` (the contract says so of every spelling).
        None if raw.starts_with("86") => format!("+{raw}"),
        None => format!("+86{raw}"),
    }
}

/// The digits after the country prefix of a number that names its country (`+…`, or `00…`
/// and then not another `0`).
fn international(raw: &str) -> Option<&str> {
    raw.strip_prefix('+')
        .or_else(|| raw.strip_prefix("00"))
        .filter(|rest| !rest.starts_with('0'))
}

/// A mainland China mobile number as the original clients send it — 11 digits, `1` and then
/// `3` to `9` — in E.164, or `None` for anything else. Nearly every number a send or a login
/// carries is one, and this is what libphonenumber's rules make of every such number (a test
/// holds the two together); parsing it by those rules was an eighth of a send's instructions.
/// `179…` is left to the rules: China's carrier-selection prefixes begin with it.
fn mainland_mobile(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let mobile = b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && !raw.starts_with("179")
        && b.iter().all(u8::is_ascii_digit);
    mobile.then(|| format!("+86{raw}"))
}

/// `raw` parsed by the rules of the country it names, or of mainland China when it names none.
///
/// A number that carries its country code (`+39…`, or `0039…` with China's international
/// prefix) is parsed with no home country: given one, the crate strips *the home country's*
/// trunk prefix from any number, and China's is `0` — so Rome's `+39 06 1234 5678`, whose `0`
/// belongs to the number (Italy has no trunk prefix), lost it.
fn parse(raw: &str) -> Option<phonenumber::PhoneNumber> {
    match international(raw) {
        Some(rest) => phonenumber::parse(None, format!("+{rest}")).ok(),
        None => phonenumber::parse(Some(country::Id::CN), raw).ok(),
    }
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

    /// The E.164 written here is the crate formatter's, for numbers of many countries and for
    /// the spellings that parse to them.
    #[test]
    fn e164_as_the_formatter_writes_it() {
        use phonenumber::Mode;
        let mut checked = 0;
        for prefix in [
            "+39", "+44", "+1", "+86", "+7", "+49", "+33", "+81", "+225", "+61", "",
        ] {
            for n in 0..400u64 {
                // Numbers of varied length and leading digits, `0` first included.
                let digits = format!("{}", n.wrapping_mul(2_654_435_761) % 10_000_000_000);
                let raw = format!("{prefix}{}{digits}", n % 10);
                let Some(number) = super::parse(&raw) else {
                    continue;
                };
                let formatted = number.format().mode(Mode::E164).to_string();
                match canonical(&raw) {
                    Ok(mine) if formatted.len() <= 16 => assert_eq!(mine, formatted, "{raw}"),
                    // What E.164 cannot be (more than 15 digits) is taken as sent.
                    Ok(mine) => assert_eq!(mine, super::as_sent(&raw), "{raw}"),
                    // Refused only for a raw spelling the shape check refuses.
                    Err(_) => assert!(raw.len() > 16, "{raw}"),
                }
                checked += 1;
            }
        }
        assert!(checked > 2_000, "only {checked} numbers parsed");
    }

    /// Every mainland mobile number the shortcut takes is what the rules make of it: each
    /// leading three digits it takes, with pseudo-random rest.
    #[test]
    fn the_mobile_shortcut_is_what_the_rules_say() {
        use phonenumber::Mode;
        let mut taken = 0;
        for head in 130..=199u64 {
            for n in 0..60u64 {
                let raw = format!("{head}{:08}", n.wrapping_mul(2_654_435_761) % 100_000_000);
                let Some(short) = super::mainland_mobile(&raw) else {
                    continue;
                };
                let number = super::parse(&raw).expect("the rules parse it");
                assert_eq!(short, number.format().mode(Mode::E164).to_string(), "{raw}");
                taken += 1;
            }
        }
        assert_eq!(taken, 69 * 60, "every head from 130 to 199 but 179");
        assert_eq!(super::mainland_mobile("17912345678"), None);
        assert_eq!(super::mainland_mobile("12345678901"), None);
        assert_eq!(super::mainland_mobile("1391234567x"), None);
        assert_eq!(super::mainland_mobile("139123456789"), None);
    }

    /// A zero that belongs to the number is kept: Italy's fixed lines start with one and have
    /// no trunk prefix. A trunk prefix written after the country code is still dropped (the
    /// United Kingdom's `0`), as is China's for a number without a country code.
    #[test]
    fn a_leading_zero_of_the_number_itself_is_kept() {
        for (raw, e164) in [
            ("+390612345678", "+390612345678"),
            ("00390612345678", "+390612345678"),
            ("+39 3123456789", "+393123456789"),
            ("+4402079460958", "+442079460958"),
            ("01058815555", "+861058815555"),
            ("+86 13380107582", "+8613380107582"),
        ] {
            let raw = raw.replace(' ', "");
            assert_eq!(canonical(&raw).unwrap(), e164, "{raw}");
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
            "+12345",
        ] {
            let e = canonical(bad).unwrap_err();
            assert_eq!(e.code(), 40002, "{bad}");
        }
    }

    /// The contract's rule is the shape: 6 to 15 digits are a phone even where no country's
    /// rules know them, and each spelling of one is still one number.
    #[test]
    fn any_six_to_fifteen_digits_are_a_number() {
        for (spellings, e164) in [
            (
                &["123456", "+86123456", "0086123456", "86123456"][..],
                "+86123456",
            ),
            (&["+999999999999", "00999999999999"][..], "+999999999999"),
            (&["+999123456789012"][..], "+999123456789012"),
            (&["+0123456"][..], "+0123456"),
            (&["000000"][..], "+86000000"),
        ] {
            for spelling in spellings {
                assert_eq!(canonical(spelling).unwrap(), e164, "{spelling}");
            }
        }
    }
}
