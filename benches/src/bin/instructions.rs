//! Runs one case's dispatch `N` times for one contender, for `valgrind --tool=callgrind`:
//! `instructions CASE CONTENDER N`. Two runs with different `N` give the instructions of one
//! request exactly (see `load/instructions.sh`): deterministic, unlike times.

use std::hint::black_box;

use kotori_benches::block_on;
use kotori_benches::cases::{self, axum_dispatch, request};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(case), Some(who), Some(n)) = (
        args.next(),
        args.next(),
        args.next().and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!(
            "usage: instructions chain-1|chain-4|chain-8|routes-10|routes-10000|loader|reject|not-found floor|kotori|axum N"
        );
        std::process::exit(2);
    };
    let case = match case.as_str() {
        "chain-1" => cases::chain(1),
        "chain-4" => cases::chain(4),
        "chain-8" => cases::chain(8),
        "routes-10" => cases::table(10),
        "routes-10000" => cases::table(10_000),
        "loader" => cases::loader(),
        "reject" => cases::reject_at_depth_2(),
        "not-found" => cases::not_found(),
        other => panic!("unknown case {other}"),
    };
    // Requests are built up front, so that only dispatch differs between runs of different N.
    let requests: Vec<_> = (0..n).map(|_| request(&case.path)).collect();
    for req in requests {
        match who.as_str() {
            "floor" => drop(black_box(case.floor.dispatch(req))),
            "kotori" => drop(black_box(block_on(case.kotori.dispatch(req)))),
            "axum" => drop(black_box(block_on(axum_dispatch(&case.axum, req)))),
            other => panic!("unknown contender {other}"),
        }
    }
}
