//! The request methods a route answers.

use std::fmt;

use http::Method;

/// The request methods a route answers: one method, or any (a service mounted with
/// [`Node::service`](crate::Node::service), which sees every method).
///
/// It compares with a [`Method`] and with a method name:
///
/// ```
/// use kotori::introspect::MethodFilter;
/// use kotori::http::Method;
///
/// let get = MethodFilter::Only(Method::GET);
/// assert!(get == Method::GET && get == *"GET");
/// assert_eq!(MethodFilter::Any.to_string(), "ANY");
/// assert!(MethodFilter::Any != Method::GET);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MethodFilter {
    /// This method only (a `GET` route also answers `HEAD`).
    Only(Method),
    /// Every method.
    Any,
}

impl MethodFilter {
    /// The method's name, or `ANY` (as the printed tree shows it).
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
    /// assert_eq!(app.routes()[2].method().as_str(), "POST");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            MethodFilter::Only(method) => method.as_str(),
            MethodFilter::Any => "ANY",
        }
    }

    /// The one method, if the route answers one.
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
    /// assert_eq!(app.routes()[2].method().method(), Some(&kotori::http::Method::POST));
    /// ```
    pub fn method(&self) -> Option<&Method> {
        match self {
            MethodFilter::Only(method) => Some(method),
            MethodFilter::Any => None,
        }
    }
}

impl fmt::Display for MethodFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `MethodFilter::Any` equals no single method: it is not one.
impl PartialEq<Method> for MethodFilter {
    fn eq(&self, other: &Method) -> bool {
        self.method() == Some(other)
    }
}

impl PartialEq<Method> for &MethodFilter {
    fn eq(&self, other: &Method) -> bool {
        (*self).eq(other)
    }
}

/// Compares with a method's name (`"GET"`); only `Any` equals `"ANY"`.
impl PartialEq<str> for MethodFilter {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}
