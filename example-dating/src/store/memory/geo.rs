//! The in-process store's geo sets: R-trees over points on the unit sphere, so a nearby
//! search walks outwards from the centre and stops after what it was asked for.

use std::collections::HashMap;

use rstar::{AABB, PointDistance, RTree, RTreeObject};

use crate::store::Near;

/// Great-circle distance in km, with the Earth radius Redis uses, so both stores agree.
fn haversine_km((lng1, lat1): (f64, f64), (lng2, lat2): (f64, f64)) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let (dphi, dlambda) = ((lat2 - lat1).to_radians(), (lng2 - lng1).to_radians());
    let a = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin() / 1000.0
}

const EARTH_RADIUS_M: f64 = 6_372_797.560_856;

/// A point on the unit sphere: the straight-line (chord) distance between two such points
/// grows with their great-circle distance, so the R-tree's nearest-first order is the map's.
fn on_sphere(lng: f64, lat: f64) -> [f64; 3] {
    let (lng, lat) = (lng.to_radians(), lat.to_radians());
    [lat.cos() * lng.cos(), lat.cos() * lng.sin(), lat.sin()]
}

/// A member of a geo set in the R-tree.
#[derive(Clone, Debug, PartialEq)]
struct GeoPoint {
    xyz: [f64; 3],
    member: String,
    lng_lat: (f64, f64),
}

impl RTreeObject for GeoPoint {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.xyz)
    }
}

impl PointDistance for GeoPoint {
    fn distance_2(&self, point: &[f64; 3]) -> f64 {
        self.xyz
            .iter()
            .zip(point)
            .map(|(a, b)| (a - b) * (a - b))
            .sum()
    }
}

/// One geo set: the tree, and where each member is (to move or remove it).
#[derive(Default)]
pub(super) struct GeoSet {
    tree: RTree<GeoPoint>,
    pub(super) places: HashMap<String, (f64, f64)>,
}

impl GeoSet {
    fn point(member: &str, (lng, lat): (f64, f64)) -> GeoPoint {
        GeoPoint {
            xyz: on_sphere(lng, lat),
            member: member.to_owned(),
            lng_lat: (lng, lat),
        }
    }

    /// Places (or moves) `member` at (`lng`, `lat`).
    pub(super) fn place(&mut self, member: &str, lng: f64, lat: f64) {
        self.remove(member);
        self.tree.insert(GeoSet::point(member, (lng, lat)));
        self.places.insert(member.to_owned(), (lng, lat));
    }

    /// The members within `radius_km` of (`lng`, `lat`), nearest first, at most `count`:
    /// the walk stops at `count`, or at the first point beyond the radius, however dense the
    /// city.
    pub(super) fn near(&self, lng: f64, lat: f64, radius_km: f64, count: usize) -> Vec<Near> {
        self.tree
            .nearest_neighbor_iter(&on_sphere(lng, lat))
            .map(|p| Near {
                member: p.member.clone(),
                km: haversine_km((lng, lat), p.lng_lat),
            })
            .take_while(|n| n.km <= radius_km)
            .take(count)
            .collect()
    }

    pub(super) fn remove(&mut self, member: &str) {
        if let Some(at) = self.places.remove(member) {
            self.tree.remove(&GeoSet::point(member, at));
        }
    }
}
