//! Where people are: the index nearby searches, one copy per instance, in process.
//!
//! The `location` rows are the truth. Every instance keeps its own index of them ([`Places`]:
//! an R-tree of points on the sphere), loaded from the rows in the background at start
//! (`indexes.rs`) and kept in step with every move through the hub: a location set on any
//! instance is a [`Route::Moved`] (an erasure a `Route::Close` for [`ERASED`]), delivered to
//! this instance before the answer and to the others as the hub carries it. A search is then a
//! walk of a tree in memory: no store round trip, and a cost that follows the page asked for,
//! not the size of the city (on Redis, `GEOSEARCH` read every member within the radius before
//! counting: nearby's cost grew with its users).
//!
//! When the hub may have lost deliveries (its subscription to Redis was restored), the index is
//! marked stale and loaded again from the rows by the same background task, while the old copy
//! keeps answering. Moves delivered while a load reads the rows are replayed on what it read,
//! so a load never takes back a newer place. At a million people the index holds under 100 MB
//! and loads in about a second (the book's Decisions page says why this replaced Redis's geo set).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use tokio::sync::watch;

use crate::codes::AppError;
use crate::db::entity::users::location;
use crate::realtime::route::ERASED;
use crate::realtime::{Listener, Route};
use sphere::Sphere;

mod sphere;

/// The latitudes the index holds: Web Mercator's (and Redis's), ±85.05112878°, a metre
/// inside. Nearer a pole, a place is held at this edge and a search starts from it: the row
/// keeps what was sent; distances that far north or south are not what nearby is for.
pub const MAX_LAT: f64 = 85.051_12;

/// The latitude the index uses for `lat`: the same for a place and for a search, so a search
/// from a pole finds the people placed there.
fn indexable(lat: f64) -> f64 {
    lat.clamp(-MAX_LAT, MAX_LAT)
}

/// This instance's index of where people are. See the [module](self) for how it is kept.
pub struct Places {
    inner: RwLock<Inner>,
    /// The index must be loaded from the rows: not yet, or deliveries may have been lost.
    stale: AtomicBool,
    /// How many moves were applied (tests wait on it for a move made on another instance).
    moves: watch::Sender<u64>,
    /// Held for the whole of a load: two at once would share one list of moves to replay.
    loading: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Inner {
    sphere: Sphere,
    /// Loaded from the rows at least once.
    loaded: bool,
    /// While a load reads the rows: the moves delivered meanwhile, replayed on what it read.
    replay: Option<Vec<Move>>,
}

/// A delivered change of place: `None` is out of the index (an erased account).
type Move = (i64, Option<(f64, f64)>);

impl Default for Places {
    fn default() -> Self {
        Places {
            inner: RwLock::default(),
            stale: AtomicBool::new(true),
            moves: watch::Sender::new(0),
            loading: tokio::sync::Mutex::new(()),
        }
    }
}

impl Places {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // A panic cannot leave a half-moved person behind (the sphere's place and tree change
        // together under the lock, with nothing that panics between): recover the index.
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the index was loaded from the rows (nearby answers 50301 until then).
    pub fn loaded(&self) -> bool {
        self.read().loaded
    }

    /// How many people the index places.
    pub fn len(&self) -> usize {
        self.read().sphere.len()
    }

    /// Whether nobody is placed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn apply(&self, (user, place): Move) {
        let mut inner = self.write();
        if let Some(replay) = &mut inner.replay {
            replay.push((user, place));
        }
        match place {
            Some((lat, lng)) => inner.sphere.place(user, lng, indexable(lat)),
            None => inner.sphere.remove(user),
        }
        drop(inner);
        self.moves.send_modify(|n| *n += 1);
    }

    /// Counts the moves applied here (each delivery of a move or an erasure, from this
    /// instance or another): `wait_for` on it to know a move arrived.
    pub fn moves(&self) -> watch::Receiver<u64> {
        self.moves.subscribe()
    }

    /// People within `radius_km` of (`lat`, `lng`), nearest first, at most `count`:
    /// `(user_id, km)`.
    pub fn near(&self, lat: f64, lng: f64, radius_km: f64, count: usize) -> Vec<(i64, f64)> {
        self.read()
            .sphere
            .near(lng, indexable(lat), radius_km, count)
    }

    /// People within `radius_km` of (`lat`, `lng`), in no order, at most `limit`: who there is
    /// to count.
    pub fn within(&self, lat: f64, lng: f64, radius_km: f64, limit: usize) -> Vec<i64> {
        self.read()
            .sphere
            .within(lng, indexable(lat), radius_km, limit)
    }

    /// People within `radius_km` of where the index places `user_id`, in no order, at most
    /// `limit` (`user_id` among them); `None` when `user_id` is not placed.
    pub fn within_user(&self, user_id: i64, radius_km: f64, limit: usize) -> Option<Vec<i64>> {
        let inner = self.read();
        let (lng, lat) = inner.sphere.position(user_id)?;
        Some(inner.sphere.within(lng, lat, radius_km, limit))
    }

    /// People within `radius_km` of where the index places `user_id`, nearest first, at most
    /// `count` (`user_id` among them); `None` when `user_id` is not placed.
    pub fn near_user(&self, user_id: i64, radius_km: f64, count: usize) -> Option<Vec<(i64, f64)>> {
        let inner = self.read();
        let (lng, lat) = inner.sphere.position(user_id)?;
        Some(inner.sphere.near(lng, lat, radius_km, count))
    }

    /// Loads the index from the rows if it is stale (never loaded, or deliveries may have been
    /// lost); `true` once it is loaded. The background task (`indexes.rs`) calls this.
    pub async fn upkeep(&self, db: &DatabaseConnection) -> Result<bool, AppError> {
        if self.stale.load(Ordering::Acquire) {
            let n = self.load(db).await?;
            tracing::info!(locations = n, "geo index loaded");
        }
        Ok(self.loaded())
    }

    /// Loads every stored location, replacing the index; returns how many. The old index
    /// answers meanwhile; moves delivered while the rows are read are replayed on them. A
    /// second load waits for the first.
    pub async fn load(&self, db: &DatabaseConnection) -> Result<usize, AppError> {
        let _one_at_a_time = self.loading.lock().await;
        self.stale.store(false, Ordering::Release);
        self.write().replay = Some(Vec::new());
        let rows = location::Entity::find()
            .select_only()
            .column(location::Column::UserId)
            .column(location::Column::Lng)
            .column(location::Column::Lat)
            .into_tuple::<(i64, f64, f64)>();
        let rows = crate::db::all_in_turns(db, rows).await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                self.write().replay = None;
                self.stale.store(true, Ordering::Release);
                return Err(e.into());
            }
        };
        // Building a tree of a million points takes a second of CPU: not on a thread that
        // serves requests.
        let people = rows
            .into_iter()
            .map(|(id, lng, lat)| (id, lng, indexable(lat)));
        let people: Vec<_> = people.collect();
        let built = tokio::task::spawn_blocking(move || Sphere::bulk(people)).await;
        let mut inner = self.write();
        let replay = inner.replay.take().unwrap_or_default();
        let Ok(mut sphere) = built else {
            drop(inner);
            self.stale.store(true, Ordering::Release);
            return Err(crate::codes::internal());
        };
        for (user, place) in replay {
            match place {
                Some((lat, lng)) => sphere.place(user, lng, indexable(lat)),
                None => sphere.remove(user),
            }
        }
        inner.sphere = sphere;
        inner.loaded = true;
        Ok(inner.sphere.len())
    }
}

impl Listener for Places {
    fn delivered(&self, route: &Route) {
        match route {
            Route::Moved(user, lat, lng) => self.apply((*user, Some((*lat, *lng)))),
            Route::Close(user, reason) if reason == ERASED => self.apply((*user, None)),
            _ => {}
        }
    }

    fn missed(&self) {
        self.stale.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A load whose read fails (here: no `location` table yet) is answered as an error and
    /// changes nothing: the index keeps answering, stays stale (the task tries again), and the
    /// next load that can read replaces it.
    #[tokio::test]
    async fn a_failed_load_keeps_the_index_and_is_tried_again() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let places = Places::default();
        places.delivered(&Route::Moved(7, 22.5, 114.0));
        assert!(places.load(&db).await.is_err());
        assert!(!places.loaded());
        assert!(places.stale.load(Ordering::Acquire), "tried again");
        assert_eq!(places.near(22.5, 114.0, 1.0, 5).len(), 1, "still answering");

        crate::db::migrate(&db).await.unwrap();
        assert!(places.upkeep(&db).await.unwrap());
        // The rows are the truth: user 7 has none.
        assert!(places.near(22.5, 114.0, 1.0, 5).is_empty());
        assert!(!places.stale.load(Ordering::Acquire));
        // An erasure's close takes a person out; another close does not.
        places.delivered(&Route::Moved(8, 22.5, 114.0));
        places.delivered(&Route::Close(8, "logout".into()));
        assert_eq!(places.len(), 1);
        places.delivered(&Route::Close(8, ERASED.into()));
        assert!(places.is_empty());
    }
}
