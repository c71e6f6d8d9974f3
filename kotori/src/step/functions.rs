//! The step traits implemented for functions: of extractors (up to eight) or of the whole
//! `&mut Ctx<S>`, synchronous or returning a future.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Flow, Guard, GuardOutput, Handler, Loader, LoaderOutput, Outcome, WithCtx, mode};
use crate::extract::{FromCtx, Needs, ResourceType};
use crate::openapi::Declares;
use crate::{Ctx, IntoReply, Reply};

/// Extracts one argument or returns the rejection as the step's result.
macro_rules! extract_or {
    ($cx:ident, $E:ident, $fail:expr) => {
        match $E::from_ctx($cx) {
            Ok(value) => value,
            Err(rejection) => return Flow::Ready($fail(Reply::Rejection(rejection))),
        }
    };
}

/// An async step's future, boxed where it was made, with its output turned into what the
/// dispatcher consumes.
///
/// Why not `Box::pin(async move { then(fut.await) })` for every future: a handler's future
/// holds every future it may await, often kilobytes, and that form moves it three times — into
/// the async block, into the box, and out again at the first `.await`. Those copies were a
/// quarter of the instructions of a page of example-dating's nearby search. Boxed here, it is
/// moved once, and the outer box is two words.
struct Boxed<Fut: Future, T> {
    fut: Pin<Box<Fut>>,
    then: fn(Fut::Output) -> T,
}

impl<Fut: Future, T> Future for Boxed<Fut, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let then = self.then;
        self.fut.as_mut().poll(cx).map(then)
    }
}

/// Futures up to this size are moved rather than boxed apart: copying a few hundred bytes
/// costs less than a second allocation.
const MOVED_UP_TO: usize = 512;

/// The step awaits `fut`, then `then` makes its result (kotori's macros call it too). One
/// allocation for a small future, two for a large one, which is then never moved again.
#[doc(hidden)]
pub fn pending<'a, Fut, T>(fut: Fut, then: fn(Fut::Output) -> T) -> Flow<'a, T>
where
    Fut: Future + Send + 'a,
    T: 'a,
{
    // A constant per future type: the compiler keeps one branch.
    if std::mem::size_of::<Fut>() <= MOVED_UP_TO {
        Flow::Pending(Box::pin(async move { then(fut.await) }))
    } else {
        Flow::Pending(Box::pin(Boxed {
            fut: Box::pin(fut),
            then,
        }))
    }
}

macro_rules! impl_step_fns {
    ($($E:ident),*) => {
        impl<S: 'static, F, O, $($E: FromCtx<S>,)*> Guard<S, ($($E,)*), mode::Sync> for F
        where F: Fn($($E),*) -> O + Send + Sync + 'static, O: GuardOutput,
        {
            #[allow(non_snake_case, unused_variables)]
            fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
                $(let $E = extract_or!(cx, $E, Outcome::stop);)*
                Flow::Ready(Outcome::of_guard(self($($E),*)))
            }
            fn needs(&self) -> Vec<Needs> { vec![$($E::needs()),*] }
            fn declares(&self) -> Declares { Declares::new()$(.and($E::declares()))* }
        }

        impl<S: 'static, F, Fut, $($E: FromCtx<S>,)*> Guard<S, ($($E,)*), mode::Async> for F
        where F: Fn($($E),*) -> Fut + Send + Sync + 'static,
              Fut: Future + Send + 'static, Fut::Output: GuardOutput,
        {
            #[allow(non_snake_case, unused_variables)]
            fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
                $(let $E = extract_or!(cx, $E, Outcome::stop);)*
                pending(self($($E),*), Outcome::of_guard)
            }
            fn needs(&self) -> Vec<Needs> { vec![$($E::needs()),*] }
            fn declares(&self) -> Declares { Declares::new()$(.and($E::declares()))* }
        }

        impl<S: 'static, F, O, $($E: FromCtx<S>,)*> Loader<S, ($($E,)*), mode::Sync> for F
        where F: Fn($($E),*) -> O + Send + Sync + 'static, O: LoaderOutput,
        {
            #[allow(non_snake_case, unused_variables)]
            fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
                $(let $E = extract_or!(cx, $E, Outcome::stop);)*
                Flow::Ready(Outcome::of_loader(self($($E),*)))
            }
            fn needs(&self) -> Vec<Needs> { vec![$($E::needs()),*] }
            fn declares(&self) -> Declares { Declares::new()$(.and($E::declares()))* }
            fn produces(&self) -> ResourceType { ResourceType::of::<O::Resource>() }
        }

        impl<S: 'static, F, Fut, $($E: FromCtx<S>,)*> Loader<S, ($($E,)*), mode::Async> for F
        where F: Fn($($E),*) -> Fut + Send + Sync + 'static,
              Fut: Future + Send + 'static, Fut::Output: LoaderOutput,
        {
            #[allow(non_snake_case, unused_variables)]
            fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
                $(let $E = extract_or!(cx, $E, Outcome::stop);)*
                pending(self($($E),*), Outcome::of_loader)
            }
            fn needs(&self) -> Vec<Needs> { vec![$($E::needs()),*] }
            fn declares(&self) -> Declares { Declares::new()$(.and($E::declares()))* }
            fn produces(&self) -> ResourceType {
                ResourceType::of::<<Fut::Output as LoaderOutput>::Resource>()
            }
        }

        impl<S: 'static, F, O, $($E: FromCtx<S>,)*> Handler<S, ($($E,)*), mode::Sync> for F
        where F: Fn($($E),*) -> O + Send + Sync + 'static, O: IntoReply,
        {
            #[allow(non_snake_case, unused_variables)]
            fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Reply> {
                $(let $E = extract_or!(cx, $E, std::convert::identity);)*
                Flow::Ready(self($($E),*).into_reply())
            }
            fn needs(&self) -> Vec<Needs> { vec![$($E::needs()),*] }
            fn declares(&self) -> Declares { Declares::new()$(.and($E::declares()))* }
        }

        impl<S: 'static, F, Fut, $($E: FromCtx<S>,)*> Handler<S, ($($E,)*), mode::Async> for F
        where F: Fn($($E),*) -> Fut + Send + Sync + 'static,
              Fut: Future + Send + 'static, Fut::Output: IntoReply,
        {
            #[allow(non_snake_case, unused_variables)]
            fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Reply> {
                $(let $E = extract_or!(cx, $E, std::convert::identity);)*
                pending(self($($E),*), IntoReply::into_reply)
            }
            fn needs(&self) -> Vec<Needs> { vec![$($E::needs()),*] }
            fn declares(&self) -> Declares { Declares::new()$(.and($E::declares()))* }
        }
    };
}

impl_step_fns!();
impl_step_fns!(E1);
impl_step_fns!(E1, E2);
impl_step_fns!(E1, E2, E3);
impl_step_fns!(E1, E2, E3, E4);
impl_step_fns!(E1, E2, E3, E4, E5);
impl_step_fns!(E1, E2, E3, E4, E5, E6);
impl_step_fns!(E1, E2, E3, E4, E5, E6, E7);
impl_step_fns!(E1, E2, E3, E4, E5, E6, E7, E8);

impl<S: 'static, F, O> Guard<S, WithCtx, mode::Sync> for F
where
    F: Fn(&mut Ctx<S>) -> O + Send + Sync + 'static,
    O: GuardOutput,
{
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
        Flow::Ready(Outcome::of_guard(self(cx)))
    }
    fn needs(&self) -> Vec<Needs> {
        Vec::new()
    }
}

impl<S: 'static, F, Fut> Guard<S, WithCtx, mode::Async> for F
where
    F: Fn(&mut Ctx<S>) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: GuardOutput,
{
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
        pending(self(cx), Outcome::of_guard)
    }
    fn needs(&self) -> Vec<Needs> {
        Vec::new()
    }
}

impl<S: 'static, F, O> Loader<S, WithCtx, mode::Sync> for F
where
    F: Fn(&mut Ctx<S>) -> O + Send + Sync + 'static,
    O: LoaderOutput,
{
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
        Flow::Ready(Outcome::of_loader(self(cx)))
    }
    fn needs(&self) -> Vec<Needs> {
        Vec::new()
    }
    fn produces(&self) -> ResourceType {
        ResourceType::of::<O::Resource>()
    }
}

impl<S: 'static, F, Fut> Loader<S, WithCtx, mode::Async> for F
where
    F: Fn(&mut Ctx<S>) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: LoaderOutput,
{
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
        pending(self(cx), Outcome::of_loader)
    }
    fn needs(&self) -> Vec<Needs> {
        Vec::new()
    }
    fn produces(&self) -> ResourceType {
        ResourceType::of::<<Fut::Output as LoaderOutput>::Resource>()
    }
}

impl<S: 'static, F, O> Handler<S, WithCtx, mode::Sync> for F
where
    F: Fn(&mut Ctx<S>) -> O + Send + Sync + 'static,
    O: IntoReply,
{
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Reply> {
        Flow::Ready(self(cx).into_reply())
    }
    fn needs(&self) -> Vec<Needs> {
        Vec::new()
    }
}

impl<S: 'static, F, Fut> Handler<S, WithCtx, mode::Async> for F
where
    F: Fn(&mut Ctx<S>) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoReply,
{
    fn call<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Reply> {
        pending(self(cx), IntoReply::into_reply)
    }
    fn needs(&self) -> Vec<Needs> {
        Vec::new()
    }
}
