//! SMS codes: sending (with every limit of docs/src/dating/api/auth.md) and checking (five tries, once).

use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::codes::{self, AppError};
use crate::limits;
use crate::store::{Quota, Store, Write};

/// Delivers an SMS code to a phone. Production plugs a provider in here.
#[async_trait]
pub trait SmsSender: Send + Sync + 'static {
    /// Sends `code` to `phone`.
    async fn send(&self, phone: &str, code: &str) -> Result<(), String>;
}

/// The development sender: writes the message to the log. Anywhere but development, a code
/// in the log is a credential anyone with log access can use: there it logs that a message
/// would have gone, without the code.
pub struct LogSender {
    /// Whether the code may be written to the log (the development app only).
    pub show_code: bool,
}

#[async_trait]
impl SmsSender for LogSender {
    async fn send(&self, phone: &str, code: &str) -> Result<(), String> {
        if self.show_code {
            tracing::info!(phone, code, "SMS (log sender): your verification code");
        } else {
            tracing::warn!(
                phone,
                "SMS (log sender): no SMS gateway is configured (sms.webhook_url); the code was not delivered"
            );
        }
        Ok(())
    }
}

/// Hands each code to an SMS gateway: `POST` of `phone` and `code` (a form body) to
/// `sms.webhook_url`, a plain `http://host:port/path` on the private network; any 2xx is
/// delivered. The code is never logged.
pub struct WebhookSender {
    addr: String,
    host: String,
    path: String,
}

impl WebhookSender {
    /// Parses `http://host:port/path`.
    pub fn new(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("sms.webhook_url: `{url}` is not an http:// URL"))?;
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() {
            return Err(format!("sms.webhook_url: `{url}` names no host"));
        }
        let addr = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:80")
        };
        Ok(WebhookSender {
            addr,
            host: host.to_owned(),
            path: format!("/{path}"),
        })
    }
}

#[async_trait]
impl SmsSender for WebhookSender {
    async fn send(&self, phone: &str, code: &str) -> Result<(), String> {
        let params = [
            ("phone".to_owned(), phone.to_owned()),
            ("code".to_owned(), code.to_owned()),
        ];
        let mut request = crate::client::request(http::Method::POST, &self.path, &params);
        let host = http::HeaderValue::from_str(&self.host).map_err(|e| e.to_string())?;
        request.headers_mut().insert(http::header::HOST, host);
        let sent = tokio::time::timeout(
            Duration::from_secs(5),
            crate::client::send(&self.addr, request),
        )
        .await
        .map_err(|_| "the SMS gateway did not answer within 5 s".to_owned())??;
        match sent {
            (status, _) if status.is_success() => Ok(()),
            (status, _) => Err(format!("the SMS gateway answered {status}")),
        }
    }
}

/// The counter of `phone`'s sends in `window` (`minute`, `hour` or `day`).
pub fn window_key(phone: &str, window: &str) -> String {
    limits::SMS_PER_PHONE.key(phone, window)
}

/// Wrong tries before a code is void.
pub const MAX_TRIES: i64 = 5;

/// Counts a send against every limit — the client's day and the phone's three windows — and
/// stores `code` for `phone` (replacing any earlier code, and so its tries), all in one store
/// step: their keys share a slot (`limits::SMS_SLOT`). Over a limit it is 42901 with the time
/// the refusing window has left, the client's first, and nothing is written: a flood of
/// refused sends leaves the store as it was.
pub async fn take_and_remember(
    store: &dyn Store,
    phone: &str,
    client: &str,
    per_client_daily: i64,
    code: &str,
    ttl: Duration,
) -> Result<(), AppError> {
    let client_key = client_key(client);
    let per_client = Quota {
        key: &client_key,
        limit: per_client_daily,
        window: Duration::from_secs(86_400),
    };
    let (key, stored) = (code_key(phone), stored_code(phone, code));
    let remember = Write {
        key: &key,
        value: &stored,
        ttl,
    };
    limits::SMS_PER_PHONE
        .take_after(store, &[per_client], phone, Some(remember))
        .await
}

/// Undoes [`take_and_remember`] for a send that did not go out (the gateway failed): the
/// client's and the phone's tries are given back and the code is forgotten — a 50301 leaves
/// nothing behind, and the client may send again at once. Best effort, like every give-back.
pub async fn give_back(store: &dyn Store, phone: &str, client: &str) {
    let client_key = client_key(client);
    limits::SMS_PER_PHONE
        .give_back_after(store, &[&client_key], phone)
        .await;
    if let Err(e) = store.del(&code_key(phone)).await {
        tracing::warn!(error = %e, "could not forget a code that was not sent");
    }
}

/// The counter of a client's sends today, on the SMS counters' slot.
fn client_key(client: &str) -> String {
    format!("sms:{}:client:{client}", limits::SMS_SLOT)
}

/// Where `phone`'s code is kept: on the SMS counters' slot, so that the send's one script
/// writes it.
fn code_key(phone: &str) -> String {
    format!("sms:{}:code:{phone}", limits::SMS_SLOT)
}

/// The wrong tries of one code: named by the code's salt, so a new code starts at none
/// without a command to reset them.
fn tries_key(phone: &str, salt: &str) -> String {
    format!("sms:tries:{phone}:{salt}")
}

/// Codes are stored hashed with their phone and a salt of their own: a store dump reveals no
/// usable code, and two sends of the same digits are two codes.
fn hash(phone: &str, salt: &str, code: &str) -> String {
    crate::hex::encode(&Sha256::digest(format!("{phone}:{salt}:{code}").as_bytes()))
}

/// A code as stored: `salt:hash`.
fn stored_code(phone: &str, code: &str) -> String {
    let salt = crate::random::hex_token(8);
    format!("{salt}:{}", hash(phone, &salt, code))
}

/// Checks `code` for `phone` and consumes it. Five wrong tries void the code.
pub async fn redeem(
    store: &dyn Store,
    phone: &str,
    code: &str,
    ttl: Duration,
) -> Result<(), AppError> {
    let stored = store
        .get(&code_key(phone))
        .await?
        .ok_or_else(codes::bad_sms_code)?;
    let (salt, expected) = stored.split_once(':').ok_or_else(codes::bad_sms_code)?;
    // Every try counts, right or wrong, before the comparison: concurrent guesses are counted
    // one by one by the store, so no more than five are ever compared.
    let tries = store.incr(&tries_key(phone, salt), ttl).await?;
    if tries > MAX_TRIES {
        store.del(&code_key(phone)).await?;
        return Err(codes::bad_sms_code());
    }
    if !bool::from(
        expected
            .as_bytes()
            .ct_eq(hash(phone, salt, code).as_bytes()),
    ) {
        if tries == MAX_TRIES {
            store.del(&code_key(phone)).await?;
        }
        return Err(codes::bad_sms_code());
    }
    // Usable once: of two concurrent logins with the same code, only the one that deletes it wins.
    if !store.del(&code_key(phone)).await? {
        return Err(codes::bad_sms_code());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn five_wrong_tries_void_the_code_and_a_code_works_once() {
        let store = MemoryStore::new();
        let ttl = Duration::from_secs(300);
        let remember = |code: &'static str| {
            let store = &store;
            async move { take_and_remember(store, "123456", "client", 100, code, ttl).await }
        };
        remember("111111").await.unwrap();
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

        store.del(&window_key("123456", "minute")).await.unwrap();
        remember("222222").await.unwrap();
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
