//! Allocations of one kotori dispatch per case, after a warm-up: `allocations`. Built with and
//! without the `metrics` feature, it shows what measuring every request adds (nothing, on the
//! paths the cases take: `load/instructions.sh` prints both).

use std::hint::black_box;

use kotori_benches::alloc::{CountingAlloc, count};
use kotori_benches::block_on;
use kotori_benches::cases::{self, request};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

fn main() {
    let all = [
        ("chain-1", cases::chain(1)),
        ("chain-4", cases::chain(4)),
        ("chain-8", cases::chain(8)),
        ("routes-10", cases::table(10)),
        ("routes-10000", cases::table(10_000)),
        ("loader", cases::loader()),
        ("reject", cases::reject_at_depth_2()),
        ("not-found", cases::not_found()),
    ];
    for (name, case) in all {
        let path = case.path.as_str();
        // The first request of a kind may allocate once (a series for an undeclared answer).
        drop(block_on(case.kotori.dispatch(request(path))));
        let req = request(path);
        let n = count(|| drop(black_box(block_on(case.kotori.dispatch(req)))));
        println!("{name:<14} {n} allocations/request");
    }
}
