//! The geo index of user locations. The `location` rows are the truth; the store's geo set,
//! derived from them, answers nearby searches. Only this module knows the set's key.

use futures_util::future::join_all;
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::codes::AppError;
use crate::db::entity::users::location;
use crate::store::{Near, Store, StoreError};

/// The key of the geo set in the store.
const USERS: &str = "geo:users";
/// Set once the index was loaded from the database: its absence means the store lost the
/// index (an in-process store at start, a flushed Redis, a failover to an empty replica).
pub const BUILT: &str = "geo:built";
/// Held while one instance loads the index, so that instances sharing a Redis load it once.
const BUILDING: &str = "geo:building";

/// The latitudes a geo index holds (Redis's, Web Mercator's, are ±85.05112878°; a point on
/// that very edge is stored but never found by a search, so the limit sits a metre inside).
pub const MAX_LAT: f64 = 85.051_12;

/// Places (or moves) `user_id` at (`lat`, `lng`). A latitude nearer a pole than the index can
/// hold is placed at the index's edge: the row keeps what was sent, the index the nearest
/// point it can represent (distances that far north or south are not what nearby is for;
/// searches from there are clamped alike).
pub async fn place(store: &dyn Store, user_id: i64, lat: f64, lng: f64) -> Result<(), StoreError> {
    store
        .geo_add(USERS, &user_id.to_string(), lng, indexable(lat))
        .await
}

/// The latitude the index uses for `lat`: the same for a place and for a search, so a search
/// from a pole finds the people placed there.
fn indexable(lat: f64) -> f64 {
    lat.clamp(-MAX_LAT, MAX_LAT)
}

/// Takes `user_id` out of the index (an erased account).
pub async fn remove(store: &dyn Store, user_id: i64) -> Result<(), StoreError> {
    store.geo_remove(USERS, &user_id.to_string()).await
}

/// Users within `radius_km` of (`lat`, `lng`), nearest first, at most `count`: `(user_id, km)`.
pub async fn near(
    store: &dyn Store,
    lat: f64,
    lng: f64,
    radius_km: f64,
    count: usize,
) -> Result<Vec<(i64, f64)>, StoreError> {
    // A search from nearer a pole than the index holds starts at its edge, like a place does.
    let found = store
        .geo_search(USERS, lng, indexable(lat), radius_km, count)
        .await?;
    Ok(members(found))
}

/// Users within `radius_km` of where the index places `user_id`, nearest first, at most
/// `count` (`user_id` among them): `(user_id, km)`; `None` when `user_id` is not placed. One
/// store round trip: the position is looked up where the search runs.
pub async fn near_user(
    store: &dyn Store,
    user_id: i64,
    radius_km: f64,
    count: usize,
) -> Result<Option<Vec<(i64, f64)>>, StoreError> {
    let found = store
        .geo_search_from(USERS, &user_id.to_string(), radius_km, count)
        .await?;
    Ok(found.map(members))
}

fn members(near: Vec<Near>) -> Vec<(i64, f64)> {
    near.into_iter()
        .filter_map(|Near { member, km }| Some((member.parse().ok()?, km)))
        .collect()
}

/// Loads every stored location into the index: an in-process store (or a flushed Redis)
/// starts empty. A row the index refuses is reported and skipped, so one bad row cannot hide
/// every user after it. Returns how many were loaded.
pub async fn rebuild(db: &DatabaseConnection, store: &dyn Store) -> Result<usize, AppError> {
    let locations = location::Entity::find().all(db).await?;
    // Many commands in flight at once: a million one at a time to Redis take minutes.
    let mut loaded = 0;
    for batch in locations.chunks(IN_FLIGHT) {
        let placed = join_all(batch.iter().map(|l| place(store, l.user_id, l.lat, l.lng))).await;
        for (l, placed) in batch.iter().zip(placed) {
            match placed {
                Ok(()) => loaded += 1,
                Err(e) => {
                    tracing::warn!(user_id = l.user_id, lat = l.lat, lng = l.lng, error = %e, "skipped a location the geo index refused")
                }
            }
        }
    }
    Ok(loaded)
}

/// Loads the index if the store lost it and no other instance is loading it. `true` when the
/// index is there (it was, or this call loaded it); `false` while another instance loads it.
pub async fn upkeep(db: &DatabaseConnection, store: &dyn Store) -> Result<bool, AppError> {
    if store.get(BUILT).await?.is_some() {
        return Ok(true);
    }
    if !store
        .set_nx(BUILDING, "1", std::time::Duration::from_secs(600))
        .await?
    {
        return Ok(false);
    }
    let loaded = rebuild(db, store).await;
    let marked = match &loaded {
        Ok(n) => {
            tracing::info!(locations = n, store = store.name(), "geo index loaded");
            store
                .set(BUILT, "1", std::time::Duration::from_secs(365 * 86_400))
                .await
        }
        Err(_) => Ok(()),
    };
    store.del(BUILDING).await?;
    loaded?;
    marked?;
    Ok(true)
}

/// How many store commands a rebuild keeps in flight.
pub const IN_FLIGHT: usize = 64;
