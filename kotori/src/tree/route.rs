//! A route's own steps and settings, and what it declares.

use std::sync::Arc;
use std::time::Duration;

use super::{Attached, Route, after_def, guard_def, loader_def, open};
use crate::openapi::Declares;
use crate::step::mode::StepMode;
use crate::step::{After, Guard, Loader};

impl<S: 'static> Route<S> {
    /// Adds a guard for this route only; it runs after every node's steps.
    pub fn guard<G, A, M>(&self, guard: G) -> Self
    where
        G: Guard<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.with_attached(|at| at.steps.push(guard_def(guard)));
        self.clone()
    }

    /// The former name of [`Route::guard`].
    #[doc(hidden)]
    #[deprecated(since = "0.2.0", note = "renamed to `guard`")]
    pub fn before<G, A, M>(&self, guard: G) -> Self
    where
        G: Guard<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.guard(guard)
    }

    /// Adds a loader for this route only.
    pub fn load<L, A, M>(&self, loader: L) -> Self
    where
        L: Loader<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.with_attached(|at| at.steps.push(loader_def(loader)));
        self.clone()
    }

    /// Adds an after hook for this route only; it runs before the nodes' after hooks.
    pub fn after<F: After<S>>(&self, hook: F) -> Self {
        self.with_attached(|at| at.afters.push(after_def(hook)));
        self.clone()
    }

    /// Declares what the route reads and answers beyond what its steps declare: its
    /// parameters, its handler's refusals and success data (see [`crate::openapi`]).
    pub fn declares(&self, declares: Declares) -> Self {
        let mut tree = open(&self.tree);
        let desc = &mut tree.routes[self.id].handler.desc;
        desc.declares = Arc::new((*desc.declares).clone().and(declares));
        drop(tree);
        self.clone()
    }

    /// Overrides the inherited body limit for this route.
    pub fn body_limit(&self, bytes: usize) -> Self {
        self.with_attached(|at| at.settings.body_limit = Some(bytes));
        self.clone()
    }

    /// Overrides the inherited body timeout for this route.
    pub fn body_timeout(&self, timeout: Duration) -> Self {
        self.with_attached(|at| at.settings.body_timeout = Some(timeout));
        self.clone()
    }

    /// Overrides the inherited timeout for this route.
    pub fn timeout(&self, timeout: Duration) -> Self {
        self.with_attached(|at| at.settings.timeout = Some(timeout));
        self.clone()
    }

    fn with_attached(&self, f: impl FnOnce(&mut Attached<S>)) {
        f(&mut open(&self.tree).routes[self.id].attached);
    }
}
