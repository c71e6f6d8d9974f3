//! Rankings: members scored by the hits they received over a window of days, boosted members'
//! hits counting more — the hot list's data structure, kept as hits happen so that reading a
//! page costs the page, not the number of members.
//!
//! The semantics both stores implement (the suite in `tests` holds them to it):
//!
//! - a hit adds 1 to the member's count for its day, and to its *raw* score;
//! - a member's score is its raw score × the ranking's boost while it is boosted (its boost ends
//!   after `until`), else its raw score — a boost that starts or ends changes the score of hits
//!   already counted, as a membership that starts or ends does;
//! - taking hits back (an erased account's footprints) undoes hits still counted: never more
//!   than the member's count for that day holds, nothing for a day that expired already;
//! - expiring drops the boosts that ended and the counts of days before the window, a bounded
//!   batch per call, so a day with a million hits never stalls the store;
//! - members are listed by score, highest first, ties by member, highest (newest user) first;
//!   a member whose raw score falls to 0 leaves the ranking.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Which ranking, and how much a boosted member's hits count.
#[derive(Clone, Copy, Debug)]
pub struct Ranking {
    /// The ranking's name: its keys in the store derive from it.
    pub name: &'static str,
    /// A boosted member's score is its raw score times this.
    pub boost: i64,
}

/// The in-process form of one ranking (the Redis form is the same five structures as sorted
/// sets, see `redis_rank`).
#[derive(Default)]
pub(crate) struct Board {
    /// Member → its hits counted in the window and its score; the scores again in listing
    /// order. One map, not one per number: at a million members each resize of a map moves
    /// all of them at once, and two maps growing in step did it twice in one call.
    members: HashMap<i64, Tally>,
    order: BTreeSet<(Reverse<i64>, Reverse<i64>)>,
    /// Day → member → hits on that day: what expiring a day takes back.
    days: BTreeMap<i64, HashMap<i64, i64>>,
    /// Member → end of its boost, and the same pairs by end.
    boosts: HashMap<i64, i64>,
    ends: BTreeSet<(i64, i64)>,
}

/// A member's numbers: hits counted in the window (unboosted), and its score (0 when it fell
/// to 0 or below: it is not listed then).
#[derive(Clone, Copy, Default)]
struct Tally {
    raw: i64,
    score: i64,
}

impl Board {
    fn factor(&self, rank: &Ranking, member: i64, now: i64) -> i64 {
        match self.boosts.get(&member) {
            Some(&until) if until > now => rank.boost,
            _ => 1,
        }
    }

    fn tally(&self, member: i64) -> Tally {
        self.members.get(&member).copied().unwrap_or_default()
    }

    /// Sets `member`'s numbers: it is kept while it has raw hits, listed while its score is
    /// above 0.
    fn set(&mut self, member: i64, raw: i64, score: i64) {
        let old = self.members.remove(&member).unwrap_or_default();
        if old.score > 0 {
            self.order.remove(&(Reverse(old.score), Reverse(member)));
        }
        let score = score.max(0);
        if raw > 0 {
            self.members.insert(member, Tally { raw, score });
        }
        if score > 0 {
            self.order.insert((Reverse(score), Reverse(member)));
        }
    }

    /// Counts `hits` for `member` on `day`.
    pub(crate) fn hit(&mut self, rank: &Ranking, day: i64, member: i64, hits: i64, now: i64) {
        *self.days.entry(day).or_default().entry(member).or_default() += hits;
        let was = self.tally(member);
        let factor = self.factor(rank, member, now);
        self.set(member, was.raw + hits, was.score + hits * factor);
    }

    /// Takes back up to `hits` of `member`'s hits on `day` (what that day still counts).
    pub(crate) fn take(&mut self, rank: &Ranking, day: i64, member: i64, hits: i64, now: i64) {
        let Some(counts) = self.days.get_mut(&day) else {
            return;
        };
        let Some(count) = counts.get_mut(&member) else {
            return;
        };
        let taken = hits.min(*count);
        *count -= taken;
        if *count <= 0 {
            counts.remove(&member);
            if counts.is_empty() {
                self.days.remove(&day);
            }
        }
        self.uncount(rank, member, taken, now);
    }

    /// `hits` fewer raw hits for `member`, and its score lower by them times its factor; a
    /// member with no hit left leaves the ranking. (Days' counts are the caller's.)
    fn uncount(&mut self, rank: &Ranking, member: i64, hits: i64, now: i64) {
        let was = self.tally(member);
        let raw = was.raw - hits;
        if raw > 0 {
            let factor = self.factor(rank, member, now);
            self.set(member, raw, was.score - hits * factor);
        } else {
            self.set(member, 0, 0);
        }
    }

    /// Boosts `member` until `until` (replacing an earlier end).
    pub(crate) fn boost(&mut self, rank: &Ranking, member: i64, until: i64, now: i64) {
        if let Some(old) = self.boosts.insert(member, until) {
            self.ends.remove(&(old, member));
        }
        self.ends.insert((until, member));
        if let Some(&Tally { raw, .. }) = self.members.get(&member) {
            let factor = self.factor(rank, member, now);
            self.set(member, raw, raw * factor);
        }
    }

    /// Drops at most `budget` ended boosts or hits of days before `first_day`; returns how
    /// many it dropped (0: nothing is left to expire).
    pub(crate) fn expire(
        &mut self,
        rank: &Ranking,
        first_day: i64,
        now: i64,
        budget: usize,
    ) -> usize {
        let ended: Vec<(i64, i64)> = self
            .ends
            .range(..=(now, i64::MAX))
            .take(budget)
            .copied()
            .collect();
        for &(until, member) in &ended {
            self.ends.remove(&(until, member));
            self.boosts.remove(&member);
            let raw = self.tally(member).raw;
            self.set(member, raw, raw);
        }
        if !ended.is_empty() {
            return ended.len();
        }
        let Some((&day, _)) = self.days.range(..first_day).next() else {
            return 0;
        };
        let hits = self.days.get_mut(&day).expect("the day was just found");
        let batch: Vec<(i64, i64)> = hits.iter().take(budget).map(|(&m, &c)| (m, c)).collect();
        for (member, _) in &batch {
            hits.remove(member);
        }
        if hits.is_empty() {
            self.days.remove(&day);
        }
        for &(member, count) in &batch {
            self.uncount(rank, member, count, now);
        }
        batch.len().max(1)
    }

    /// Members from position `start` (0 is the top), at most `count`.
    pub(crate) fn range(&self, start: usize, count: usize) -> Vec<i64> {
        self.order
            .iter()
            .skip(start)
            .take(count)
            .map(|&(_, Reverse(member))| member)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Board, Ranking};

    const RANK: Ranking = Ranking {
        name: "t",
        boost: 3,
    };

    #[test]
    fn scores_follow_hits_boosts_and_the_window() {
        let mut b = Board::default();
        b.hit(&RANK, 10, 1, 1, 0);
        b.hit(&RANK, 11, 1, 1, 0);
        b.hit(&RANK, 11, 2, 1, 0);
        b.hit(&RANK, 11, 3, 1, 0);
        // 1 has two hits; 2 and 3 tie at one, the higher member first.
        assert_eq!(b.range(0, 10), [1, 3, 2]);
        b.boost(&RANK, 2, 100, 0);
        assert_eq!(b.range(0, 10), [2, 1, 3], "2 scores 3 while boosted");
        assert_eq!(b.range(1, 1), [1]);
        // Day 10 leaves the window: 1 keeps its day-11 hit.
        while b.expire(&RANK, 11, 0, 1) > 0 {}
        assert_eq!(b.range(0, 10), [2, 3, 1]);
        // The boost ends: 2 falls back to its raw score.
        while b.expire(&RANK, 11, 100, 1) > 0 {}
        assert_eq!(b.range(0, 10), [3, 2, 1]);
        while b.expire(&RANK, 12, 100, 1) > 0 {}
        assert!(
            b.range(0, 10).is_empty(),
            "no hits in the window, no members"
        );
    }
}
