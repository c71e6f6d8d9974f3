//! Path parameters: kept as byte ranges of the path (no allocation to find them), decoded when
//! read, each visible to the steps of its node and below.

use std::borrow::Cow;
use std::str::FromStr;

use super::Ctx;
use crate::{Rejection, percent};

impl<S> Ctx<S> {
    /// Path parameter `index` as sent (still percent-encoded).
    pub(crate) fn raw_param(&self, index: usize) -> Option<&str> {
        if index >= usize::from(self.params.len) {
            return None;
        }
        let (start, end) = self.params.ranges[index];
        self.path().get(start as usize..end as usize)
    }

    /// A path parameter visible to the running step, percent-decoded.
    ///
    /// A step sees the parameters of its own node's prefix and of the nodes above; a handler
    /// sees all of its route's. `None` when there is no such parameter in scope, or when its
    /// escapes are malformed.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    ///
    /// // A guard on `/users/{user}`: a user sees only their own subtree.
    /// fn own(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     match (cx.param("user"), cx.header("x-user")) {
    ///         (Some(path), Some(caller)) if path == caller => Ok(()),
    ///         _ => Err(Rejection::not_found()),
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/users/{user}").guard(own).get("/inbox", || async { "mail" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     let res = app.client().get("/users/ann%20lee/inbox").header("x-user", "ann lee").send().await;
    /// #     assert_eq!(res.text(), "mail"); // decoded: %20 is a space
    /// #     assert_eq!(app.client().get("/users/bob/inbox").header("x-user", "ann").send().await.status(), 404);
    /// # });
    /// ```
    pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        let names = self.params.names.as_deref()?;
        let visible = usize::from(self.scope.min(self.params.len));
        let index = names[..visible].iter().position(|n| &**n == name)?;
        self.param_at(index)
    }

    /// A path parameter parsed as `T`; a missing or unparsable parameter is a 404, because the
    /// URL names nothing that exists.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    ///
    /// fn even_only(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     let id: u64 = cx.param_as("id")?; // not a number: 404
    ///     match id % 2 {
    ///         0 => Ok(()),
    ///         _ => Err(Rejection::forbidden()),
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/items/{id}").guard(even_only).get("", || async { "an even item" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/items/2").send().await.status(), 200);
    /// #     assert_eq!(app.client().get("/items/3").send().await.status(), 403);
    /// #     assert_eq!(app.client().get("/items/x").send().await.status(), 404);
    /// # });
    /// ```
    pub fn param_as<T: FromStr>(&self, name: &str) -> Result<T, Rejection> {
        self.param(name)
            .and_then(|raw| raw.parse().ok())
            .ok_or_else(Rejection::not_found)
    }

    /// The innermost parameter visible to the running step (the one of its own node, for a
    /// loader on `/live/{id}`).
    pub(crate) fn innermost_param(&self) -> Option<Cow<'_, str>> {
        let visible = self.scope.min(self.params.len);
        self.param_at(usize::from(visible.checked_sub(1)?))
    }

    /// The last path parameter of the route as sent, still percent-encoded (a mounted
    /// service's rest of the path).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn last_raw_param(&self) -> Option<&str> {
        let (start, end) = self.params.ranges[usize::from(self.params.len.checked_sub(1)?)];
        self.path().get(start as usize..end as usize)
    }

    fn param_at(&self, index: usize) -> Option<Cow<'_, str>> {
        let (start, end) = self.params.ranges[index];
        percent::decode(self.path().get(start as usize..end as usize)?)
    }
}
