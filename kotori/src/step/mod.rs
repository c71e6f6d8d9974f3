//! Steps for those who write them by hand: the traits behind guards, loaders, handlers and
//! after hooks, and the types their implementations return.
//!
//! Most code never names these: plain functions (or the `#[kotori::guard]`, `#[kotori::loader]`
//! and `#[kotori::handler]` attributes) implement them.
//!
//! A step is any function whose arguments are [extractors](crate::extract::FromCtx) — or that takes
//! `&mut Ctx<S>` itself — and that is either synchronous or returns a future. kotori tells the
//! kinds apart by their signature (the `Args` and `Mode` type parameters of the traits below
//! are inferred, never written), and calls synchronous steps directly: only a step that really
//! awaits costs a boxed future.
//!
//! | kind | returns (sync, or a future of it) |
//! |---|---|
//! | [`Guard`] (guard) | `()`, `Result<(), E>` or `ControlFlow<E>`, `E:` [`IntoReply`] |
//! | [`Loader`] | `Result<T, E>` or `Option<T>` (`None` is a 404); `T` becomes a resource |
//! | [`Handler`] | anything [`IntoReply`] |
//!
//! An async step taking `&mut Ctx<S>` must return a `'static` future: read what it needs from
//! the context first, then move it into the `async` block. Extractors avoid the question.

use std::any::type_name;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use crate::ctx::Loaded;
use crate::extract::{Needs, ResourceType};
use crate::{Ctx, IntoReply, Reply};

/// A boxed, sendable future: what an asynchronous step costs. It may borrow the request
/// context (`'a`), which is how `#[kotori::guard] async fn g(cx: &mut Ctx<S>)` works.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A step's result, now or later.
///
/// ```
/// use kotori::extract::{Needs, ResourceType};
/// use kotori::step::{Flow, Loader, Outcome, mode};
/// use kotori::{Ctx, Kotori, Res};
///
/// struct Tenant(String);
///
/// /// A loader built from configuration: the tenant is the first label of the host.
/// struct TenantFromHost { default: &'static str }
///
/// impl Loader<(), (), mode::Async> for TenantFromHost {
///     fn call<'a>(&'a self, cx: &'a mut Ctx<()>) -> Flow<'a, Outcome> {
///         let host = cx.header("host").unwrap_or(self.default).to_owned();
///         // A step that awaits returns its future, boxed.
///         Flow::Pending(Box::pin(async move {
///             let tenant = host.split('.').next().unwrap_or_default().to_owned();
///             Outcome::load(Tenant(tenant))
///         }))
///     }
///     fn needs(&self) -> Vec<Needs> {
///         Vec::new()
///     }
///     fn produces(&self) -> ResourceType {
///         ResourceType::of::<Tenant>()
///     }
/// }
///
/// let app = Kotori::new(());
/// app.load(TenantFromHost { default: "www" })
///     .get("/", |tenant: Res<Tenant>| async move { tenant.0.clone() });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// #     assert_eq!(app.client().get("/").header("host", "acme.example.com").send().await.text(), "acme");
/// #     assert_eq!(app.client().get("/").send().await.text(), "www");
/// # });
/// ```
pub enum Flow<'a, T> {
    /// The step finished without awaiting.
    Ready(T),
    /// The step awaits; the dispatcher polls this future before it touches the context again.
    Pending(BoxFuture<'a, T>),
}

/// What a guard or loader decided, as the dispatcher consumes it. kotori's implementations of
/// [`Guard`] and [`Loader`] build it; a hand-written implementation uses these constructors.
///
/// ```
/// use std::borrow::Cow;
/// use kotori::extract::Needs;
/// use kotori::step::{Flow, Guard, Outcome, mode};
/// use kotori::{Ctx, Kotori, Rejection};
///
/// /// A guard with data of its own: the addresses it lets through.
/// struct AllowList(Vec<&'static str>);
///
/// impl Guard<(), (), mode::Sync> for AllowList {
///     fn call<'a>(&'a self, cx: &'a mut Ctx<()>) -> Flow<'a, Outcome> {
///         let allowed = cx.header("x-real-ip").is_some_and(|ip| self.0.contains(&ip));
///         Flow::Ready(match allowed {
///             true => Outcome::pass(),
///             false => Outcome::stop(Rejection::forbidden()),
///         })
///     }
///     fn needs(&self) -> Vec<Needs> {
///         Vec::new()
///     }
///     fn name(&self) -> Cow<'static, str> {
///         "allow_list".into()
///     }
/// }
///
/// let app = Kotori::new(());
/// app.node("/admin").guard(AllowList(vec!["10.0.0.1"])).get("", || async { "admin" });
/// let app = app.build().unwrap();
/// assert!(app.routes()[0].passes("allow_list"));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// #     assert_eq!(app.client().get("/admin").send().await.status(), 403);
/// #     assert_eq!(app.client().get("/admin").header("x-real-ip", "10.0.0.1").send().await.status(), 200);
/// # });
/// ```
pub struct Outcome(pub(crate) Result<Option<Loaded>, Reply>);

impl Outcome {
    /// The request passes this step.
    ///
    /// ```
    /// use kotori::step::Outcome;
    ///
    /// // The decision of a hand-written guard (see [`Outcome`] for a whole one).
    /// fn decide(allowed: bool) -> Outcome {
    ///     match allowed {
    ///         true => Outcome::pass(),
    ///         false => Outcome::stop(kotori::Rejection::forbidden()),
    ///     }
    /// }
    /// let _passes = decide(true);
    /// ```
    pub fn pass() -> Self {
        Outcome(Ok(None))
    }

    /// The step answers the request: nothing deeper runs.
    ///
    /// ```
    /// use kotori::step::Outcome;
    /// use kotori::{Rejection, Response};
    ///
    /// // A refusal, rendered by the node's renderer...
    /// let _refused = Outcome::stop(Rejection::unauthorized());
    /// // ...or any reply, sent as it is (a redirect to the login page).
    /// let mut redirect = Response::new(kotori::Body::empty());
    /// *redirect.status_mut() = kotori::http::StatusCode::SEE_OTHER;
    /// let _redirected = Outcome::stop(redirect);
    /// ```
    pub fn stop(answer: impl IntoReply) -> Self {
        Outcome(Err(answer.into_reply()))
    }

    /// A loader's result: `resource` is stored for the steps below.
    ///
    /// ```
    /// use kotori::step::Outcome;
    ///
    /// struct Tenant(String);
    /// // What a hand-written loader answers (see [`Flow`] for a whole one).
    /// let _loaded = Outcome::load(Tenant("acme".into()));
    /// ```
    pub fn load<T: Send + Sync + 'static>(resource: T) -> Self {
        Outcome(Ok(Some(Loaded::new(resource))))
    }

    pub(crate) fn of_guard(output: impl GuardOutput) -> Self {
        Outcome(output.into_result().map(|()| None))
    }

    pub(crate) fn of_loader<O: LoaderOutput>(output: O) -> Self {
        Outcome(
            output
                .into_result()
                .map(|resource| Some(Loaded::new(resource))),
        )
    }
}

/// Markers telling synchronous and asynchronous step functions apart.
pub mod mode {
    /// A step that returns its result directly; called without boxing. A hand-written step
    /// with this marker must return `Flow::Ready`.
    #[derive(Debug)]
    pub enum Sync {}
    /// A step that returns a future.
    #[derive(Debug)]
    pub enum Async {}

    /// Whether steps of a mode finish without awaiting: known when the tree is built, so that
    /// dispatch runs a route whose steps are all synchronous as plain calls.
    ///
    /// ```
    /// use kotori::step::mode::{Async, StepMode, Sync};
    ///
    /// assert!(Sync::SYNC && !Async::SYNC);
    /// ```
    pub trait StepMode: sealed::Sealed + 'static {
        /// `true` for [`Sync`].
        const SYNC: bool;
    }

    impl StepMode for Sync {
        const SYNC: bool = true;
    }

    impl StepMode for Async {
        const SYNC: bool = false;
    }

    mod sealed {
        pub trait Sealed {}
        impl Sealed for super::Sync {}
        impl Sealed for super::Async {}
    }
}

/// The `Args` marker of steps that take the whole `&mut Ctx<S>`.
#[derive(Debug)]
pub enum WithCtx {}

/// The `Args` marker of steps made by kotori's attribute macros (`#[kotori::guard]`...).
#[derive(Debug)]
pub enum Macro {}

/// A guard: inspects the request and lets it pass or answers it.
///
/// Implemented for functions; see the [module docs](self) for the accepted shapes.
///
/// ```
/// use kotori::{Ctx, Rejection};
///
/// // Synchronous, on the raw context: called directly, no future.
/// fn require_token<S>(cx: &mut Ctx<S>) -> Result<(), Rejection> {
///     match cx.header("authorization") {
///         Some(_) => Ok(()),
///         None => Err(Rejection::unauthorized()),
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a guard",
    label = "not a guard",
    note = "a guard is a function (sync or async) taking extractors or `&mut Ctx<S>` and returning `()`, `Result<(), E>` or `ControlFlow<E>`",
    note = "an async fn that borrows `&mut Ctx<S>` across an await needs `#[kotori::guard]`"
)]
pub trait Guard<S, Args, Mode>: Send + Sync + 'static {
    /// Runs the guard.
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome>;
    /// What its extractors need from the route.
    fn needs(&self) -> Vec<Needs>;
    /// The name shown in route tables and audits: the function's path by default.
    fn name(&self) -> Cow<'static, str> {
        default_name::<Self>()
    }
    /// A one-line description for the printed tree, if any.
    fn doc(&self) -> Option<&'static str> {
        None
    }
    /// What it declares for the API description; nothing unless wrapped by
    /// [`declare`] or given [`Named::declares`].
    fn declares(&self) -> crate::openapi::Declares {
        crate::openapi::Declares::new()
    }
}

/// A resource loader: turns the request (typically a path parameter) into a typed, checked
/// resource that every step and handler below reads with [`Res<T>`](crate::Res).
///
/// ```
/// use kotori::{Path, Rejection};
///
/// struct Live { id: u64, host: u64 }
///
/// async fn load_live(Path(id): Path<u64>) -> Result<Live, Rejection> {
///     if id == 0 { return Err(Rejection::not_found()); }
///     Ok(Live { id, host: 7 })
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a loader",
    label = "not a loader",
    note = "a loader is a function (sync or async) taking extractors or `&mut Ctx<S>` and returning `Result<T, E>` or `Option<T>`",
    note = "an async fn that borrows `&mut Ctx<S>` across an await needs `#[kotori::loader]`"
)]
pub trait Loader<S, Args, Mode>: Send + Sync + 'static {
    /// Runs the loader; a loaded value is stored in the context.
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome>;
    /// What its extractors need from the route.
    fn needs(&self) -> Vec<Needs>;
    /// The type of resource it produces.
    fn produces(&self) -> ResourceType;
    /// The name shown in route tables and audits: the function's path by default.
    fn name(&self) -> Cow<'static, str> {
        default_name::<Self>()
    }
    /// A one-line description for the printed tree, if any.
    fn doc(&self) -> Option<&'static str> {
        None
    }
    /// What it declares for the API description; nothing unless wrapped by
    /// [`declare`] or given [`Named::declares`].
    fn declares(&self) -> crate::openapi::Declares {
        crate::openapi::Declares::new()
    }
}

/// A route's handler: produces the reply.
///
/// ```
/// use kotori::{Json, Path};
///
/// async fn show(Path(id): Path<u64>) -> Json<u64> {
///     Json(id)
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a handler",
    label = "not a handler",
    note = "a handler is a function (sync or async) taking extractors or `&mut Ctx<S>` and returning something `IntoReply`",
    note = "an async fn that borrows `&mut Ctx<S>` across an await needs `#[kotori::handler]`"
)]
pub trait Handler<S, Args, Mode>: Send + Sync + 'static {
    /// Runs the handler.
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Reply>;
    /// What its extractors need from the route.
    fn needs(&self) -> Vec<Needs>;
    /// The name shown in route tables: the function's path by default.
    fn name(&self) -> Cow<'static, str> {
        default_name::<Self>()
    }
    /// A one-line description for the printed tree, if any.
    fn doc(&self) -> Option<&'static str> {
        None
    }
    /// What it declares for the API description; nothing unless wrapped by
    /// [`declare`] or given [`Named::declares`].
    fn declares(&self) -> crate::openapi::Declares {
        crate::openapi::Declares::new()
    }
}

/// The path of a function as `type_name` gives it, without the `{{closure}}` noise that a
/// step factory (`require_role(Role::Admin)` returning a closure) would add.
pub(crate) fn default_name<T: ?Sized>() -> Cow<'static, str> {
    let mut name = type_name::<T>();
    loop {
        if let Some(stripped) = name.strip_suffix("::{{closure}}") {
            name = stripped;
        } else if name.ends_with('>') {
            // Generic arguments (`load_operator<app::State>`): names are for people and audits.
            name = strip_generics(name);
        } else {
            return Cow::Borrowed(name);
        }
    }
}

/// Cuts the trailing `<...>` off a path, minding nested brackets.
fn strip_generics(name: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in name.char_indices().rev() {
        match c {
            '>' => depth += 1,
            '<' => {
                depth -= 1;
                if depth == 0 {
                    return &name[..i];
                }
            }
            _ => {}
        }
    }
    name
}

mod after;
mod erased;
pub(crate) mod functions;
mod named;
mod output;

pub use after::After;
pub(crate) use erased::{AsGuard, AsHandler, AsLoader, ErasedHandler, ErasedStep};
pub use named::{Named, declare, named};
pub use output::{GuardOutput, LoaderOutput};

#[cfg(test)]
mod tests {
    use super::strip_generics;

    #[test]
    fn generic_arguments_are_cut_from_names() {
        assert_eq!(strip_generics("app::load<()>"), "app::load");
        assert_eq!(strip_generics("app::load<Vec<Arc<u8>>>"), "app::load");
    }
}
