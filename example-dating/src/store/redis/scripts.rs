//! The Lua scripts of the Redis store's counters and searches: each runs atomically on the
//! server, so a counter is never left without its expiry and a set of quotas is taken all or
//! none. Scripts with several keys need them on one Redis Cluster slot (one hash tag, given by
//! the caller). Each is sent by its SHA-1 (`Lua`, `RedisStore::run`): a script's text is sent
//! once per Redis, not with every request.

use std::sync::OnceLock;

/// A Lua script and the SHA-1 Redis knows it by once it has run (computed on first use).
pub(super) struct Lua {
    text: &'static str,
    sha: OnceLock<String>,
}

impl Lua {
    pub(super) const fn new(text: &'static str) -> Lua {
        Lua {
            text,
            sha: OnceLock::new(),
        }
    }

    /// The script's text (sent when a Redis does not hold it yet).
    pub(super) fn text(&self) -> &'static str {
        self.text
    }

    /// The lowercase hex SHA-1 of the text: what `EVALSHA` names the script by.
    pub(super) fn sha(&self) -> &str {
        use sha1::{Digest, Sha1};
        self.sha
            .get_or_init(|| crate::hex::encode(&Sha1::digest(self.text.as_bytes())))
    }
}

/// `INCR`, and `PEXPIRE` on the first increment, in one atomic script: a counter can never be
/// left without its expiry by a process dying between two commands.
pub(super) static INCR_WITH_TTL: Lua = Lua::new(
    "local v = redis.call('INCR', KEYS[1]) \
     if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v",
);

/// DEL of KEYS[1] only while it holds ARGV[1]: 1 when deleted, else 0.
pub(super) static DEL_IF: Lua = Lua::new(
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end \
     return 0",
);

/// INCRBY of each of KEYS by its ARGV only if the key exists (the expiry stays): per key
/// `{1, new value}`, or `{0, 0}` where it does not exist (a Lua table cannot hold nil, and a
/// count may be any number).
pub(super) static ADD_EXISTING: Lua = Lua::new(
    "local out = {} \
     for i = 1, #KEYS do \
       if redis.call('EXISTS', KEYS[i]) == 1 then \
         out[i] = {1, redis.call('INCRBY', KEYS[i], ARGV[i])} \
       else \
         out[i] = {0, 0} \
       end \
     end \
     return out",
);

/// Takes one from each of the first ARGV[1] counters in KEYS (then ARGV: limit, window in ms,
/// for each), all or none: the first spent counter answers its time left in ms and nothing is
/// written; -1 when taken. A key after the counters is then set to the next ARGV, expiring
/// after the last (in ms).
///
/// Each counter is incremented first and the increments undone when one is spent (a counter
/// back at 0 is deleted, so a refusal leaves no key behind): a send that goes out — the case
/// to make cheap — costs an `INCR` per counter, not a `GET` and an `INCR` (Redis's
/// `commandstats`: the script was the send's largest cost on Redis).
pub(super) static TAKE: Lua = Lua::new(
    "local n = tonumber(ARGV[1]) \
     for i = 1, n do \
       local v = redis.call('INCR', KEYS[i]) \
       if v == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * i + 1]) end \
       if v > tonumber(ARGV[2 * i]) then \
         local left = redis.call('PTTL', KEYS[i]) \
         for j = 1, i do \
           if redis.call('DECR', KEYS[j]) <= 0 then redis.call('DEL', KEYS[j]) end \
         end \
         if left < 0 then left = tonumber(ARGV[2 * i + 1]) end \
         return left \
       end \
     end \
     if #KEYS > n then \
       redis.call('SET', KEYS[n + 1], ARGV[2 * n + 2], 'PX', ARGV[2 * n + 3]) \
     end \
     return -1",
);

/// The time left in ms of a spent counter (ARGV: limit, window in ms), or -1 when it has room.
pub(super) static SPENT: Lua = Lua::new(
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') \
     if n < tonumber(ARGV[1]) then return -1 end \
     local left = redis.call('PTTL', KEYS[1]) \
     if left < 0 then left = tonumber(ARGV[2]) end \
     return left",
);

/// Deletes every key under a prefix (tests clean up after themselves with it).
pub(super) static DELETE_PREFIX: Lua = Lua::new(
    "local keys = redis.call('KEYS', ARGV[1]) \
     for i = 1, #keys do redis.call('DEL', keys[i]) end return #keys",
);

#[cfg(test)]
mod tests {
    use fred::prelude::*;

    use super::Lua;
    use crate::store::RedisStore;

    /// A script Redis has never seen (its text is new to this run) runs on the first call —
    /// `EVALSHA` says `NOSCRIPT`, the text follows — and by its SHA-1 alone after.
    #[tokio::test]
    async fn a_script_redis_does_not_hold_yet_runs_and_is_kept() {
        for var in ["KOTORI_TEST_REDIS_URL", "KOTORI_TEST_REDIS_CLUSTER_URL"] {
            let Ok(url) = std::env::var(var) else {
                eprintln!("skipped the {var} part: {var} is not set");
                continue;
            };
            let prefix = format!("kotori-test:{}:scripts:", crate::random::hex_token(4));
            let store = RedisStore::connect(&url, &prefix).await.unwrap();
            let text = format!(
                "-- {}\nreturn tonumber(ARGV[1]) + 1",
                crate::random::hex_token(8)
            );
            let script = Lua::new(Box::leak(text.into_boxed_str()));
            let key = vec![store.key("k")];
            let first: i64 = store.run(&script, key.clone(), vec![41]).await.unwrap();
            assert_eq!(first, 42, "{var}");
            let client = store.pool.next();
            if !client.is_clustered() {
                // (On a cluster the script is kept by the node of the key's slot only.)
                let held: Vec<bool> = client
                    .script_exists(vec![script.sha().to_owned()])
                    .await
                    .unwrap();
                assert_eq!(held, [true], "{var}: EVAL left the script on the server");
            }
            let again: i64 = store.run(&script, key, vec![1]).await.unwrap();
            assert_eq!(again, 2, "{var}");
            store.quit().await;
        }
    }
}
