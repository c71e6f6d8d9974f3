//! Declaring the tree: nodes, routes, and the steps attached to them.
//!
//! This module only records what the user declares; `build.rs` compiles it.

mod attach;
mod node;
mod route;

attach::attach_methods!(
    Node,
    scope: "every route under this node, whenever it was added",
    order: "a node's steps run in the order they were added, after its ancestors'"
);

use std::cell::RefCell;
use std::marker::PhantomData;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::extract::{Needs, ResourceType};
use crate::introspect::{MethodFilter, StepDesc, StepKind};
use crate::render::Render;
use crate::step::mode::StepMode;
use crate::step::{After, AsGuard, AsLoader, ErasedHandler, ErasedStep, Guard, Loader};

/// The application being built: the root of the tree and the shared state.
///
/// `Kotori` derefs to its root [`Node`], so `app.node("/manage")`, `app.guard(...)` and
/// `app.get(...)` work on the root. Nodes and routes are handles: configure them in any order —
/// a guard added after a node's routes still protects them — then [`build`](Kotori::build).
///
/// ```
/// use kotori::{Ctx, Kotori, Path, Rejection};
///
/// fn require_operator<S>(cx: &mut Ctx<S>) -> Result<(), Rejection> {
///     cx.header("authorization").map(|_| ()).ok_or_else(Rejection::unauthorized)
/// }
///
/// async fn show_course(Path(id): Path<u64>) -> String {
///     format!("course {id}")
/// }
///
/// let app = Kotori::new(());
/// let manage = app.node("/manage").guard(require_operator);
/// manage.node("/courses/{id}").get("/show.json", show_course);
/// let app = app.build().expect("a valid tree");
/// assert_eq!(app.routes()[0].path(), "/manage/courses/{id}/show.json");
/// ```
pub struct Kotori<S> {
    pub(crate) root: Node<S>,
    pub(crate) state: S,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: crate::metrics::MetricsHandle,
    /// Whether requests go to OpenTelemetry (feature `otel`; on unless turned off).
    #[cfg(feature = "otel")]
    pub(crate) otel: std::cell::Cell<bool>,
}

/// A node of the tree: a path prefix (possibly empty) with guards, loaders, after hooks, an
/// optional renderer, settings, child nodes and routes.
///
/// A `Node` is a cheap handle: clone it, pass it to functions (that is how one subtree
/// definition is mounted at several places), keep configuring it.
///
/// ```
/// use kotori::{Kotori, Node, Path};
///
/// // One subtree, written once, mounted under two prefixes.
/// fn articles(node: &Node<()>) {
///     node.get("/{id}", |Path(id): Path<u64>| async move { format!("article {id}") });
/// }
///
/// let app = Kotori::new(());
/// articles(&app.node("/blog"));
/// articles(&app.node("/news"));
/// let app = app.build().unwrap();
/// assert_eq!(app.routes().len(), 2);
/// ```
pub struct Node<S> {
    pub(crate) tree: Rc<RefCell<Tree<S>>>,
    id: usize,
}

/// A route (method, rule, handler) on a node, with its own guards, loaders and after hooks
/// that run after all of its nodes' steps.
///
/// ```
/// use kotori::{Ctx, Kotori, Rejection};
///
/// fn admins_only(cx: &mut Ctx<()>) -> Result<(), Rejection> {
///     cx.header("x-admin").map(drop).ok_or_else(Rejection::forbidden)
/// }
///
/// let app = Kotori::new(());
/// let posts = app.node("/posts");
/// posts.get("", || async { "every post" });
/// // A step on one route: after the node's steps, for this route alone.
/// posts.post("", || async { "posted" }).guard(admins_only);
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// #     assert_eq!(app.client().get("/posts").send().await.status(), 200);
/// #     assert_eq!(app.client().post("/posts").send().await.status(), 403);
/// # });
/// ```
pub struct Route<S> {
    tree: Rc<RefCell<Tree<S>>>,
    id: usize,
}

pub(crate) struct Tree<S> {
    pub(crate) nodes: Vec<NodeDef<S>>,
    pub(crate) routes: Vec<RouteDef<S>>,
    /// Set by `build()`: the tree is compiled, and a change would protect nothing.
    pub(crate) built: bool,
}

/// The tree, for a change; panics once it was built, since a guard added then would look
/// attached and protect nothing.
fn open<S>(tree: &RefCell<Tree<S>>) -> std::cell::RefMut<'_, Tree<S>> {
    let tree = tree.borrow_mut();
    assert!(
        !tree.built,
        "this kotori tree was already built: add guards, loaders and routes before `build()`; \
         a change made after it would be silently ignored"
    );
    tree
}

/// The steps and settings attached to a node or a route.
pub(crate) struct Attached<S> {
    pub(crate) steps: Vec<StepDef<S>>,
    pub(crate) afters: Vec<AfterDef<S>>,
    pub(crate) settings: Settings,
}

pub(crate) struct NodeDef<S> {
    pub(crate) prefix: String,
    pub(crate) parent: Option<usize>,
    pub(crate) children: Vec<usize>,
    pub(crate) routes: Vec<usize>,
    pub(crate) attached: Attached<S>,
    pub(crate) renderer: Option<RenderDef<S>>,
}

pub(crate) struct RouteDef<S> {
    pub(crate) node: usize,
    pub(crate) method: MethodFilter,
    pub(crate) rule: String,
    pub(crate) handler: HandlerDef<S>,
    pub(crate) attached: Attached<S>,
}

/// A route's handler as declared.
pub(crate) struct HandlerDef<S> {
    pub(crate) desc: StepDesc,
    pub(crate) needs: Vec<Needs>,
    /// Finishes without awaiting.
    pub(crate) sync: bool,
    pub(crate) run: Arc<dyn ErasedHandler<S>>,
}

pub(crate) struct StepDef<S> {
    pub(crate) desc: StepDesc,
    pub(crate) kind: StepKind,
    /// Finishes without awaiting (its mode is [`mode::Sync`](crate::step::mode::Sync)).
    pub(crate) sync: bool,
    pub(crate) needs: Vec<Needs>,
    pub(crate) produces: Option<ResourceType>,
    pub(crate) step: Arc<dyn ErasedStep<S>>,
}

pub(crate) struct AfterDef<S> {
    pub(crate) desc: StepDesc,
    pub(crate) hook: Arc<dyn After<S>>,
}

pub(crate) struct RenderDef<S> {
    pub(crate) name: std::borrow::Cow<'static, str>,
    pub(crate) renderer: Arc<dyn Render<S>>,
}

/// Per-node settings; unset ones are inherited from the nearest ancestor that sets them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) body_limit: Option<usize>,
    pub(crate) body_timeout: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) run_to_completion: Option<bool>,
}

impl<S> Default for Attached<S> {
    fn default() -> Self {
        Attached {
            steps: Vec::new(),
            afters: Vec::new(),
            settings: Settings::default(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Kotori<S> {
    /// Starts a tree whose steps all see `state` (a clone per request: make it an `Arc` or a
    /// struct of handles).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use kotori::{Kotori, State};
    ///
    /// struct Config { greeting: String }
    ///
    /// let app = Kotori::new(Arc::new(Config { greeting: "hello".into() }));
    /// app.get("/", |State(config): State<Arc<Config>>| async move { config.greeting.clone() });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/").send().await.text(), "hello");
    /// # });
    /// ```
    pub fn new(state: S) -> Self {
        let tree = Tree {
            nodes: vec![NodeDef {
                prefix: String::new(),
                parent: None,
                children: Vec::new(),
                routes: Vec::new(),
                attached: Attached::default(),
                renderer: None,
            }],
            routes: Vec::new(),
            built: false,
        };
        Kotori {
            root: Node {
                tree: Rc::new(RefCell::new(tree)),
                id: 0,
            },
            state,
            #[cfg(feature = "metrics")]
            metrics: crate::metrics::MetricsHandle::default(),
            #[cfg(feature = "otel")]
            otel: std::cell::Cell::new(true),
        }
    }

    /// Whether requests are sent to OpenTelemetry (feature `otel`): on by default. An app that
    /// installed no OpenTelemetry providers turns it off, and pays nothing for the no-op spans
    /// it would build (a span name, its attributes) on every request.
    ///
    /// ```
    /// use kotori::Kotori;
    ///
    /// let app = Kotori::new(());
    /// // This process installs no OpenTelemetry providers: build no spans for them.
    /// app.opentelemetry(false);
    /// app.build().unwrap();
    /// ```
    #[cfg(feature = "otel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
    pub fn opentelemetry(&self, export: bool) -> &Self {
        self.otel.set(export);
        self
    }

    /// A handle on the measurements of the app this tree becomes (feature `metrics`):
    /// empty until [`build`](Kotori::build), then the same as [`App::metrics`]. A route
    /// declared in the tree (a `/metrics` endpoint) takes one to read them.
    ///
    /// [`App::metrics`]: crate::App::metrics
    ///
    /// ```
    /// use kotori::Kotori;
    ///
    /// let app = Kotori::new(());
    /// // A route of the tree reads the measurements of the app it is part of.
    /// app.get("/metrics", kotori::metrics::prometheus::handler(app.metrics()));
    /// app.build().unwrap();
    /// ```
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics(&self) -> crate::metrics::MetricsHandle {
        self.metrics.clone()
    }

    /// The root node (also reachable through `Deref`).
    ///
    /// ```
    /// use kotori::{Kotori, Node};
    ///
    /// fn health(node: &Node<()>) {
    ///     node.get("/healthz", || async { "ok" });
    /// }
    ///
    /// let app = Kotori::new(());
    /// health(app.root()); // a function over nodes, given the root
    /// assert_eq!(app.build().unwrap().routes()[0].path(), "/healthz");
    /// ```
    pub fn root(&self) -> &Node<S> {
        &self.root
    }
}

impl<S> Deref for Kotori<S> {
    type Target = Node<S>;
    fn deref(&self) -> &Node<S> {
        &self.root
    }
}

impl<S> Clone for Node<S> {
    fn clone(&self) -> Self {
        Node {
            tree: Rc::clone(&self.tree),
            id: self.id,
        }
    }
}

impl<S> Clone for Route<S> {
    fn clone(&self) -> Self {
        Route {
            tree: Rc::clone(&self.tree),
            id: self.id,
        }
    }
}

fn guard_def<S, G: Guard<S, A, M>, A: 'static, M: StepMode>(guard: G) -> StepDef<S> {
    StepDef {
        desc: StepDesc {
            name: guard.name(),
            doc: guard.doc(),
            declares: Arc::new(guard.declares()),
        },
        kind: StepKind::Guard,
        sync: M::SYNC,
        needs: guard.needs(),
        produces: None,
        step: Arc::new(AsGuard(guard, PhantomData)),
    }
}

fn loader_def<S, L: Loader<S, A, M>, A: 'static, M: StepMode>(loader: L) -> StepDef<S> {
    StepDef {
        desc: StepDesc {
            name: loader.name(),
            doc: loader.doc(),
            declares: Arc::new(loader.declares()),
        },
        kind: StepKind::Load,
        sync: M::SYNC,
        needs: loader.needs(),
        produces: Some(loader.produces()),
        step: Arc::new(AsLoader(loader, PhantomData)),
    }
}

fn after_def<S, F: After<S>>(hook: F) -> AfterDef<S> {
    AfterDef {
        desc: StepDesc {
            name: hook.name(),
            doc: None,
            declares: Arc::default(),
        },
        hook: Arc::new(hook),
    }
}
