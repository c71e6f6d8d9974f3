//! SMS codes: sending (with every limit of API.md §3) and checking (five tries, once).

use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::codes::{self, AppError};
use crate::store::Store;

/// Delivers an SMS code to a phone. Production plugs a provider in here.
#[async_trait]
pub trait SmsSender: Send + Sync + 'static {
    /// Sends `code` to `phone`.
    async fn send(&self, phone: &str, code: &str) -> Result<(), String>;
}

/// The development sender: writes the message to the log.
pub struct LogSender;

#[async_trait]
impl SmsSender for LogSender {
    async fn send(&self, phone: &str, code: &str) -> Result<(), String> {
        tracing::info!(phone, code, "SMS (log sender): your verification code");
        Ok(())
    }
}

/// How many sends one phone may make, and in which window (seconds).
const PHONE_LIMITS: [(&str, i64, u64); 3] = [
    ("sms:minute:", 1, 60),
    ("sms:hour:", 5, 3600),
    ("sms:day:", 10, 86_400),
];

/// Wrong tries before a code is void.
pub const MAX_TRIES: i64 = 5;

/// Checks a phone number: an optional `+` and 6–15 digits.
pub fn valid_phone(phone: &str) -> bool {
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Counts a send against every limit; the first one exceeded answers 42901 with the time its
/// window has left. Counters are atomic with their expiry (see `Store::incr`).
pub async fn check_limits(
    store: &dyn Store,
    phone: &str,
    client: &str,
    per_client_daily: i64,
) -> Result<(), AppError> {
    let phone_limits = PHONE_LIMITS
        .iter()
        .map(|(prefix, limit, window)| (format!("{prefix}{phone}"), *limit, *window));
    for (key, limit, window) in
        phone_limits.chain([(format!("sms:ip:{client}"), per_client_daily, 86_400)])
    {
        let window = Duration::from_secs(window);
        if store.incr(&key, window).await? > limit {
            let left = store.ttl(&key).await?.unwrap_or(window);
            return Err(codes::rate_limited(left.as_secs().max(1)));
        }
    }
    Ok(())
}

fn code_key(phone: &str) -> String {
    format!("sms:code:{phone}")
}

fn tries_key(phone: &str) -> String {
    format!("sms:tries:{phone}")
}

/// Codes are stored hashed with their phone: a store dump reveals no usable code.
fn hash(phone: &str, code: &str) -> String {
    crate::hex::encode(&Sha256::digest(format!("{phone}:{code}").as_bytes()))
}

/// Stores a fresh code for `phone` (replacing any earlier one) and resets its tries.
pub async fn remember(
    store: &dyn Store,
    phone: &str,
    code: &str,
    ttl: Duration,
) -> Result<(), AppError> {
    store.set(&code_key(phone), &hash(phone, code), ttl).await?;
    store.del(&tries_key(phone)).await?;
    Ok(())
}

/// Checks `code` for `phone` and consumes it. Five wrong tries void the code.
pub async fn redeem(
    store: &dyn Store,
    phone: &str,
    code: &str,
    ttl: Duration,
) -> Result<(), AppError> {
    let tries = store.incr(&tries_key(phone), ttl).await?;
    if tries > MAX_TRIES {
        store.del(&code_key(phone)).await?;
        return Err(codes::bad_sms_code());
    }
    let stored = store
        .get(&code_key(phone))
        .await?
        .ok_or_else(codes::bad_sms_code)?;
    if !bool::from(stored.as_bytes().ct_eq(hash(phone, code).as_bytes())) {
        if tries == MAX_TRIES {
            store.del(&code_key(phone)).await?;
        }
        return Err(codes::bad_sms_code());
    }
    // Usable once: of two concurrent logins with the same code, only the one that deletes it wins.
    if !store.del(&code_key(phone)).await? {
        return Err(codes::bad_sms_code());
    }
    store.del(&tries_key(phone)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn phone_numbers() {
        for ok in [
            "18922986865",
            "+8618922986865",
            "123456",
            "+123456789012345",
        ] {
            assert!(valid_phone(ok), "{ok}");
        }
        for bad in [
            "12345",
            "1234567890123456",
            "+",
            "189-2298",
            "１２３４５６",
            "++123456",
        ] {
            assert!(!valid_phone(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn five_wrong_tries_void_the_code_and_a_code_works_once() {
        let store = MemoryStore::new();
        let ttl = Duration::from_secs(300);
        remember(&store, "123456", "111111", ttl).await.unwrap();
        for _ in 0..4 {
            assert_eq!(
                redeem(&store, "123456", "000000", ttl)
                    .await
                    .unwrap_err()
                    .code(),
                40106
            );
        }
        redeem(&store, "123456", "111111", ttl).await.unwrap();
        assert_eq!(
            redeem(&store, "123456", "111111", ttl)
                .await
                .unwrap_err()
                .code(),
            40106,
            "used once"
        );

        remember(&store, "123456", "222222", ttl).await.unwrap();
        for _ in 0..5 {
            assert_eq!(
                redeem(&store, "123456", "000000", ttl)
                    .await
                    .unwrap_err()
                    .code(),
                40106
            );
        }
        assert_eq!(
            redeem(&store, "123456", "222222", ttl)
                .await
                .unwrap_err()
                .code(),
            40106,
            "void after five"
        );
    }
}
