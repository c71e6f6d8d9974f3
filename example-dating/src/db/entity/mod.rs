//! sea-orm entities, grouped by feature. Times are Unix seconds (`i64`), money is cents
//! (`i64`): the same on SQLite, MariaDB and PostgreSQL, and no float in a balance.

pub mod chat;
pub mod commerce;
pub mod rooms;
pub mod safety;
pub mod users;
