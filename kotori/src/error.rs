//! Build errors: everything wrong with a tree, found before it serves a request.

use std::fmt;

/// One problem found while building the tree.
///
/// ```
/// use kotori::{Kotori, Problem};
///
/// let app = Kotori::new(());
/// app.get("/a", || async { "a" });
/// app.get("/a", || async { "again" });
/// let error = app.build().err().unwrap();
/// assert!(matches!(error.problems()[0], Problem::Duplicate { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Two routes with the same method and path.
    Duplicate {
        /// The route registered first.
        first: String,
        /// The route registered again.
        second: String,
    },
    /// Two paths the router cannot tell apart (`/a/{x}` and `/a/{y}`, a catch-all beside a
    /// parameter...).
    Conflict {
        /// The route that could not be added.
        route: String,
        /// The route it conflicts with.
        with: String,
    },
    /// A step or handler needs a resource that no loader above it provides.
    MissingResource {
        /// Where, as the message shows it: the route (`` `GET /live/{id}/show` ``) for a
        /// handler or a route's own step; the node (`` node `/live/{id}` ``) for a node's
        /// step, which is reported once, not once per route below it.
        route: String,
        /// The step (or handler) that needs it.
        step: String,
        /// The resource type's name.
        resource: &'static str,
    },
    /// A step or handler takes a path parameter, but none is in its scope.
    MissingParam {
        /// Where, as the message shows it: the route or the node, as for
        /// [`Problem::MissingResource`].
        route: String,
        /// The step (or handler) that needs it.
        step: String,
    },
    /// The same parameter name twice on one path (`/users/{id}/posts/{id}`): `Path<T>` and
    /// `cx.param` could not agree on which value it means.
    DuplicateParam {
        /// The parameter name.
        name: String,
        /// The node that used it first.
        first: String,
        /// The node or route that uses it again.
        second: String,
    },
    /// A prefix or a route's path is not valid.
    InvalidPath {
        /// The node prefix or route.
        what: String,
        /// Why, and what to do.
        reason: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Duplicate { first, second } => write!(
                f,
                "duplicate route: {second} is already defined as {first}; remove one of them"
            ),
            Problem::Conflict { route, with } => write!(
                f,
                "conflicting routes: {route} cannot be told apart from {with}; \
                 use the same parameter names, or make the paths differ by a static segment"
            ),
            Problem::MissingResource {
                route,
                step,
                resource,
            } => write!(
                f,
                "{route}: {step} needs the resource `{resource}`, but no loader above it loads \
                 one; add `.load(...)` for it on this route's node or an ancestor, before this step"
            ),
            Problem::MissingParam { route, step } => write!(
                f,
                "{route}: {step} takes a path parameter, but none is in its scope; put it on a \
                 node whose prefix has a `{{param}}`"
            ),
            Problem::DuplicateParam {
                name,
                first,
                second,
            } => write!(
                f,
                "the path parameter `{{{name}}}` appears twice: in `{first}` and again in \
                 `{second}`; rename one of them"
            ),
            Problem::InvalidPath { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

/// Every problem found while building a tree. Its `Display` lists them one per line.
///
/// ```
/// use kotori::{Kotori, Problem};
///
/// let app = Kotori::new(());
/// app.get("/a", || async { "one" });
/// app.get("/a", || async { "two" });
/// let err = app.build().err().expect("a duplicate route");
/// assert!(matches!(err.problems()[0], Problem::Duplicate { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    problems: Vec<Problem>,
}

impl BuildError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        BuildError { problems }
    }

    /// The problems, in the order the tree declares the things they concern.
    ///
    /// ```
    /// use kotori::{Kotori, Problem, Res};
    ///
    /// struct Live;
    ///
    /// let app = Kotori::new(());
    /// app.get("/live", |_: Res<Live>| async { "live" });
    /// let error = app.build().err().unwrap();
    /// match &error.problems()[0] {
    ///     Problem::MissingResource { route, .. } => assert_eq!(route, "`GET /live`"),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the kotori tree has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}
