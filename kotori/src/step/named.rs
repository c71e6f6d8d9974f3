//! Naming a step: `named("require_role(admin)", guard)`.

use std::borrow::Cow;

use super::{Flow, Guard, Handler, Loader, Outcome};
use crate::extract::{Needs, ResourceType};
use crate::openapi::Declares;
use crate::{Ctx, Reply};

/// A step with an explicit name (and optionally a doc line) for route tables and audits:
/// see [`named`].
///
/// ```
/// use kotori::{Ctx, Kotori, named};
///
/// let app = Kotori::new(());
/// let step = named("require_role(admin)", |_: &mut Ctx<()>| {}).doc("Admins only.");
/// app.node("/admin").guard(step).get("/users", || async { "[]" });
/// let app = app.build().unwrap();
/// assert!(app.routes()[0].passes("require_role(admin)"));
/// ```
pub struct Named<T> {
    /// `None`: the inner step's own name (see [`declare`]).
    name: Option<Cow<'static, str>>,
    doc: Option<&'static str>,
    declares: Declares,
    inner: T,
}

/// Gives a step a name of your choosing. Useful for step factories, whose default name is the
/// factory's path whatever their arguments:
///
/// ```
/// use kotori::{Ctx, Kotori, Rejection, named};
///
/// fn require_privilege(p: &'static str) -> impl Fn(&mut Ctx<()>) -> Result<(), Rejection> + Send + Sync {
///     move |cx: &mut Ctx<()>| match cx.header("x-privileges") {
///         Some(list) if list.split(',').any(|x| x == p) => Ok(()),
///         _ => Err(Rejection::forbidden()),
///     }
/// }
///
/// let app = Kotori::new(());
/// app.node("/courses").guard(named("require_privilege(courses:read)", require_privilege("courses:read")));
/// ```
pub fn named<T>(name: impl Into<Cow<'static, str>>, inner: T) -> Named<T> {
    Named {
        name: Some(name.into()),
        doc: None,
        declares: Declares::new(),
        inner,
    }
}

/// Adds declarations to a step without renaming it: what it enforces and answers, for the
/// OpenAPI document and the audits (see [`crate::openapi`]).
///
/// ```
/// use kotori::openapi::Declares;
/// use kotori::{Kotori, Path, declare};
///
/// async fn load_course(Path(id): Path<u64>) -> Option<u64> {
///     (id == 1).then_some(id)
/// }
///
/// let app = Kotori::new(());
/// app.node("/courses/{id}")
///     .load(declare(load_course, Declares::new().refuses(404, 0, "no such course")))
///     .get("/show", || async { "course" });
/// let app = app.build().unwrap();
/// assert!(app.routes()[0].passes("load_course"));
/// ```
pub fn declare<T>(inner: T, declares: Declares) -> Named<T> {
    Named {
        name: None,
        doc: None,
        declares,
        inner,
    }
}

impl<T> Named<T> {
    /// Adds a one-line description shown in the printed tree.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, named};
    ///
    /// let app = Kotori::new(());
    /// app.guard(named("open_hours", |_: &mut Ctx<()>| {}).doc("Refuses outside 9 to 5."))
    ///     .get("/", || async { "open" });
    /// let app = app.build().unwrap();
    /// assert!(app.tree().to_string().contains("Refuses outside 9 to 5."));
    /// ```
    pub fn doc(mut self, doc: &'static str) -> Self {
        self.doc = Some(doc);
        self
    }

    /// Declares what the step enforces and answers, for the OpenAPI document and the audits
    /// (see [`crate::openapi`]).
    ///
    /// ```
    /// use kotori::openapi::Declares;
    /// use kotori::{Ctx, Kotori, named};
    ///
    /// let app = Kotori::new(());
    /// let token = named("token", |_: &mut Ctx<()>| {}).declares(Declares::new().security("token"));
    /// app.guard(token).get("/", || async { "me" });
    /// let app = app.build().unwrap();
    /// assert!(app.routes()[0].secured_by("token"));
    /// ```
    pub fn declares(mut self, declares: Declares) -> Self {
        self.declares = self.declares.and(declares);
        self
    }
}

impl<S, A, M, T: Guard<S, A, M>> Guard<S, A, M> for Named<T> {
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
        self.inner.call(cx)
    }
    fn needs(&self) -> Vec<Needs> {
        self.inner.needs()
    }
    fn name(&self) -> Cow<'static, str> {
        self.name.clone().unwrap_or_else(|| self.inner.name())
    }
    fn doc(&self) -> Option<&'static str> {
        self.doc.or_else(|| self.inner.doc())
    }
    fn declares(&self) -> Declares {
        self.inner.declares().and(self.declares.clone())
    }
}

impl<S, A, M, T: Loader<S, A, M>> Loader<S, A, M> for Named<T> {
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
        self.inner.call(cx)
    }
    fn needs(&self) -> Vec<Needs> {
        self.inner.needs()
    }
    fn produces(&self) -> ResourceType {
        self.inner.produces()
    }
    fn name(&self) -> Cow<'static, str> {
        self.name.clone().unwrap_or_else(|| self.inner.name())
    }
    fn doc(&self) -> Option<&'static str> {
        self.doc.or_else(|| self.inner.doc())
    }
    fn declares(&self) -> Declares {
        self.inner.declares().and(self.declares.clone())
    }
}

impl<S, A, M, T: Handler<S, A, M>> Handler<S, A, M> for Named<T> {
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Reply> {
        self.inner.call(cx)
    }
    fn needs(&self) -> Vec<Needs> {
        self.inner.needs()
    }
    fn name(&self) -> Cow<'static, str> {
        self.name.clone().unwrap_or_else(|| self.inner.name())
    }
    fn doc(&self) -> Option<&'static str> {
        self.doc.or_else(|| self.inner.doc())
    }
    fn declares(&self) -> Declares {
        self.inner.declares().and(self.declares.clone())
    }
}
