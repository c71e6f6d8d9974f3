//! VIP products, orders, payment notices and memberships.

pub mod money;
pub mod orders;
pub mod payment;
pub mod products;
pub mod vip;
