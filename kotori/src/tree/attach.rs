//! The builder methods `Node` and `Route` share: steps and settings attached to a place of
//! the tree. One implementation, stamped on both types with the words that say where the
//! step applies.

/// Implements `guard`, `before` (deprecated), `load`, `after`, `body_limit`, `body_timeout`
/// and `timeout` on `$ty`, whose `with_attached` reaches its [`Attached`](super::Attached).
/// `$scope` completes "applies to ...", `$order` says when its steps run.
macro_rules! attach_methods {
    ($ty:ident, scope: $scope:literal, order: $order:literal) => {
        impl<S: 'static> $ty<S> {
            #[doc = concat!("Adds a guard: it lets the request pass or answers it. It applies to ", $scope, "; ", $order, ".")]
            pub fn guard<G, A, M>(&self, guard: G) -> Self
            where
                G: $crate::step::Guard<S, A, M>,
                A: 'static,
                M: $crate::step::mode::StepMode,
            {
                self.with_attached(|at| at.steps.push($crate::tree::guard_def(guard)));
                self.clone()
            }

            #[doc = concat!("The former name of [`", stringify!($ty), "::guard`].")]
            #[doc(hidden)]
            #[deprecated(since = "0.2.0", note = "renamed to `guard`")]
            pub fn before<G, A, M>(&self, guard: G) -> Self
            where
                G: $crate::step::Guard<S, A, M>,
                A: 'static,
                M: $crate::step::mode::StepMode,
            {
                self.guard(guard)
            }

            #[doc = concat!("Adds a resource loader for ", $scope, ": the value it returns is stored for every step and handler after it (read with [`Res<T>`](crate::Res)); its refusal answers the request. ", "It runs in order with the guards; ", $order, ".")]
            pub fn load<L, A, M>(&self, loader: L) -> Self
            where
                L: $crate::step::Loader<S, A, M>,
                A: 'static,
                M: $crate::step::mode::StepMode,
            {
                self.with_attached(|at| at.steps.push($crate::tree::loader_def(loader)));
                self.clone()
            }

            #[doc = concat!("Adds an after hook, run on every response of ", $scope, " — refusals included — once the request entered it. Hooks run leaf to root: a route's before its nodes'.")]
            pub fn after<F: $crate::step::After<S>>(&self, hook: F) -> Self {
                self.with_attached(|at| at.afters.push($crate::tree::after_def(hook)));
                self.clone()
            }

            #[doc = concat!("Limits request bodies of ", $scope, " (bytes; a 413 beyond), overriding what an ancestor sets. Default [`DEFAULT_BODY_LIMIT`](crate::limits::DEFAULT_BODY_LIMIT), 2 MiB.")]
            pub fn body_limit(&self, bytes: usize) -> Self {
                self.with_attached(|at| at.settings.body_limit = Some(bytes));
                self.clone()
            }

            #[doc = concat!("Bounds the time a client may take to send a request body to ", $scope, "; past it the request gets a 408 and the connection is closed. Default [`DEFAULT_BODY_TIMEOUT`](crate::limits::DEFAULT_BODY_TIMEOUT).")]
            pub fn body_timeout(&self, timeout: std::time::Duration) -> Self {
                self.with_attached(|at| at.settings.body_timeout = Some(timeout));
                self.clone()
            }

            #[doc = concat!("Bounds the time a request to ", $scope, " may take, steps and handler included; past it the request gets a 503. No timeout by default.")]
            pub fn timeout(&self, timeout: std::time::Duration) -> Self {
                self.with_attached(|at| at.settings.timeout = Some(timeout));
                self.clone()
            }

            #[doc = concat!("Whether requests to ", $scope, " run to completion when their client goes away (overriding what an ancestor sets; off by default). Off, a request whose connection closes is dropped at its next await, halfway through its handler if need be — after a commit and before what was to follow it. On, a request dropped unfinished has its rest (its steps and handler from where they were waiting) handed to a task of its own, which finishes it: a departing client drops the wait, not the work, and the [`timeout`](Self::timeout) still bounds it; a graceful shutdown of [`serve`](crate::serve()) waits for it, within its [`shutdown_timeout`](crate::Serve::shutdown_timeout). A request whose client waits spawns nothing; it costs one more allocation. See the book's *Cancellation* section.")]
            pub fn run_to_completion(&self, on: bool) -> Self {
                self.with_attached(|at| at.settings.run_to_completion = Some(on));
                self.clone()
            }
        }
    };
}

pub(super) use attach_methods;
