//! Whom a viewer is shown, from the kept copies: the lists' form of the one rule
//! (`people::visibility::may_see`), which `tests/visibility.rs` holds to the query's.

use std::sync::Arc;
use std::time::Instant;

use sea_orm::ConnectionTrait;

use super::super::card::KeptCard;
use super::super::graph::People;
use super::super::{Authority, Relation, may_see};
use super::PeopleCache;
use crate::codes::AppError;

impl PeopleCache {
    /// The cards of the people with these ids, in their order, with `None` for those `viewer`
    /// may not see (and for the viewer). The same answer as `visibility::shown_to`
    /// (`tests/visibility.rs` holds them to it), from kept cards, blocks and contacts: the
    /// database is asked only for what is not kept, and for contacts only when someone shown
    /// to contacts alone is among them.
    pub async fn shown_to(
        &self,
        db: &impl ConnectionTrait,
        viewer: i64,
        ids: &[i64],
    ) -> Result<Vec<Option<Arc<KeptCard>>>, AppError> {
        let mut cards = self.cards(db, ids).await?;
        for (slot, &id) in cards.iter_mut().zip(ids) {
            if id == viewer {
                *slot = None;
            }
        }
        if cards.iter().all(Option::is_none) {
            return Ok(cards);
        }
        let hidden = self.hidden_from(db, viewer).await?;
        // Whom the viewer talked with matters only for people shown to contacts alone.
        let contacts = match cards
            .iter()
            .flatten()
            .any(|c| c.authority == Authority::Contacts && !hidden.contains(&c.user_id))
        {
            true => Some(self.contacts_of(db, viewer).await?),
            false => None,
        };
        for slot in cards.iter_mut() {
            let shown = slot.as_ref().is_some_and(|card| {
                let relation = Relation {
                    contact: contacts.as_ref().is_some_and(|c| c.contains(&card.user_id)),
                    blocked: hidden.contains(&card.user_id),
                };
                may_see(viewer, card, relation)
            });
            if !shown {
                *slot = None;
            }
        }
        Ok(cards)
    }

    /// How many of `ids` `viewer` may see: what [`shown_to`](Self::shown_to) shows, counted —
    /// by the same rule, without handing out a card for each (a count of a crowd looks at a
    /// thousand; `tests/visibility.rs` holds the two to one answer).
    pub async fn count_shown(
        &self,
        db: &impl ConnectionTrait,
        viewer: i64,
        ids: &[i64],
    ) -> Result<usize, AppError> {
        let hidden = self.hidden_from(db, viewer).await?;
        let mut count = Tally::new(viewer, &hidden);
        let missing: Vec<i64> = {
            let now = Instant::now();
            let kept = self.kept();
            ids.iter()
                .copied()
                .filter(|id| match kept.cards.get(id).filter(|c| c.is_fresh(now)) {
                    Some(card) => {
                        count.add(&card.value);
                        false
                    }
                    None => true,
                })
                .collect()
        };
        if !missing.is_empty() {
            for card in self.cards(db, &missing).await?.iter().flatten() {
                count.add(card);
            }
        }
        // Whom the viewer talked with matters only for people shown to contacts alone.
        if !count.if_contact.is_empty() {
            let contacts = self.contacts_of(db, viewer).await?;
            count.shown += count
                .if_contact
                .iter()
                .filter(|id| contacts.contains(id))
                .count();
        }
        Ok(count.shown)
    }
}

/// A count of the people a viewer may see ([`PeopleCache::count_shown`]): those shown to them as
/// a stranger, and those shown only if they are the viewer's contact, to be asked about.
struct Tally<'a> {
    viewer: i64,
    hidden: &'a People,
    shown: usize,
    if_contact: Vec<i64>,
}

impl<'a> Tally<'a> {
    fn new(viewer: i64, hidden: &'a People) -> Self {
        Tally {
            viewer,
            hidden,
            shown: 0,
            if_contact: Vec::new(),
        }
    }

    /// Counts `card` (never the viewer's own).
    fn add(&mut self, card: &KeptCard) {
        if card.user_id == self.viewer {
            return;
        }
        let blocked = self.hidden.contains(&card.user_id);
        let relation = |contact| Relation { contact, blocked };
        if may_see(self.viewer, card, relation(false)) {
            self.shown += 1;
        } else if may_see(self.viewer, card, relation(true)) {
            self.if_contact.push(card.user_id);
        }
    }
}
