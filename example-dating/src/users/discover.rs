//! Finding people nearby: `GET /api/user/nearby/list` (the hot list is `hot`).

use std::sync::Arc;

use kotori::{Res, Response, State};
use sea_orm::EntityTrait;

use crate::auth::Caller;
use crate::codes::{self, AppError};
use crate::db::entity::users::location;
use crate::envelope::answer_written;
use crate::paging::{Listing, Page};
use crate::params::Params;
use crate::people::card::KeptCard;
use crate::state::AppState;

/// The nearby search considers at most this many people around the centre.
pub const NEARBY_MAX: usize = 2_000;

/// `total` counts the people shown up to one past the deepest page, as every list counted by
/// its request does: `1001` says "more than a thousand", all that paging can reach.
const COUNTED_MAX: usize = crate::paging::COUNTED_BY_REQUEST as usize;

/// Public profiles within `radius_km` of (`lat`, `lng`) — or of the caller's stored location —
/// nearest first, each with `distance_km`.
pub async fn nearby(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let page = Page::from_params(&params)?;
    let radius = params.parse_optional::<f64>("radius_km")?.unwrap_or(10.0);
    if !(radius > 0.0 && radius <= 100.0) {
        return Err(codes::malformed("radius_km", "more than 0, at most 100"));
    }
    let mut centre = match (
        params.parse_optional::<f64>("lat")?,
        params.parse_optional::<f64>("lng")?,
    ) {
        (Some(lat), Some(lng)) => {
            let (lat, lng) = crate::validate::check_lat_lng(lat, lng)?;
            Centre::At(lat, lng)
        }
        (Some(_), None) => return Err(codes::missing("lng")),
        (None, Some(_)) => return Err(codes::missing("lat")),
        (None, None) => Centre::Caller,
    };
    // Only the index can search by distance: while it loads (a cold start), say so — after
    // telling a caller with no location at all what is missing.
    if !state.places().loaded() {
        if let Centre::Caller = centre {
            Box::pin(stored_location(&state, caller.user_id)).await?;
        }
        return Err(codes::unavailable("the nearby index (loading)"));
    }
    // Ask the index for this page plus a margin for the people a caller may not see, and
    // widen (doubling) only while filtering left the page short: the cost follows the page,
    // not the number of people around.
    let need = (page.offset() + page.size) as usize + 1; // one more says whether there is a next
    let mut want = (need + need / 4 + 4).min(NEARBY_MAX);
    let (visible, searched_all, looked_at) = loop {
        let places = state.places();
        let near = match centre {
            Centre::At(lat, lng) => places.near(lat, lng, radius, want),
            Centre::Caller => match places.near_user(caller.user_id, radius, want) {
                Some(near) => near,
                // The index has not been given this caller's location yet: the row has it.
                None => {
                    // Boxed, as every rarely taken query: held inline, its future would
                    // make every request's larger (`people::cache::keeping::read_through`).
                    let (lat, lng) = Box::pin(stored_location(&state, caller.user_id)).await?;
                    centre = Centre::At(lat, lng);
                    places.near(lat, lng, radius, want)
                }
            },
        };
        let exhausted = near.len() < want;
        let ids: Vec<i64> = near.iter().map(|&(id, _)| id).collect();
        let shown = state
            .people()
            .shown_to(&state.db, caller.user_id, &ids)
            .await?;
        let visible: Vec<Near> = near
            .iter()
            .zip(shown)
            .filter_map(|(&(_, km), card)| {
                Some(Near {
                    card: card?,
                    metres: (km * 1000.0).round() as u64,
                })
            })
            .collect();
        if visible.len() >= need || exhausted || want == NEARBY_MAX {
            break (visible, exhausted, near.len());
        }
        want = (want * 2).min(NEARBY_MAX);
    };
    // The page's search saw everyone within the radius, or only the nearest: then everyone
    // the caller may see there is counted (the same rule as the page's, `count_shown`), without sorting them.
    let total = match searched_all {
        true => visible.len(),
        false => {
            let share = Share {
                looked_at,
                shown: visible.len(),
            };
            Box::pin(count_shown(&state, caller.user_id, centre, radius, share))
                .await?
                .max(visible.len())
        }
    } as u64;
    let list = visible
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .collect();
    Ok(written(&page.listing(total, list)))
}

/// The answer for `listing`: each card's kept JSON copied with `distance_km` added as its last
/// field — what serde would write for the card and the distance, without writing the card's
/// fields again or checking its kept text (`RawValue`), which was a tenth of a request.
fn written(listing: &Listing<Near>) -> Response {
    use std::fmt::Write;
    let capacity = 48
        + listing
            .list
            .iter()
            .map(|n| n.card.json().len() + 24)
            .sum::<usize>();
    answer_written(capacity, |out| {
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            r#"{{"total":{},"has_next":{},"list":["#,
            listing.total, listing.has_next
        );
        for (i, near) in listing.list.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let card = near.card.json();
            out.push_str(card.strip_suffix('}').unwrap_or(card));
            out.push_str(r#","distance_km":"#);
            write_km(out, near.metres);
            out.push('}');
        }
        out.push_str("]}");
    })
}

/// Writes `metres` in kilometres as serde writes the f64 `metres / 1000` — `1.0`, `0.25`,
/// `12.345`: the shortest decimal that reads back as that f64, which for a whole number of
/// metres is its digits with the trailing zeros of the fraction dropped (at least one kept).
/// Formatting the float was 1–3% of a nearby page (perf); formatting the integers with `fmt`
/// (padding, a `write!` per card) was still 8% (callgrind), so they are written by `itoa`.
fn write_km(out: &mut String, metres: u64) {
    let (whole, mut fraction, mut digits) = (metres / 1000, metres % 1000, 3);
    while digits > 1 && fraction % 10 == 0 {
        fraction /= 10;
        digits -= 1;
    }
    let mut number = itoa::Buffer::new();
    out.push_str(number.format(whole));
    out.push('.');
    let fraction = number.format(fraction);
    for _ in fraction.len()..digits {
        out.push('0');
    }
    out.push_str(fraction);
}

/// How many people within `radius` of `centre` `viewer` may see, up to [`COUNTED_MAX`]: of
/// the first [`NEARBY_MAX`] people the index finds there (in no order), so that a crowd past
/// the cap is not looked at whole. A page costs its page; a count costs at most what a
/// thousand people do, like every list counted by its request (`paging::total_of`).
///
/// Past the cap, what a count costs is the people it looks at (callgrind: the walk that finds
/// them and each one's card were half of a nearby page at 100,000 demo users). So it first
/// looks at as many as the cap needs at the share of people `sample` found shown (the page's
/// own search, the nearest), and a quarter more; only a crowd less visible than its nearest
/// part, whose first look fell short of the cap with people left unlooked at, is counted
/// again over all [`NEARBY_MAX`] — the same answer, at the old cost.
async fn count_shown(
    state: &AppState,
    viewer: i64,
    centre: Centre,
    radius: f64,
    sample: Share,
) -> Result<usize, AppError> {
    let at_share = sample.enough_for(COUNTED_MAX);
    let first = (at_share + at_share / 4 + 16).min(NEARBY_MAX);
    let (shown, short) = count_among(state, viewer, centre, radius, first, sample).await?;
    if !short {
        return Ok(shown);
    }
    // A look at NEARBY_MAX people is never short.
    let (shown, _) = count_among(state, viewer, centre, radius, NEARBY_MAX, sample).await?;
    Ok(shown)
}

/// The people within the radius, at most `limit` of them, counted in batches sized by
/// `sample`'s share for what the cap still needs (a count stops at the cap); and whether the
/// look fell short: fewer shown than the cap, with people left beyond `limit`.
async fn count_among(
    state: &AppState,
    viewer: i64,
    centre: Centre,
    radius: f64,
    limit: usize,
    sample: Share,
) -> Result<(usize, bool), AppError> {
    let places = state.places();
    let ids = match centre {
        Centre::At(lat, lng) => places.within(lat, lng, radius, limit),
        Centre::Caller => places
            .within_user(viewer, radius, limit)
            .unwrap_or_default(),
    };
    let (mut shown, mut rest) = (0, ids.as_slice());
    while !rest.is_empty() {
        // As many as the cap still needs at the share, a sixteenth more: one batch, mostly.
        let at_share = sample.enough_for(COUNTED_MAX - shown);
        let batch = (at_share + at_share / 16).max(64).min(rest.len());
        let (batch, after) = rest.split_at(batch);
        shown += state.people().count_shown(&state.db, viewer, batch).await?;
        if shown >= COUNTED_MAX {
            return Ok((COUNTED_MAX, false));
        }
        rest = after;
    }
    Ok((shown, ids.len() == limit && limit < NEARBY_MAX))
}

/// How many of the people a search looked at were shown: the share a count expects.
#[derive(Clone, Copy)]
struct Share {
    looked_at: usize,
    shown: usize,
}

impl Share {
    /// How many people to look at to find `wanted` shown at this share (everyone the index
    /// may hand out, when nobody was shown).
    fn enough_for(self, wanted: usize) -> usize {
        match self.shown {
            0 => NEARBY_MAX,
            shown => (wanted * self.looked_at.max(shown)).div_ceil(shown),
        }
    }
}

/// Where a nearby search is centred: a point given, or the caller's stored location.
#[derive(Clone, Copy)]
enum Centre {
    At(f64, f64),
    Caller,
}

/// The caller's stored location, as (`lat`, `lng`), or what to send instead.
async fn stored_location(state: &AppState, user_id: i64) -> Result<(f64, f64), AppError> {
    let stored = location::Entity::find_by_id(user_id).one(&state.db).await?;
    let stored = stored
        .ok_or_else(|| codes::missing("lat and lng (no location stored: POST /api/me/location)"))?;
    Ok((stored.lat, stored.lng))
}

/// A person nearby: the public profile and how far, to the metre (written in kilometres).
#[derive(Debug)]
pub struct Near {
    card: Arc<KeptCard>,
    metres: u64,
}

/// What nearby reads and answers, for `/openapi.json`.
pub fn nearby_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    paged_of(extended(
        crate::people::Card::schema(),
        [("distance_km", json!({"type": "number", "minimum": 0}))],
    ))
    .param(optional(
        "lat",
        json!({"type": "number", "minimum": -90, "maximum": 90}),
    ))
    .param(optional(
        "lng",
        json!({"type": "number", "minimum": -180, "maximum": 180}),
    ))
    .param(optional(
        "radius_km",
        json!({"type": "number", "exclusiveMinimum": 0, "maximum": 100, "default": 10}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::{Authority, Card};
    use http_body_util::BodyExt;

    fn near(user_id: i64, nickname: &str, metres: u64) -> Near {
        let card = Card {
            user_id,
            nickname: nickname.into(),
            gender: 2,
            birthday: Some("1990-01-02".into()),
            avatar: None,
            height: Some(170),
            emotion: None,
            sexual: Some(1),
            education: None,
            salary: None,
            authority: Authority::Everyone,
            banned: false,
            deleted_at: None,
        };
        Near {
            card: Arc::new(KeptCard::new(card)),
            metres,
        }
    }

    /// The hand-written answer is the JSON serde writes for the same page: every card field,
    /// `distance_km` as a float, names with quotes and escapes intact, an empty page too.
    #[tokio::test]
    async fn the_written_page_is_what_serde_writes() {
        let pages = [
            vec![],
            vec![near(1, "Mei", 0), near(2, "a \"quoted\" \\ name", 1000)],
            vec![near(3, "小明", 12_345), near(4, "</script>\n", 99_999)],
        ];
        for list in pages {
            let listing = Listing {
                total: list.len() as u64 + 5,
                has_next: !list.is_empty(),
                list,
            };
            let body = written(&listing).into_body().collect().await.unwrap();
            let body = std::str::from_utf8(&body.to_bytes()).unwrap().to_owned();
            let items: Vec<serde_json::Value> = listing
                .list
                .iter()
                .map(|n| {
                    let mut card = serde_json::to_value(&**n.card).unwrap();
                    card["distance_km"] = serde_json::json!(n.metres as f64 / 1000.0);
                    card
                })
                .collect();
            let expected = serde_json::json!({"code": 0, "msg": "success", "data": {
                "total": listing.total, "has_next": listing.has_next, "list": items,
            }});
            let sent: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(sent, expected, "{body}");
            // Floats stay floats: a client reading `distance_km` as a number in any language.
            if let Some(first) = listing.list.first() {
                let km = serde_json::json!(first.metres as f64 / 1000.0);
                let field = format!(r#""distance_km":{km}"#);
                assert!(body.contains(&field), "{body}");
            }
        }
    }

    /// Every distance up to twice the largest radius is written as serde writes the float.
    #[test]
    fn kilometres_are_written_as_serde_writes_them() {
        let mut out = String::new();
        for metres in (0..=200_000).chain([1_000_000, 12_345_678]) {
            out.clear();
            write_km(&mut out, metres);
            let serde = serde_json::json!(metres as f64 / 1000.0).to_string();
            assert_eq!(out, serde, "{metres} m");
        }
    }
}
