//! Secure randomness for codes and tokens: rand's per-thread generator ([`rand::rngs::ThreadRng`]:
//! ChaCha12, seeded from the operating system and reseeded from it every 64 KiB of output, a
//! cryptographically secure generator). Asking the operating system for every code and salt
//! was two `getrandom` system calls per SMS send.

use rand::{Rng, RngCore};

/// `bytes` random bytes as lowercase hex (`hex_token(16)`: a 128-bit token, 32 hex digits).
///
/// ```
/// let token = example_dating::random::hex_token(16);
/// assert_eq!(token.len(), 32);
/// assert_ne!(token, example_dating::random::hex_token(16));
/// ```
pub fn hex_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    crate::hex::encode(&buf)
}

/// A six-digit SMS code, uniform over 000000–999999.
///
/// ```
/// let code = example_dating::random::sms_code();
/// assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
/// ```
pub fn sms_code() -> String {
    // `random_range` rejects the top sliver of its draws: every code is equally likely.
    let n: u32 = rand::rng().random_range(0..1_000_000);
    format!("{n:06}")
}
