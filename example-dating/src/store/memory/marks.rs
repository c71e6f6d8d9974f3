//! Replay marks (`Store::mark_each_and_get`) by fingerprint, with their expiry: 32 bytes a mark
//! in a table and no allocation of its own, where a key and a value cost two allocations and
//! about 170 bytes — and a signed request leaves two marks for two signing windows.
//!
//! A fingerprint is 128 bits of two hashes seeded at random per process: two keys that share one
//! (a request wrongly refused as a replay) would take about 2^64 marks.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::{RandomState, SHARDS, lock, sweep};

/// The marks, in shards of their own (a mark's fingerprint picks its shard).
pub(super) struct Marks {
    shards: Box<[Mutex<HashMap<u128, Instant, Fingerprinted>>]>,
    /// Two independently seeded hashes make a mark's fingerprint.
    hashers: [RandomState; 2],
}

impl Default for Marks {
    fn default() -> Self {
        Marks {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hashers: [RandomState::default(), RandomState::default()],
        }
    }
}

impl Marks {
    /// Marks `key` for `ttl` unless it is marked; `true` when it was not.
    pub(super) fn mark(&self, key: &str, ttl: Duration, now: Instant) -> bool {
        let [high, low] = &self.hashers;
        let fingerprint = u128::from(high.hash_one(key)) << 64 | u128::from(low.hash_one(key));
        let mut shard = lock(&self.shards[fingerprint as usize % SHARDS]);
        match shard.entry(fingerprint) {
            Entry::Occupied(mark) if *mark.get() > now => false,
            Entry::Occupied(mut expired) => {
                expired.insert(now + ttl);
                true
            }
            Entry::Vacant(mark) => {
                mark.insert(now + ttl);
                true
            }
        }
    }

    /// Drops the expired marks of shard `index`; returns how many.
    pub(super) fn sweep_shard(&self, index: usize, now: Instant) -> usize {
        sweep(&mut lock(&self.shards[index]), |at| *at > now)
    }

    /// How many are held, expired or not.
    pub(super) fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
    }
}

/// The table's hash of a fingerprint: its high half, already a hash (the low half chose the
/// shard).
#[derive(Clone, Copy, Default)]
struct Fingerprinted;

impl BuildHasher for Fingerprinted {
    type Hasher = FingerprintHasher;

    fn build_hasher(&self) -> FingerprintHasher {
        FingerprintHasher(0)
    }
}

struct FingerprintHasher(u64);

impl std::hash::Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u128`s are hashed here (`write_u128`); a fold for anything else.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u128(&mut self, fingerprint: u128) {
        self.0 = (fingerprint >> 64) as u64;
    }
}
