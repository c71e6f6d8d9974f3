//! The watched store of the library (`store::Watched`), named where the tests look for it.
// Each test binary compiles `common`; most do not watch a store.
#![allow(unused_imports)]

pub use example_dating::store::watched::{Hook, Watched};
