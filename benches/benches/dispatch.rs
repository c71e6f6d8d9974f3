//! Dispatch cost in process: the floor, kotori and axum, for the same request and functions.
//!
//! Before the timed runs, it counts allocations per request for every case and contender and
//! writes them to `target/criterion/allocations.json` (counts are exact; times are not).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion};
use kotori_benches::alloc::{CountingAlloc, count};
use kotori_benches::block_on;
use kotori_benches::cases::{self, Case, axum_dispatch, request};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

fn cases() -> Vec<(String, Case)> {
    let mut all = Vec::new();
    for depth in [1, 4, 8] {
        all.push((format!("chain/depth-{depth}"), cases::chain(depth)));
    }
    for n in [10, 100, 1_000, 10_000] {
        all.push((format!("routes/{n}"), cases::table(n)));
    }
    all.push(("loader".into(), cases::loader()));
    all.push(("reject-at-depth-2".into(), cases::reject_at_depth_2()));
    all.push(("not-found".into(), cases::not_found()));
    all
}

/// Allocations of one dispatch (the request is built outside the count), after a warm-up.
fn allocations(case: &Case) -> [u64; 3] {
    let path = case.path.as_str();
    let measure = |run: &dyn Fn(http::Request<cases::Body>)| {
        run(request(path));
        let req = request(path);
        count(|| run(req))
    };
    [
        measure(&|req| drop(black_box(case.floor.dispatch(req)))),
        measure(&|req| drop(black_box(block_on(case.kotori.dispatch(req))))),
        measure(&|req| drop(black_box(block_on(axum_dispatch(&case.axum, req))))),
    ]
}

fn write_allocations(all: &[(String, Case)]) {
    let mut rows = serde_json::Map::new();
    for (name, case) in all {
        let [floor, kotori, axum] = allocations(case);
        rows.insert(
            name.clone(),
            serde_json::json!({ "floor": floor, "kotori": kotori, "axum": axum }),
        );
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    let text = serde_json::to_string_pretty(&rows).expect("plain JSON");
    std::fs::write(dir.join("allocations.json"), &text).expect("target/criterion is writable");
    println!("allocations per request:\n{text}");
}

fn bench(c: &mut Criterion, all: &[(String, Case)]) {
    for (name, case) in all {
        let (group_name, param) = name.split_once('/').unwrap_or((name.as_str(), ""));
        let mut group = c.benchmark_group(group_name);
        let id = |who: &str| {
            if param.is_empty() {
                BenchmarkId::from_parameter(who)
            } else {
                BenchmarkId::new(who, param)
            }
        };
        let path = case.path.as_str();
        group.bench_function(id("floor"), |b| {
            b.iter_batched(
                || request(path),
                |req| case.floor.dispatch(req),
                BatchSize::SmallInput,
            )
        });
        group.bench_function(id("kotori"), |b| {
            b.iter_batched(
                || request(path),
                |req| block_on(case.kotori.dispatch(req)),
                BatchSize::SmallInput,
            )
        });
        group.bench_function(id("axum"), |b| {
            b.iter_batched(
                || request(path),
                |req| block_on(axum_dispatch(&case.axum, req)),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }
}

fn main() {
    let all = cases();
    write_allocations(&all);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    bench(&mut c, &all);
    c.final_summary();
}
