//! What a request is known by once it is under way — where it went (its route or node), the
//! step that refused it and with which code, and its id: what access logs, metrics and traces
//! key it by.

use std::hash::{BuildHasher, RandomState};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Ctx;

impl<S> Ctx<S> {
    /// The template of the route the request matched (`/live/{live_id}/show`), as the tree
    /// prints it; `None` when no route matched — a 404, a 405, or a refusal by the guards of
    /// the node its path fell under ([`Ctx::node`] names that node). Known to every step, the
    /// renderer and the after hooks: a log line, a limit or a cache keyed by what was asked,
    /// never by the raw path with its ids (feature `metrics`).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn log(cx: &Ctx<()>, res: &mut Response) {
    ///     let route = cx.route().or(cx.node()).unwrap_or("-");
    ///     let refused_by = cx.refused_by().unwrap_or("-");
    ///     println!("{} {route} {} {refused_by}", cx.method(), res.status());
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(log); // prints "GET /users/{id} 200 OK -"
    /// app.get("/users/{id}", || async { "a user" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let res = app.client().get("/users/7").send().await;
    /// # assert_eq!(res.status(), 200);
    /// # });
    /// ```
    #[cfg(feature = "metrics")]
    pub fn route(&self) -> Option<&str> {
        match self.series.as_deref()?.place() {
            crate::metrics::Place::Route { template, .. } => Some(template),
            crate::metrics::Place::Node { .. } => None,
        }
    }

    /// The prefix of the deepest node the request's path reached, when no route matched it
    /// (`/manage/dating/admin/api`); `None` when a route did ([`Ctx::route`]). Known to every
    /// step, the renderer and the after hooks (feature `metrics`).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn tag(cx: &Ctx<()>, res: &mut Response) {
    ///     let place = cx.route().or(cx.node()).unwrap_or("-").to_owned();
    ///     res.headers_mut().insert("x-place", place.parse().unwrap());
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(tag).node("/api").get("/me", || async { "me" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/api/nothing").send().await.header("x-place"), Some("/api"));
    /// # });
    /// ```
    #[cfg(feature = "metrics")]
    pub fn node(&self) -> Option<&str> {
        match self.series.as_deref()?.place() {
            crate::metrics::Place::Route { .. } => None,
            crate::metrics::Place::Node { prefix } => Some(prefix),
        }
    }

    /// The guard, loader or handler that refused the request — or panicked, or was running
    /// when the route's timeout struck — named as the tree prints it
    /// (`require_privilege(users:ban)`, `app::auth::verify_signature`); `None` for an answer
    /// no step refused: a success, or a refusal kotori made itself (404, 405, a body over its
    /// limit). Known to the renderer and the after hooks (feature `metrics`); `None` before.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection, Response, named};
    ///
    /// fn who_refused(cx: &Ctx<()>, res: &mut Response) {
    ///     if let Some(step) = cx.refused_by() {
    ///         res.headers_mut().insert("x-refused-by", step.parse().unwrap());
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// let token = named("token", |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized));
    /// app.after(who_refused).guard(token).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/").send().await.header("x-refused-by"), Some("token"));
    /// # });
    /// ```
    #[cfg(feature = "metrics")]
    pub fn refused_by(&self) -> Option<&str> {
        self.series.as_deref()?.step_name(self.refused_by)
    }

    /// The business code of the [`Rejection`](crate::Rejection) the request was answered with (`40103`), kotori's
    /// own refusals included (a 404's `40401`); `None` for a response a handler returned.
    /// Known to the renderer and the after hooks (feature `metrics`); `None` before.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn code(cx: &Ctx<()>, res: &mut Response) {
    ///     if let Some(code) = cx.rejection_code() {
    ///         res.headers_mut().insert("x-code", code.to_string().parse().unwrap());
    ///     }
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(code).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().get("/nothing").send().await.header("x-code"), Some("40401"));
    /// assert_eq!(app.client().get("/").send().await.header("x-code"), None);
    /// # });
    /// ```
    #[cfg(feature = "metrics")]
    pub fn rejection_code(&self) -> Option<u32> {
        self.rejection_code
    }

    /// The request id: the client's `X-Request-Id` when it is safe to echo (1–64 characters of
    /// `A-Z a-z 0-9 - _ .`), else a fresh one. Made on first use.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Response};
    ///
    /// fn echo_id(cx: &Ctx<()>, res: &mut Response) {
    ///     res.headers_mut().insert("x-request-id", cx.request_id().parse().unwrap());
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.after(echo_id).get("/", || async { "hi" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     let res = app.client().get("/").header("x-request-id", "abc-123").send().await;
    /// #     assert_eq!(res.header("x-request-id"), Some("abc-123"));
    /// #     let res = app.client().get("/").header("x-request-id", "no spaces please").send().await;
    /// #     assert_ne!(res.header("x-request-id"), Some("no spaces please"));
    /// # });
    /// ```
    pub fn request_id(&self) -> &str {
        self.request_id
            .get_or_init(|| match self.header("x-request-id") {
                Some(id) if is_safe_request_id(id) => id.into(),
                _ => fresh_request_id(),
            })
    }
}

fn is_safe_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A process-random prefix and a counter: unique per process, unguessable across processes,
/// and cheaper than a random number per request.
fn fresh_request_id() -> Box<str> {
    static SEED: LazyLock<u64> = LazyLock::new(|| RandomState::new().hash_one(0u8));
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:08x}-{n:x}", *SEED as u32).into_boxed_str()
}
