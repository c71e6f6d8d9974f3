//! Procedural macros for [kotori](https://docs.rs/kotori).
//!
//! This crate is a placeholder in the workspace: the attribute macros that turn plain
//! `async fn`s into kotori hooks, loaders and handlers land with the macros issue. Until then,
//! kotori's hooks, loaders and handlers are plain functions (see kotori's `step` module).
