//! Secure randomness for codes and tokens, from the operating system.

/// `bytes` random bytes as lowercase hex (`hex_token(16)`: a 128-bit token, 32 hex digits).
pub fn hex_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source works");
    crate::hex::encode(&buf)
}

/// A six-digit SMS code, uniform over 000000–999999.
pub fn sms_code() -> String {
    loop {
        let mut buf = [0u8; 4];
        getrandom::fill(&mut buf).expect("the operating system's random source works");
        let n = u32::from_le_bytes(buf);
        // Reject the top sliver so every code is equally likely.
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}
