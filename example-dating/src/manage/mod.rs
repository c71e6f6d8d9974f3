//! The management console's back end: operators (admins and hosts) and their subtrees.

pub mod operators;
