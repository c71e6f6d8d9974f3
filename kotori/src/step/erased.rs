//! Type erasure: the dispatcher holds steps as `dyn ErasedStep`, one virtual call each.

use std::marker::PhantomData;

use super::{Flow, Guard, Handler, Loader, Outcome};
use crate::{Ctx, Reply};

pub(crate) trait ErasedStep<S>: Send + Sync {
    fn run<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome>;
}

pub(crate) trait ErasedHandler<S>: Send + Sync {
    fn run<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Reply>;
}

pub(crate) struct AsGuard<T, A, M>(pub(crate) T, pub(crate) PhantomData<fn() -> (A, M)>);
pub(crate) struct AsLoader<T, A, M>(pub(crate) T, pub(crate) PhantomData<fn() -> (A, M)>);
pub(crate) struct AsHandler<T, A, M>(pub(crate) T, pub(crate) PhantomData<fn() -> (A, M)>);

impl<S, A, M, T: Guard<S, A, M>> ErasedStep<S> for AsGuard<T, A, M> {
    fn run<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
        self.0.call(cx)
    }
}

impl<S, A, M, T: Loader<S, A, M>> ErasedStep<S> for AsLoader<T, A, M> {
    fn run<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Outcome> {
        self.0.call(cx)
    }
}

impl<S, A, M, T: Handler<S, A, M>> ErasedHandler<S> for AsHandler<T, A, M> {
    fn run<'a>(&'a self, cx: &'a mut Ctx<S>) -> Flow<'a, Reply> {
        self.0.call(cx)
    }
}
