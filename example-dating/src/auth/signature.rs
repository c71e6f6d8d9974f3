//! The signature guard (docs/src/dating/signing.md): appkey, timestamp window, signature, replay — in that
//! order, failing closed when the store cannot be reached.

use std::time::Duration;

use kotori::{Ctx, Res};
use subtle::ConstantTimeEq;

use crate::codes::{self, AppError};
use crate::config::{AppConfig, Config};
use crate::params::Params;
use crate::people::sessions;
use crate::signing::{self, Scheme, Signed};
use crate::state::AppState;
use crate::store;

/// Checks the signature of a client app's request (`/api`).
#[kotori::guard]
pub async fn verify_client_signature(
    cx: &mut Ctx<AppState>,
    params: Res<Params>,
) -> Result<(), AppError> {
    verify(cx, &params, Config::client_app).await
}

/// Checks the signature of a payment provider's notice (`/pay`); client apps are refused.
#[kotori::guard]
pub async fn verify_payment_signature(
    cx: &mut Ctx<AppState>,
    params: Res<Params>,
) -> Result<(), AppError> {
    verify(cx, &params, Config::payment_app).await
}

/// The longest nonce accepted, in characters (docs/src/dating/api/conventions.md, 40103 beyond).
pub const MAX_NONCE: usize = 64;

/// Seconds since the epoch from a `timestamp` parameter: seconds (with or without a fraction)
/// or milliseconds, told apart by magnitude. v2 takes whole seconds only.
pub fn parse_timestamp(raw: &str, scheme: Scheme) -> Option<f64> {
    let digits_only = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    let well_formed = match scheme {
        Scheme::V2 => digits_only,
        Scheme::V1 => {
            let mut parts = raw.splitn(2, '.');
            let whole = parts.next().unwrap_or("");
            let fraction = parts.next();
            !whole.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
        }
    };
    if !well_formed || raw.len() > 20 {
        return None;
    }
    let value: f64 = raw.parse().ok()?;
    // 1e11 seconds is the year 5138; 1e11 milliseconds is 1973. Nothing in between is sent.
    match (value >= 1e11, scheme) {
        (false, _) => Some(value),
        (true, Scheme::V1) => Some(value / 1000.0),
        // v2 signs whole seconds (docs/src/dating/signing.md): milliseconds are refused, not converted.
        (true, Scheme::V2) => None,
    }
}

async fn verify(
    cx: &mut Ctx<AppState>,
    params: &Params,
    apps: for<'c> fn(&'c Config, &str) -> Option<&'c AppConfig>,
) -> Result<(), AppError> {
    let state = cx.state().clone();
    // appkey first (40101): which apps may sign depends on the subtree (clients, providers).
    let app = params
        .get("appkey")
        .and_then(|key| apps(&state.config, key))
        .ok_or_else(codes::bad_appkey)?;
    let window = state.config.window_secs as f64;

    let raw_ts = params.get("timestamp").ok_or_else(codes::bad_timestamp)?;
    let ts = parse_timestamp(raw_ts, app.scheme).ok_or_else(codes::bad_timestamp)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    if (now - ts).abs() > window {
        return Err(codes::bad_timestamp());
    }

    let sign = params
        .get("sign")
        .filter(|s| !s.is_empty())
        .ok_or_else(codes::bad_sign)?;
    let nonce = params.get("nonce").unwrap_or("");
    let signed = Signed {
        method: cx.method().as_str(),
        path: cx.path(),
        appkey: &app.appkey,
        token: params.get("token").unwrap_or(""),
        timestamp: raw_ts,
        nonce,
    };
    let pairs = params.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let expected = signing::sign(app.scheme, pairs, &signed, &app.secret);
    if !bool::from(expected.as_bytes().ct_eq(sign.as_bytes())) {
        return Err(codes::bad_sign());
    }

    // Only now, with a valid signature, is the nonce recorded: forged requests burn nothing.
    // The signature is recorded too: `timestamp` and `nonce` are concatenated unseparated, so
    // a shifted boundary (`…415`+`abc` / `…`+`415abc`) signs the same string with a new nonce.
    // A nonce is at most 64 characters: the store keeps each for two windows, so its size is
    // what a replay-protected request may cost in memory.
    if nonce.is_empty() || nonce.chars().count() > MAX_NONCE {
        return Err(codes::replayed());
    }
    // A timestamp may lead server time by a window: a replay is possible for two windows.
    let ttl = Duration::from_secs(state.config.window_secs * 2 + 1);
    // One store round trip for the replay marks and, when the request carries a token, the
    // token's cached session, which the token loader then uses: every signed request pays
    // one round trip here, not three (docs/src/dating/budgets.md).
    let token = params.get("token").filter(|t| sessions::is_token(t));
    let session_key = token.map(sessions::cache_key);
    let (fresh, cached) = state
        .store
        .mark_each_and_get(
            &[
                &format!("nonce:{}:{}", app.appkey, store::key_part(nonce)),
                &format!("sig:{}:{sign}", app.appkey),
            ],
            ttl,
            session_key.as_deref(),
        )
        .await?;
    if fresh.contains(&false) {
        return Err(codes::replayed());
    }
    if let Some(token) = token {
        cx.extensions_mut().insert(sessions::ReadAhead {
            token: token.to_owned(),
            cached,
        });
    }
    Ok(())
}

/// What verify_client_signature reads and answers, for `/openapi.json`.
pub fn verify_client_signature_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    signature_params(Declares::new().security("client_signature"))
}

/// What verify_payment_signature reads and answers, for `/openapi.json`.
pub fn verify_payment_signature_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    signature_params(Declares::new().security("payment_signature"))
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;
    use crate::signing::Scheme;

    #[test]
    fn timestamps_in_seconds_fractions_or_milliseconds() {
        assert_eq!(
            parse_timestamp("1564486841", Scheme::V1),
            Some(1_564_486_841.0)
        );
        assert_eq!(
            parse_timestamp("1564486841.5", Scheme::V1),
            Some(1_564_486_841.5)
        );
        assert_eq!(
            parse_timestamp("1564486841415", Scheme::V1),
            Some(1_564_486_841.415)
        );
        for bad in ["", "abc", "1.2.3", "-5", "1e9", "12.", ".5", "1564486841 "] {
            assert_eq!(parse_timestamp(bad, Scheme::V1), None, "{bad:?}");
        }
        assert_eq!(
            parse_timestamp("1564486841.5", Scheme::V2),
            None,
            "v2 takes whole seconds"
        );
        assert_eq!(
            parse_timestamp("1564486841415", Scheme::V2),
            None,
            "v2 refuses milliseconds"
        );
        assert_eq!(
            parse_timestamp("1564486841", Scheme::V2),
            Some(1564486841.0)
        );
    }
}
