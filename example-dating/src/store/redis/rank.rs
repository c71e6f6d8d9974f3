//! Rankings on Redis: five sorted sets per ranking, changed by scripts so that a score never
//! disagrees with the counts it is made of. Every key of a ranking carries the same hash tag
//! (`prefix{name}`), so in a Redis Cluster they sit in one slot and the scripts may touch them
//! together (the prefix stays outside the tag, so clearing a prefix finds them). Members are user ids zero-padded to 20 digits: Redis orders equal scores by
//! member, bytewise, so the padding makes ties list the highest id first, as in-process.

use fred::prelude::*;

use super::scripts::Lua;
use super::{RedisStore, fail};
use crate::store::{Ranking, StoreError};

/// Adds `hits` for members on one day: the day's counts, the raw scores, the scores (times the
/// boost for a member boosted at `now`). KEYS: rank raw days boost day. ARGV: day now boost,
/// then member and hits pairs.
static HITS: Lua = Lua::new(
    r"
local now, boost = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[1])
for i = 4, #ARGV, 2 do
  local m, n = ARGV[i], tonumber(ARGV[i + 1])
  redis.call('ZINCRBY', KEYS[5], n, m)
  redis.call('ZINCRBY', KEYS[2], n, m)
  local u = redis.call('ZSCORE', KEYS[4], m)
  local f = 1
  if u and tonumber(u) > now then f = boost end
  redis.call('ZINCRBY', KEYS[1], n * f, m)
end
return 1",
);

/// The Lua function both ways of taking hits back share: `n` fewer raw hits for member `m`, and
/// its score `n` times its boost factor lower (gone once no hit is left). KEYS as in HITS.
macro_rules! uncount {
    () => {
        r"
local function uncount(m, n, now, boost)
  local u = redis.call('ZSCORE', KEYS[4], m)
  local f = 1
  if u and tonumber(u) > now then f = boost end
  local raw = tonumber(redis.call('ZINCRBY', KEYS[2], -n, m))
  if raw <= 0 then
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZREM', KEYS[1], m)
  else
    redis.call('ZINCRBY', KEYS[1], -n * f, m)
  end
end"
    };
}

/// Takes back hits of members on one day, never more than the day still counts for each.
/// KEYS: rank raw days boost day. ARGV: day now boost, then member and hits pairs.
static TAKE: Lua = Lua::new(concat!(
    uncount!(),
    r"
local now, boost = tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 4, #ARGV, 2 do
  local m = ARGV[i]
  local c = redis.call('ZSCORE', KEYS[5], m)
  if c then
    local n = math.min(tonumber(ARGV[i + 1]), tonumber(c))
    if tonumber(redis.call('ZINCRBY', KEYS[5], -n, m)) <= 0 then redis.call('ZREM', KEYS[5], m) end
    uncount(m, n, now, boost)
  end
end
if redis.call('EXISTS', KEYS[5]) == 0 then redis.call('ZREM', KEYS[3], ARGV[1]) end
return 1"
));

/// Boosts a member until ARGV[2] and rescores it. KEYS: rank raw boost. ARGV: member until now
/// boost.
static BOOST: Lua = Lua::new(
    r"
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
local raw = redis.call('ZSCORE', KEYS[2], ARGV[1])
if raw then
  local f = 1
  if tonumber(ARGV[2]) > tonumber(ARGV[3]) then f = tonumber(ARGV[4]) end
  redis.call('ZADD', KEYS[1], tonumber(raw) * f, ARGV[1])
end
return 1",
);

/// Drops at most ARGV[2] boosts that ended by ARGV[1], rescoring their members. KEYS: rank raw
/// boost.
static ENDED: Lua = Lua::new(
    r"
local ended = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(ended) do
  redis.call('ZREM', KEYS[3], m)
  local raw = redis.call('ZSCORE', KEYS[2], m)
  if raw then redis.call('ZADD', KEYS[1], raw, m) end
end
return #ended",
);

/// Takes back at most ARGV[4] members' hits of one day that left the window. KEYS: rank raw
/// days boost day. ARGV: day now boost budget.
static EXPIRE_DAY: Lua = Lua::new(concat!(
    uncount!(),
    r"
local now, boost = tonumber(ARGV[2]), tonumber(ARGV[3])
local hits = redis.call('ZRANGE', KEYS[5], 0, tonumber(ARGV[4]) - 1, 'WITHSCORES')
for i = 1, #hits, 2 do
  uncount(hits[i], tonumber(hits[i + 1]), now, boost)
end
local taken = #hits / 2
if taken > 0 then redis.call('ZREMRANGEBYRANK', KEYS[5], 0, taken - 1) end
if redis.call('EXISTS', KEYS[5]) == 0 then redis.call('ZREM', KEYS[3], ARGV[1]) end
return math.max(taken, 1)"
));

/// How many (member, hits) pairs one script call carries when loading.
const LOAD_BATCH: usize = 500;

fn member(id: i64) -> String {
    format!("{id:020}")
}

/// The keys of one ranking.
struct Keys {
    base: String,
}

impl Keys {
    fn rank(&self) -> String {
        format!("{}:rank", self.base)
    }
    fn raw(&self) -> String {
        format!("{}:raw", self.base)
    }
    fn days(&self) -> String {
        format!("{}:days", self.base)
    }
    fn boost(&self) -> String {
        format!("{}:boost", self.base)
    }
    fn day(&self, day: i64) -> String {
        format!("{}:day:{day}", self.base)
    }
    /// What the hit and expire scripts take.
    fn for_day(&self, day: i64) -> Vec<String> {
        vec![
            self.rank(),
            self.raw(),
            self.days(),
            self.boost(),
            self.day(day),
        ]
    }
}

impl RedisStore {
    fn rank_keys(&self, rank: &Ranking) -> Keys {
        Keys {
            base: format!("{}{{{}}}", self.prefix, rank.name),
        }
    }

    pub(super) async fn hits(
        &self,
        rank: &Ranking,
        hits: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        self.per_day(&HITS, rank, hits, now).await
    }

    pub(super) async fn take(
        &self,
        rank: &Ranking,
        hits: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        self.per_day(&TAKE, rank, hits, now).await
    }

    /// Runs `script` (HITS or TAKE) over `hits`, one call per day and batch.
    async fn per_day(
        &self,
        script: &Lua,
        rank: &Ranking,
        hits: &[(i64, i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        self.ready()?;
        let keys = self.rank_keys(rank);
        let mut by_day: std::collections::BTreeMap<i64, Vec<(i64, i64)>> = Default::default();
        for &(day, m, n) in hits {
            by_day.entry(day).or_default().push((m, n));
        }
        for (day, hits) in by_day {
            for batch in hits.chunks(LOAD_BATCH) {
                let mut args = vec![day.to_string(), now.to_string(), rank.boost.to_string()];
                for &(m, n) in batch {
                    args.push(member(m));
                    args.push(n.to_string());
                }
                let _: i64 = self.run(script, keys.for_day(day), args).await?;
            }
        }
        Ok(())
    }

    pub(super) async fn boost(
        &self,
        rank: &Ranking,
        id: i64,
        until: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.ready()?;
        let k = self.rank_keys(rank);
        let args = vec![
            member(id),
            until.to_string(),
            now.to_string(),
            rank.boost.to_string(),
        ];
        let _: i64 = self
            .run(&BOOST, vec![k.rank(), k.raw(), k.boost()], args)
            .await?;
        Ok(())
    }

    pub(super) async fn expire(
        &self,
        rank: &Ranking,
        first_day: i64,
        now: i64,
        budget: usize,
    ) -> Result<usize, StoreError> {
        self.ready()?;
        let k = self.rank_keys(rank);
        let ended: i64 = self
            .run(
                &ENDED,
                vec![k.rank(), k.raw(), k.boost()],
                vec![now, budget as i64],
            )
            .await?;
        if ended > 0 {
            return Ok(ended as usize);
        }
        let old: Vec<i64> = self
            .pool
            .zrangebyscore(
                k.days(),
                "-inf",
                format!("({first_day}"),
                false,
                Some((0, 1)),
            )
            .await
            .map_err(fail)?;
        let Some(&day) = old.first() else {
            return Ok(0);
        };
        let args = vec![day, now, rank.boost, budget as i64];
        let taken: i64 = self.run(&EXPIRE_DAY, k.for_day(day), args).await?;
        Ok(taken as usize)
    }

    pub(super) async fn range(
        &self,
        rank: &Ranking,
        start: usize,
        count: usize,
    ) -> Result<Vec<i64>, StoreError> {
        self.ready()?;
        if count == 0 {
            return Ok(Vec::new());
        }
        let k = self.rank_keys(rank);
        let stop = (start + count - 1) as i64;
        let members: Vec<String> = self
            .pool
            .zrevrange(k.rank(), start as i64, stop, false)
            .await
            .map_err(fail)?;
        members
            .iter()
            .map(|m| {
                m.parse()
                    .map_err(|_| StoreError(format!("{m} is not a ranking member")))
            })
            .collect()
    }

    pub(super) async fn clear_rank(&self, rank: &Ranking) -> Result<(), StoreError> {
        self.ready()?;
        let k = self.rank_keys(rank);
        let days: Vec<i64> = self
            .pool
            .zrange(k.days(), 0, -1, None, false, None, false)
            .await
            .map_err(fail)?;
        let mut keys = vec![k.rank(), k.raw(), k.days(), k.boost()];
        keys.extend(days.into_iter().map(|d| k.day(d)));
        let _: i64 = self.pool.del(keys).await.map_err(fail)?;
        Ok(())
    }
}
