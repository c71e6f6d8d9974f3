//! Points on the sphere in an R-tree: a search walks outwards from its centre and stops after
//! what it was asked for, however dense the city.

use std::collections::HashMap;

use rstar::{AABB, PointDistance, RTree, RTreeObject};

/// Great-circle distance in km from the squared chord between two points of the unit sphere
/// (what the tree's walk measures already): the angle between them is 2·asin(chord / 2) —
/// the haversine formula, whose `a` is chord² / 4, without its six sines and cosines. The
/// Earth's radius is Redis's (`GEODIST`), which this index replaced: distances answered before
/// and after agree to the metre.
fn km_from_chord_2(chord_2: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord_2.sqrt() / 2.0).min(1.0).asin() / 1000.0
}

const EARTH_RADIUS_M: f64 = 6_372_797.560_856;

/// A point on the unit sphere: the straight-line (chord) distance between two such points
/// grows with their great-circle distance, so the R-tree's nearest-first order is the map's.
fn on_sphere(lng: f64, lat: f64) -> [f64; 3] {
    let (lng, lat) = (lng.to_radians(), lat.to_radians());
    [lat.cos() * lng.cos(), lat.cos() * lng.sin(), lat.sin()]
}

/// A person in the R-tree: 32 bytes (where they are on the map is in [`Sphere`]'s `places`).
#[derive(Clone, Debug, PartialEq)]
struct Point {
    xyz: [f64; 3],
    id: i64,
}

impl Point {
    fn new(id: i64, (lng, lat): (f64, f64)) -> Point {
        Point {
            xyz: on_sphere(lng, lat),
            id,
        }
    }
}

impl RTreeObject for Point {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.xyz)
    }
}

impl PointDistance for Point {
    fn distance_2(&self, point: &[f64; 3]) -> f64 {
        self.xyz
            .iter()
            .zip(point)
            .map(|(a, b)| (a - b) * (a - b))
            .sum()
    }
}

/// People on the sphere: the tree, and where each one is (to move or remove them).
#[derive(Default)]
pub(super) struct Sphere {
    tree: RTree<Point>,
    places: HashMap<i64, (f64, f64)>,
}

impl Sphere {
    /// A sphere of `(id, lng, lat)`, built in one pass (far faster than one insert each); a
    /// later entry for the same id wins.
    pub(super) fn bulk(people: impl IntoIterator<Item = (i64, f64, f64)>) -> Sphere {
        let places: HashMap<i64, (f64, f64)> = people
            .into_iter()
            .map(|(id, lng, lat)| (id, (lng, lat)))
            .collect();
        let points = places.iter().map(|(&id, &at)| Point::new(id, at)).collect();
        Sphere {
            tree: RTree::bulk_load(points),
            places,
        }
    }

    /// Places (or moves) `id` at (`lng`, `lat`).
    pub(super) fn place(&mut self, id: i64, lng: f64, lat: f64) {
        self.remove(id);
        self.tree.insert(Point::new(id, (lng, lat)));
        self.places.insert(id, (lng, lat));
    }

    /// Where `id` is, as (`lng`, `lat`).
    pub(super) fn position(&self, id: i64) -> Option<(f64, f64)> {
        self.places.get(&id).copied()
    }

    /// The people within `radius_km` of (`lng`, `lat`), nearest first, at most `count`, as
    /// `(id, km)`: the walk stops at `count`, or at the first point beyond the radius.
    pub(super) fn near(&self, lng: f64, lat: f64, radius_km: f64, count: usize) -> Vec<(i64, f64)> {
        self.tree
            .nearest_neighbor_iter_with_distance_2(&on_sphere(lng, lat))
            .map(|(p, chord_2)| (p.id, km_from_chord_2(chord_2)))
            .take_while(|&(_, km)| km <= radius_km)
            .take(count)
            .collect()
    }

    /// Takes `id` out, if placed.
    pub(super) fn remove(&mut self, id: i64) {
        if let Some(at) = self.places.remove(&id) {
            self.tree.remove(&Point::new(id, at));
        }
    }

    /// How many people are placed.
    pub(super) fn len(&self) -> usize {
        self.places.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dense_city_is_searched_nearest_first_without_scanning_it() {
        // 20,000 people within a few hundred metres of one centre.
        let sphere = Sphere::bulk((0..20_000i64).map(|i| {
            let (dx, dy) = ((i % 141) as f64 * 1e-5, (i / 141) as f64 * 1e-5);
            (i, 114.0 + dx, 22.5 + dy)
        }));
        let near = sphere.near(114.0, 22.5, 10.0, 20);
        assert_eq!(near.len(), 20);
        assert_eq!(near[0].0, 0);
        assert!(near.windows(2).all(|w| w[0].1 <= w[1].1), "nearest first");
    }

    #[test]
    fn moving_and_removing_keep_the_tree_and_the_places_in_step() {
        let mut sphere = Sphere::bulk([(1, 114.0, 22.5), (2, 114.0, 22.51), (3, 114.0, 22.52)]);
        sphere.place(1, 120.0, 30.0);
        sphere.remove(2);
        sphere.remove(99);
        let ids: Vec<i64> = sphere
            .near(114.0, 22.5, 10.0, 10)
            .iter()
            .map(|n| n.0)
            .collect();
        assert_eq!(ids, vec![3]);
        assert_eq!(sphere.position(1), Some((120.0, 30.0)));
        assert_eq!(sphere.position(2), None);
        assert_eq!(sphere.len(), 2);
        // Only the radius bounds a search: a point beyond it is not found, whatever the count.
        assert!(sphere.near(114.0, 22.5, 1.0, 10).is_empty());
    }

    #[test]
    fn a_later_entry_for_the_same_person_wins_in_a_bulk_load() {
        let sphere = Sphere::bulk([(1, 114.0, 22.5), (1, 10.0, 50.0)]);
        assert_eq!(sphere.len(), 1);
        assert_eq!(sphere.position(1), Some((10.0, 50.0)));
        assert_eq!(sphere.near(10.0, 50.0, 1.0, 5).len(), 1);
    }

    #[test]
    fn distances_are_redis_s_to_the_metre() {
        // Shanghai to Beijing: GEODIST answers 1067.3788 km for these points.
        let sphere = Sphere::bulk([(1, 116.40, 39.90)]);
        let km = sphere.near(121.47, 31.23, 2000.0, 1)[0].1;
        assert!((km - 1067.3788).abs() < 0.001, "{km}");
        // The same place is 0 km away, and the far side of the Earth half its circumference.
        assert_eq!(sphere.near(116.40, 39.90, 1.0, 1)[0].1, 0.0);
        let antipode = sphere.near(116.40 - 180.0, -39.90, 30_000.0, 1)[0].1;
        assert!((antipode - std::f64::consts::PI * EARTH_RADIUS_M / 1000.0).abs() < 0.001);
    }
}
