//! Real-time delivery (docs/src/dating/api/realtime.md): chat and danmaku pushed over WebSocket and Server-Sent
//! Events, fanned out across instances through Redis pub/sub.

pub mod budget;
pub mod hub;
pub mod route;
pub mod socket;

pub use hub::{Hub, Listener, Route, event};
pub use socket::{events, events_doc, ws, ws_doc};
