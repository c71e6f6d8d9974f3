//! example-dating: the reference application of kotori — a dating-app backend whose URL space
//! is a tree of authority. `app.rs` holds the whole tree on one screen; each feature lives in
//! its own module. The contract is the book's API reference (`docs/src/dating/api/`); decisions it leaves open are in
//! `docs/src/dating/`.

pub mod app;
pub mod auth;
pub mod chat;
pub mod client;
pub mod client_ip;
pub mod clock;
pub mod codes;
pub mod commerce;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod envelope;
pub mod hex;
pub mod indexes;
pub mod limits;
pub mod live;
pub mod manage;
pub mod openapi;
pub mod ops;
pub mod paging;
pub mod params;
pub mod people;
pub mod random;
pub mod realtime;
pub mod round_trips;
pub mod safety;
pub mod signing;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod users;
pub mod validate;
