//! Audits: assertions over a selection of routes, for tests of the policy.

use std::fmt;

use super::RouteInfo;

/// A selection of routes to assert a policy over; see [`App::audit`](crate::App::audit).
///
/// ```
/// # use kotori::{Ctx, Kotori, Rejection, named};
/// # let app = Kotori::new(());
/// # app.get("/healthz", || async { "ok" });
/// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
/// # let api = app.node("/api").guard(named("token", token));
/// # api.get("/me", || async { "me" });
/// # api.post("/notes", || async { "saved" });
/// # let app = app.build().unwrap();
/// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
/// app.audit().under("/api").require("token").unwrap();
/// let failure = app.audit().require("token").unwrap_err();
/// assert_eq!(failure.routes(), ["GET /healthz"]);
/// ```
#[derive(Clone, Debug)]
pub struct Audit<'a> {
    routes: Vec<&'a RouteInfo>,
}

/// The routes that broke an audited rule. Its `Display` names them all.
///
/// ```
/// # use kotori::{Ctx, Kotori, Rejection, named};
/// # let app = Kotori::new(());
/// # app.get("/healthz", || async { "ok" });
/// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
/// # let api = app.node("/api").guard(named("token", token));
/// # api.get("/me", || async { "me" });
/// # api.post("/notes", || async { "saved" });
/// # let app = app.build().unwrap();
/// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
/// let failure = app.audit().require("token").unwrap_err();
/// assert!(failure.to_string().contains("GET /healthz"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFailure {
    rule: String,
    routes: Vec<String>,
}

impl AuditFailure {
    /// The offending routes, as `METHOD /path`.
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// let failure = app.audit().require("token").unwrap_err();
    /// assert_eq!(failure.routes(), ["GET /healthz"]);
    /// ```
    pub fn routes(&self) -> &[String] {
        &self.routes
    }
}

impl fmt::Display for AuditFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "audit failed: {}", self.rule)?;
        for route in &self.routes {
            write!(f, "\n  - {route}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AuditFailure {}

fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl<'a> Audit<'a> {
    pub(crate) fn new(routes: Vec<&'a RouteInfo>) -> Self {
        Audit { routes }
    }

    /// Keeps the routes whose path is `prefix` or lies below it (segment-wise: `/manage`
    /// does not select `/manager`).
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert_eq!(app.audit().under("/api").routes().len(), 2);
    /// assert_eq!(app.audit().under("/ap").routes().len(), 0); // segments, not characters
    /// ```
    pub fn under(mut self, prefix: &str) -> Self {
        self.routes.retain(|r| under(&r.path, prefix));
        self
    }

    /// Drops the routes whose path is exactly `path` (any method).
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// app.audit().except("/healthz").require("token").unwrap();
    /// ```
    pub fn except(mut self, path: &str) -> Self {
        self.routes.retain(|r| r.path != path);
        self
    }

    /// Keeps the routes `keep` accepts.
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// let writes = app.audit().filter(|r| r.method().as_str() != "GET");
    /// writes.require("token").unwrap();
    /// ```
    pub fn filter(mut self, keep: impl Fn(&RouteInfo) -> bool) -> Self {
        self.routes.retain(|r| keep(r));
        self
    }

    /// The selected routes.
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// assert_eq!(app.audit().under("/api").routes()[0].path(), "/api/me");
    /// ```
    pub fn routes(&self) -> &[&'a RouteInfo] {
        &self.routes
    }

    /// Asserts that every selected route passes the guard or loader `step` before its handler.
    ///
    /// An empty selection fails too: an audit that checks nothing proves nothing (a typo in
    /// `under` would otherwise pass silently).
    ///
    /// ```
    /// # use kotori::{Ctx, Kotori, Rejection, named};
    /// # let app = Kotori::new(());
    /// # app.get("/healthz", || async { "ok" });
    /// # let token = |cx: &mut Ctx<()>| cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized);
    /// # let api = app.node("/api").guard(named("token", token));
    /// # api.get("/me", || async { "me" });
    /// # api.post("/notes", || async { "saved" });
    /// # let app = app.build().unwrap();
    /// // `app`: GET /healthz; GET /api/me and POST /api/notes behind the guard `token`.
    /// app.audit().under("/api").require("token").unwrap();
    /// assert!(app.audit().under("/healthz").require("token").is_err());
    /// assert!(app.audit().under("/typo").require("token").is_err()); // nothing selected
    /// ```
    pub fn require(&self, step: &str) -> Result<(), AuditFailure> {
        self.check(&format!("every route passes `{step}`"), |r| r.passes(step))
    }

    /// Asserts that every selected route passes a guard or loader declaring the security scheme
    /// `scheme` (see [`Declares::security`](crate::openapi::Declares::security)): "every operation under /manage declares bearer
    /// security", checked against the same declarations the OpenAPI document is made of.
    ///
    /// ```
    /// use kotori::openapi::Declares;
    /// use kotori::{Ctx, Kotori, Rejection, declare};
    ///
    /// fn bearer(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     cx.header("authorization").map(drop).ok_or_else(Rejection::unauthorized)
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/admin").guard(declare(bearer, Declares::new().security("bearer"))).get("/users", || async { "[]" });
    /// app.get("/healthz", || async { "ok" });
    /// let app = app.build().unwrap();
    /// app.audit().under("/admin").require_security("bearer").unwrap();
    /// assert!(app.audit().require_security("bearer").is_err());
    /// ```
    pub fn require_security(&self, scheme: &str) -> Result<(), AuditFailure> {
        self.check(
            &format!("every route declares the security `{scheme}`"),
            |r| r.secured_by(scheme),
        )
    }

    fn check(&self, rule: &str, holds: impl Fn(&RouteInfo) -> bool) -> Result<(), AuditFailure> {
        if self.routes.is_empty() {
            return Err(AuditFailure {
                rule: format!("{rule}: no route was selected"),
                routes: Vec::new(),
            });
        }
        let missing: Vec<String> = self
            .routes
            .iter()
            .filter(|r| !holds(r))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AuditFailure {
                rule: format!("{rule}; these do not"),
                routes: missing,
            })
        }
    }
}
