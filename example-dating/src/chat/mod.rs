//! Chat: messages between two users and the contact rows that list conversations.

pub mod contacts;
pub mod messages;
