//! The Lua scripts of the Redis store's counters: each runs atomically on the server, so a
//! counter is never left without its expiry and a set of quotas is taken all or none. Scripts
//! with several keys need them on one Redis Cluster slot (one hash tag, given by the caller).

/// `INCR`, and `PEXPIRE` on the first increment, in one atomic script: a counter can never be
/// left without its expiry by a process dying between two commands.
pub(super) const INCR_WITH_TTL: &str = "local v = redis.call('INCR', KEYS[1]) \
     if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v";

/// INCR of each of KEYS only if it exists (the expiry stays): the new values, -1 where a key
/// does not exist (a Lua table cannot hold nil).
pub(super) const INCR_EXISTING: &str = "local out = {} \
     for i = 1, #KEYS do \
       if redis.call('EXISTS', KEYS[i]) == 1 then \
         out[i] = redis.call('INCR', KEYS[i]) \
       else \
         out[i] = -1 \
       end \
     end \
     return out";

/// Takes one from each of the first ARGV[1] counters in KEYS (then ARGV: limit, window in ms,
/// for each), all or none: the first spent counter answers its time left in ms and nothing is
/// written; -1 when taken. A key after the counters is then set to the next ARGV, expiring
/// after the last (in ms).
pub(super) const TAKE: &str = "local n = tonumber(ARGV[1]) \
     for i = 1, n do \
       local v = tonumber(redis.call('GET', KEYS[i]) or '0') \
       if v >= tonumber(ARGV[2 * i]) then \
         local left = redis.call('PTTL', KEYS[i]) \
         if left < 0 then left = tonumber(ARGV[2 * i + 1]) end \
         return left \
       end \
     end \
     for i = 1, n do \
       if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * i + 1]) end \
     end \
     if #KEYS > n then \
       redis.call('SET', KEYS[n + 1], ARGV[2 * n + 2], 'PX', ARGV[2 * n + 3]) \
     end \
     return -1";

/// The time left in ms of a spent counter (ARGV: limit, window in ms), or -1 when it has room.
pub(super) const SPENT: &str = "local n = tonumber(redis.call('GET', KEYS[1]) or '0') \
     if n < tonumber(ARGV[1]) then return -1 end \
     local left = redis.call('PTTL', KEYS[1]) \
     if left < 0 then left = tonumber(ARGV[2]) end \
     return left";

/// Deletes every key under a prefix (tests clean up after themselves with it).
pub(super) const DELETE_PREFIX: &str = "local keys = redis.call('KEYS', ARGV[1]) \
     for i = 1, #keys do redis.call('DEL', keys[i]) end return #keys";
