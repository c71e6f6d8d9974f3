//! Asking the tree: would this client pass the guards of another route?
//!
//! A page shows a button only when its operator may press it. Deciding that with a second list
//! of privileges beside the tree is the very duplication kotori exists to remove; instead the
//! page asks the built tree, which runs the other route's guards and loaders (not its handler)
//! for a request like the one being served.

use std::pin::pin;
use std::sync::Arc;

use http::{Method, Uri};

use super::{CatchUnwind, End, apply, enter};
use crate::Ctx;
use crate::compiled::{App, ChainStep};
use crate::step::Flow;

impl<S: Clone + Send + Sync + 'static> App<S> {
    /// Whether a request like `from` (its headers, cookies and client address), sent as
    /// `method uri`, would pass every guard and loader of the route it names. The route's
    /// handler never runs; a path no route serves with that method is `false`.
    ///
    /// Steps the two routes share — the same nodes entered with the same path parameters —
    /// are not run again: their loaded resources are taken from `from`, so asking about the
    /// buttons of the page being rendered costs only the guards that differ. The asked request
    /// has an empty body, so a step that needs the body sees none.
    ///
    /// `from` is borrowed mutably only so that a handler awaiting this stays `Send` (a shared
    /// `Ctx` is not `Sync`); nothing of it changes.
    ///
    /// A handler reaches its own app through its state: keep a [`WeakApp`](crate::WeakApp) there (a strong
    /// `App` would keep itself alive). (The example's handler is written with the `macros`
    /// feature's `#[kotori::handler]`: it holds the context across an await.)
    ///
    #[cfg_attr(feature = "macros", doc = "```")]
    #[cfg_attr(not(feature = "macros"), doc = "```ignore")]
    /// use std::sync::{Arc, OnceLock};
    /// use http::Method;
    /// use kotori::{Ctx, Kotori, Rejection, WeakApp};
    ///
    /// #[derive(Clone, Default)]
    /// struct State(Arc<OnceLock<WeakApp<State>>>);
    ///
    /// fn require_admin(cx: &mut Ctx<State>) -> Result<(), Rejection> {
    ///     match cx.header("x-role") {
    ///         Some("admin") => Ok(()),
    ///         _ => Err(Rejection::forbidden()),
    ///     }
    /// }
    ///
    /// #[kotori::handler]
    /// async fn page(cx: &mut Ctx<State>) -> String {
    ///     let app = cx.state().0.get().and_then(WeakApp::upgrade).unwrap();
    ///     let may_ban = app.allows(cx, Method::POST, "/users/7/ban").await;
    ///     if may_ban { "<button>Ban</button>".into() } else { String::new() }
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let state = State::default();
    /// let app = Kotori::new(state.clone());
    /// let user = app.node("/users/{id}");
    /// user.get("", page);
    /// user.group().guard(require_admin).post("/ban", || async { "banned" });
    /// let app = app.build().unwrap();
    /// state.0.set(app.downgrade()).ok();
    ///
    /// let client = app.client();
    /// assert_eq!(client.get("/users/7").header("x-role", "admin").send().await.text(), "<button>Ban</button>");
    /// assert_eq!(client.get("/users/7").send().await.text(), "");
    /// # });
    /// ```
    pub async fn allows(&self, from: &mut Ctx<S>, method: Method, uri: &str) -> bool {
        let from = &*from;
        let Ok(uri) = uri.parse::<Uri>() else {
            return false;
        };
        let mut asked = from.probe(method, uri);
        let (chain, end, _) = self.resolve(&mut asked);
        if !matches!(end, End::Handler(_)) {
            return false;
        }
        let (mine, ..) = self.lookup(from.method(), from.path());
        let (mut shared, mut loaded) = (0, 0);
        for (theirs, ours) in chain.steps.iter().zip(mine.steps.iter()) {
            if !same_step(theirs, ours) || !same_params(from, &asked, theirs.scope) {
                break;
            }
            shared += 1;
            loaded += usize::from(theirs.loads);
        }
        if from.resources.len() < loaded {
            // `from` has not run its own chain yet (a guard asking): run everything.
            (shared, loaded) = (0, 0);
        }
        asked
            .resources
            .extend(from.resources[..loaded].iter().cloned());
        let steps = &chain.steps[shared..];
        let run = async {
            for step in steps {
                enter(&mut asked, step.depth, step.scope);
                let outcome = match step.step.run(&mut asked) {
                    Flow::Ready(outcome) => outcome,
                    Flow::Pending(fut) => fut.await,
                };
                if apply(&mut asked, outcome).is_err() {
                    return false;
                }
            }
            true
        };
        // A step that panics refuses: the page renders without the button.
        matches!(CatchUnwind(pin!(run)).await, Ok(true))
    }
}

/// The same step attached to the same node (a node's steps are shared by its routes' chains).
fn same_step<S>(a: &ChainStep<S>, b: &ChainStep<S>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(&a.step), Arc::as_ptr(&b.step))
}

/// Whether the first `scope` path parameters of the two requests are the same text.
fn same_params<S>(a: &Ctx<S>, b: &Ctx<S>, scope: u8) -> bool {
    (0..usize::from(scope)).all(|i| a.raw_param(i) == b.raw_param(i))
}
