//! Points on the sphere in an R-tree: a search walks outwards from its centre and stops after
//! what it was asked for, however dense the city.

use std::collections::HashMap;

use rstar::{AABB, ParentNode, PointDistance, RTree, RTreeNode, RTreeObject};

/// Great-circle distance in km from the squared chord between two points of the unit sphere
/// (what the tree's walk measures already): the angle between them is 2·asin(chord / 2) —
/// the haversine formula, whose `a` is chord² / 4, without its six sines and cosines. The
/// Earth's radius is Redis's (`GEODIST`), which this index replaced: distances answered before
/// and after agree to the metre.
fn km_from_chord_2(chord_2: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord_2.sqrt() / 2.0).min(1.0).asin() / 1000.0
}

/// The squared chord of a great-circle distance of `km` (the inverse of [`km_from_chord_2`]),
/// a hair wide: a search bounds its walk by it and then keeps exactly what `km_from_chord_2`
/// puts within the radius.
fn chord_2_from_km(km: f64) -> f64 {
    let half_angle = (km * 1000.0 / (2.0 * EARTH_RADIUS_M)).min(std::f64::consts::FRAC_PI_2);
    let chord = 2.0 * half_angle.sin();
    chord * chord * (1.0 + 1e-9) + 1e-18
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
    /// `(id, km)`. A page's worth is found by [`Walk`]; more (a deep page, or a page widened
    /// past the people a caller may not see) by rstar's nearest-first iterator, whose heap
    /// costs a logarithm per person where the walk's sorted list costs a shift of the list.
    pub(super) fn near(&self, lng: f64, lat: f64, radius_km: f64, count: usize) -> Vec<(i64, f64)> {
        match count <= WALK_MAX {
            true => self.walk(lng, lat, radius_km, count),
            false => self.iterate(lng, lat, radius_km, count),
        }
    }

    /// [`near`](Self::near) by a walk of the tree that never enters a box farther than the
    /// radius, or than the `count`th nearest found so far: depth first, nearest box first,
    /// the best `count` in a sorted list. rstar's nearest-first iterator keeps every box it
    /// has seen in a binary heap, and that heap was a fifth of a nearby page (callgrind); for a
    /// page of people this walk does 40–50% fewer instructions, at 10,000 people and at a
    /// million (a test holds it to the iterator's answer).
    fn walk(&self, lng: f64, lat: f64, radius_km: f64, count: usize) -> Vec<(i64, f64)> {
        let mut walk = Walk {
            centre: on_sphere(lng, lat),
            count,
            radius_2: chord_2_from_km(radius_km),
            best: Vec::with_capacity(count + 1),
        };
        if count > 0 {
            walk.visit(self.tree.root());
        }
        walk.best
            .into_iter()
            .map(|(chord_2, id)| (id, km_from_chord_2(chord_2)))
            .filter(|&(_, km)| km <= radius_km)
            .collect()
    }

    /// [`near`](Self::near) by rstar's nearest-first iterator, stopped at `count` or at the
    /// first person beyond the radius.
    fn iterate(&self, lng: f64, lat: f64, radius_km: f64, count: usize) -> Vec<(i64, f64)> {
        self.tree
            .nearest_neighbor_iter_with_distance_2(&on_sphere(lng, lat))
            .map(|(p, chord_2)| (p.id, km_from_chord_2(chord_2)))
            .take_while(|&(_, km)| km <= radius_km)
            .take(count)
            .collect()
    }

    /// The people within `radius_km` of (`lng`, `lat`), in the tree's order, at most `limit`:
    /// who there is to count, without sorting them (see [`Within`]).
    pub(super) fn within(&self, lng: f64, lat: f64, radius_km: f64, limit: usize) -> Vec<i64> {
        let radius_2 = chord_2_from_km(radius_km);
        let mut within = Within {
            centre: on_sphere(lng, lat),
            radius_km,
            radius_2,
            // Surely inside: short of the radius by more than the hair `chord_2_from_km` adds.
            inside_2: radius_2 * (1.0 - 1e-6),
            limit,
            ids: Vec::new(),
        };
        if limit > 0 {
            within.visit(self.tree.root());
        }
        within.ids
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

/// The most people a search finds by [`Walk`]: the first page of any size (at most 50) with
/// its margin (`users::discover`); past this the shifts of its sorted list would cost more
/// than a heap.
const WALK_MAX: usize = 128;

/// One search's walk: the nearest `count` found so far, as `(squared chord, id)`, nearest
/// first (ties in the order found).
struct Walk {
    centre: [f64; 3],
    count: usize,
    radius_2: f64,
    best: Vec<(f64, i64)>,
}

impl Walk {
    /// How far a point or a box may be and still matter: the radius, or once `count` are
    /// found, the farthest of them.
    fn bound(&self) -> f64 {
        match self.best.len() == self.count {
            true => self.best[self.count - 1].0,
            false => self.radius_2,
        }
    }

    fn visit(&mut self, node: &ParentNode<Point>) {
        // The boxes worth entering, to be entered nearest first. A node holds at most rstar's
        // `MAX_SIZE` (6) children, so they fit here; one that did not fit would be entered at
        // once, out of order — the same answer, pruned less.
        let mut boxes = [(0.0, node); 8];
        let mut n = 0;
        for child in node.children() {
            match child {
                RTreeNode::Leaf(point) => self.offer(point),
                RTreeNode::Parent(parent) => {
                    let d = parent.envelope().distance_2(&self.centre);
                    if d > self.bound() {
                        continue;
                    }
                    match boxes.get_mut(n) {
                        Some(slot) => {
                            *slot = (d, parent);
                            n += 1;
                        }
                        None => self.visit(parent),
                    }
                }
            }
        }
        let boxes = &mut boxes[..n];
        boxes.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        for &(d, parent) in boxes.iter() {
            // Nearest first: once a box is too far, so are the rest.
            if d > self.bound() {
                break;
            }
            self.visit(parent);
        }
    }

    /// Keeps `point` if it is among the nearest `count` so far, within the radius.
    fn offer(&mut self, point: &Point) {
        let d = point.distance_2(&self.centre);
        if d > self.bound() {
            return;
        }
        let at = self.best.partition_point(|&(e, _)| e <= d);
        if self.best.len() == self.count {
            if at == self.count {
                // As far as the farthest kept: the one found first stays.
                return;
            }
            self.best.pop();
        }
        self.best.insert(at, (d, point.id));
    }
}

/// One count's walk: everyone within the radius, in the tree's order. A box wholly inside is
/// taken whole, its people unmeasured — in a city denser than the radius, most of them; and a
/// person is measured in kilometres (an arcsine) only at the radius's very edge, where the
/// answer must be [`Walk`]'s to the last bit. rstar's within-distance iterator measured every
/// box and person it passed and was half of a counted nearby page (callgrind).
struct Within {
    centre: [f64; 3],
    radius_km: f64,
    radius_2: f64,
    inside_2: f64,
    limit: usize,
    ids: Vec<i64>,
}

impl Within {
    fn visit(&mut self, node: &ParentNode<Point>) {
        for child in node.children() {
            if self.ids.len() >= self.limit {
                return;
            }
            match child {
                RTreeNode::Leaf(point) => {
                    let d = point.distance_2(&self.centre);
                    let within = d <= self.inside_2
                        || (d <= self.radius_2 && km_from_chord_2(d) <= self.radius_km);
                    if within {
                        self.ids.push(point.id);
                    }
                }
                RTreeNode::Parent(parent) => {
                    let envelope = parent.envelope();
                    if envelope.distance_2(&self.centre) > self.radius_2 {
                        continue;
                    }
                    match farthest_2(&envelope, &self.centre) <= self.inside_2 {
                        true => self.take_all(parent),
                        false => self.visit(parent),
                    }
                }
            }
        }
    }

    /// Everyone under `node`, which lies wholly inside the radius.
    fn take_all(&mut self, node: &ParentNode<Point>) {
        for child in node.children() {
            if self.ids.len() >= self.limit {
                return;
            }
            match child {
                RTreeNode::Leaf(point) => self.ids.push(point.id),
                RTreeNode::Parent(parent) => self.take_all(parent),
            }
        }
    }
}

/// The squared distance from `point` to the farthest corner of `envelope`.
fn farthest_2(envelope: &AABB<[f64; 3]>, point: &[f64; 3]) -> f64 {
    let (lower, upper) = (envelope.lower(), envelope.upper());
    (0..3)
        .map(|i| {
            let d = (point[i] - lower[i]).abs().max((point[i] - upper[i]).abs());
            d * d
        })
        .sum()
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

    /// The walk answers what rstar's nearest-first iterator answers (cut at the radius and the
    /// count): the same people, in the same order, at the same distances — sparse and dense,
    /// small and large counts, radii that cut a page short.
    #[test]
    fn the_walk_finds_what_the_nearest_first_iterator_finds() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut unit = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for (people, spread) in [(50, 0.9), (3_000, 0.9), (20_000, 0.05)] {
            let sphere = Sphere::bulk((0..people).map(|i| {
                let (dx, dy) = ((unit() - 0.5) * spread, (unit() - 0.5) * spread);
                (i, 114.0 + dx, 22.5 + dy)
            }));
            for _ in 0..40 {
                let (lng, lat) = (114.0 + (unit() - 0.5), 22.5 + (unit() - 0.5));
                let radius = [0.5, 3.0, 10.0, 100.0][(unit() * 4.0) as usize];
                let count = [1, 21, 30, 600][(unit() * 4.0) as usize];
                let expected = sphere.iterate(lng, lat, radius, count);
                let found = sphere.walk(lng, lat, radius, count);
                assert_eq!(found, expected, "{people} people, {radius} km, {count}");
            }
        }
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

    /// People at the same spot tie: a full page of them, and one more, is answered (each once).
    #[test]
    fn people_at_one_spot_fill_a_page() {
        let sphere = Sphere::bulk((0..50i64).map(|i| (i, 114.0, 22.5)));
        for count in [1, 20, 49, 50, 51] {
            let near = sphere.near(114.0, 22.5, 1.0, count);
            assert_eq!(near.len(), count.min(50), "{count}");
            let mut ids: Vec<i64> = near.iter().map(|n| n.0).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), count.min(50), "{count}");
        }
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

    /// The count's walk finds exactly whom the page's walk finds within the radius — every
    /// one of them, however dense, whatever the radius, right to its edge — and stops at its
    /// limit.
    #[test]
    fn within_finds_whom_near_finds_and_stops_at_its_limit() {
        let sphere = Sphere::bulk((0..30_000i64).map(|i| {
            // A dense core and a sparse ring, out to about 60 km.
            let r = if i % 3 == 0 { 0.5 } else { 0.002 } * ((i * 7919) % 1000) as f64 / 1000.0;
            let a = (i as f64) * 2.399_963;
            (i, 114.0 + r * a.cos(), 22.5 + r * a.sin())
        }));
        for radius in [0.05, 0.3, 1.0, 5.0, 20.0, 100.0] {
            let mut near: Vec<i64> = sphere
                .near(114.0, 22.5, radius, 40_000)
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let mut within = sphere.within(114.0, 22.5, radius, 40_000);
            near.sort_unstable();
            within.sort_unstable();
            assert_eq!(within, near, "radius {radius} km");
            let some = sphere.within(114.0, 22.5, radius, 100);
            assert_eq!(some.len(), near.len().min(100));
            assert!(some.iter().all(|id| near.binary_search(id).is_ok()));
        }
        // Someone exactly at the radius, as the page's walk measures it.
        let (_, km) = sphere.near(114.0, 22.5, 100.0, 500)[499];
        let at_edge = sphere.near(114.0, 22.5, km, 40_000).len();
        assert_eq!(sphere.within(114.0, 22.5, km, 40_000).len(), at_edge);
    }
}
