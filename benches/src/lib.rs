//! Benchmarks of kotori's dispatch against bare matchit and axum.
//!
//! A placeholder crate in the workspace: the criterion benches and the loopback load tests land
//! with the benches issue.
