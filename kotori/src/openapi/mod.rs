//! OpenAPI 3.1 from the tree: each operation's security and refusals are derived from the
//! steps on its path, so the document cannot drift from what is enforced.
//!
//! Steps declare what they enforce with [`Declares`] (on a [`named`](crate::named) step, or
//! on a route with [`Route::declares`](crate::Route::declares)); [`App::openapi`](crate::App::openapi)
//! walks every route's chain and adds the declarations up: the security schemes of its guards
//! (all required), every refusal of every step (grouped by HTTP status, one entry per code: a code
//! declared for several reasons lists them all),
//! the parameters (the path's own, then the declared ones), and the handler's success data.
//! A guard added to a node changes the documented security of every operation below it.
//!
//! Extractors declare what they read through `FromCtx::declares`; with the feature `schemars`,
//! `extract::Typed` wraps `Query`, `Form` and `Json` so that the parameters or the body are
//! described from the type itself.

mod declare;
mod document;
mod param;

pub use declare::{Declares, Refusal};
pub(crate) use document::document;
pub use document::{OpenApi, OpenApiError};
pub use param::{In, Param};
