//! A route's own steps and settings, and what it declares.

use std::sync::Arc;

use super::{Attached, Route, open};
use crate::openapi::Declares;

super::attach::attach_methods!(
    Route,
    scope: "this route only",
    order: "a route's own steps run after every node's"
);

impl<S: 'static> Route<S> {
    /// Declares what the route reads and answers beyond what its steps declare: its
    /// parameters, its handler's refusals and success data (see [`crate::openapi`]).
    ///
    /// ```
    /// use kotori::openapi::{Declares, OpenApi, Param};
    /// use serde_json::json;
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/search", || async { "[]" })
    ///     .declares(Declares::new().param(Param::query("q", json!({"type": "string"})).required()));
    /// let doc = app.build().unwrap().openapi(&OpenApi::new("search", "1")).unwrap();
    /// assert_eq!(doc["paths"]["/search"]["get"]["parameters"][0]["name"], "q");
    /// ```
    pub fn declares(&self, declares: Declares) -> Self {
        let mut tree = open(&self.tree);
        let desc = &mut tree.routes[self.id].handler.desc;
        desc.declares = Arc::new((*desc.declares).clone().and(declares));
        drop(tree);
        self.clone()
    }

    fn with_attached(&self, f: impl FnOnce(&mut Attached<S>)) {
        f(&mut open(&self.tree).routes[self.id].attached);
    }
}
