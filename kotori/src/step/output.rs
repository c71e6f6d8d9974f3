//! What guards and loaders may return, and how each shape decides the request's fate.

use std::ops::ControlFlow;

use crate::{IntoReply, Rejection, Reply};

#[diagnostic::on_unimplemented(
    message = "`{Self}` is not what a guard returns",
    label = "a guard returns this",
    note = "a guard returns `()`, `Result<(), E>` or `ControlFlow<E>` with `E: IntoReply` (a `Rejection`, a `Response`...), or a future of one"
)]
/// What a guard returns: `()` (always passes), `Result<(), E>` (`Err` answers the request) or
/// `ControlFlow<E>` (`Break` answers it: natural for a response that is not a refusal).
///
/// ```
/// use std::ops::ControlFlow;
/// use kotori::{Ctx, Rejection, Response};
///
/// fn always(_: &mut Ctx<()>) {} // (): passes
/// fn token(cx: &mut Ctx<()>) -> Result<(), Rejection> { // Err answers
///     cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized)
/// }
/// fn preflight(cx: &mut Ctx<()>) -> ControlFlow<Response> { // Break answers
///     match cx.method() == "OPTIONS" {
///         true => ControlFlow::Break(Response::new(kotori::Body::empty())),
///         false => ControlFlow::Continue(()),
///     }
/// }
///
/// let app = kotori::Kotori::new(());
/// app.guard(always).guard(preflight).guard(token).get("/", || async { "hi" });
/// app.build().unwrap();
/// ```
pub trait GuardOutput {
    /// `Ok` lets the request pass; `Err` answers it.
    // A refusal carries its response by value: boxing it would cost an allocation per answer.
    #[allow(clippy::result_large_err)]
    fn into_result(self) -> Result<(), Reply>;
}

impl GuardOutput for () {
    fn into_result(self) -> Result<(), Reply> {
        Ok(())
    }
}

impl<E: IntoReply> GuardOutput for Result<(), E> {
    fn into_result(self) -> Result<(), Reply> {
        self.map_err(IntoReply::into_reply)
    }
}

/// `Break(answer)` answers the request (a CORS preflight, a redirect); `Continue` passes.
impl<B: IntoReply> GuardOutput for ControlFlow<B> {
    fn into_result(self) -> Result<(), Reply> {
        match self {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(answer) => Err(answer.into_reply()),
        }
    }
}

/// What a loader returns: `Result<T, E>` or `Option<T>` (`None` is a 404).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not what a loader returns",
    label = "a loader returns this",
    note = "a loader returns `Result<T, E>` (`E: IntoReply`) or `Option<T>` (`None` is a 404), or a future of one; `T` becomes the resource"
)]
///
/// ```
/// use kotori::{Path, Rejection};
///
/// struct Live(u64);
///
/// // Result: Err answers the request.
/// fn on_air(Path(id): Path<u64>) -> Result<Live, Rejection> {
///     (id < 100).then_some(Live(id)).ok_or_else(Rejection::not_found)
/// }
/// // Option: None is a 404.
/// fn any(Path(id): Path<u64>) -> Option<Live> {
///     Some(Live(id))
/// }
///
/// let app = kotori::Kotori::new(());
/// app.node("/live/{id}").load(on_air).get("", || async { "on air" });
/// app.node("/archive/{id}").load(any).get("", || async { "archived" });
/// app.build().unwrap();
/// ```
pub trait LoaderOutput {
    /// The loaded resource's type; steps below read it with [`Res<T>`](crate::Res).
    type Resource: Send + Sync + 'static;
    /// The resource, or the answer that stops the request.
    #[allow(clippy::result_large_err)]
    fn into_result(self) -> Result<Self::Resource, Reply>;
}

impl<T: Send + Sync + 'static, E: IntoReply> LoaderOutput for Result<T, E> {
    type Resource = T;
    fn into_result(self) -> Result<T, Reply> {
        self.map_err(IntoReply::into_reply)
    }
}

impl<T: Send + Sync + 'static> LoaderOutput for Option<T> {
    type Resource = T;
    fn into_result(self) -> Result<T, Reply> {
        self.ok_or_else(|| Reply::Rejection(Rejection::not_found()))
    }
}
