//! Building the tree: nodes, routes, and the steps attached to them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use http::Method;

use crate::step::mode::StepMode;
use crate::step::{AsHandler, AsHook, AsLoader, ErasedHandler, ErasedStep};
use crate::{After, App, BuildError, Handler, Hook, Loader, Needs, Render, ResourceType};

/// The application being built: the root of the tree and the shared state.
///
/// `Kotori` derefs to its root [`Node`], so `app.node("/manage")`, `app.before(...)` and
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
/// let manage = app.node("/manage").before(require_operator);
/// manage.node("/courses/{id}").get("/show.json", show_course);
/// let app = app.build().expect("a valid tree");
/// assert_eq!(app.routes()[0].path(), "/manage/courses/{id}/show.json");
/// ```
pub struct Kotori<S> {
    root: Node<S>,
    state: S,
}

/// A node of the tree: a path prefix (possibly empty) with guards, loaders, after hooks, an
/// optional renderer, settings, child nodes and routes.
///
/// A `Node` is a cheap handle: clone it, pass it to functions (that is how one subtree
/// definition is mounted at several places), keep configuring it.
pub struct Node<S> {
    tree: Rc<RefCell<Tree<S>>>,
    id: usize,
}

/// A route (method, rule, handler) on a node, with its own guards, loaders and after hooks
/// that run after all of its nodes' steps.
pub struct Route<S> {
    tree: Rc<RefCell<Tree<S>>>,
    id: usize,
}

pub(crate) struct Tree<S> {
    pub(crate) nodes: Vec<NodeDef<S>>,
    pub(crate) routes: Vec<RouteDef<S>>,
}

/// The steps and settings a node or a route carries.
pub(crate) struct Layer<S> {
    pub(crate) steps: Vec<StepDef<S>>,
    pub(crate) afters: Vec<AfterDef<S>>,
    pub(crate) settings: Settings,
}

pub(crate) struct NodeDef<S> {
    pub(crate) prefix: String,
    pub(crate) parent: Option<usize>,
    pub(crate) children: Vec<usize>,
    pub(crate) routes: Vec<usize>,
    pub(crate) layer: Layer<S>,
    pub(crate) renderer: Option<RenderDef<S>>,
}

pub(crate) struct RouteDef<S> {
    pub(crate) node: usize,
    pub(crate) method: Method,
    pub(crate) rule: String,
    pub(crate) handler: Arc<dyn ErasedHandler<S>>,
    pub(crate) handler_info: StepDesc,
    pub(crate) handler_needs: Vec<Needs>,
    pub(crate) handler_sync: bool,
    pub(crate) layer: Layer<S>,
}

/// What kind of step an entry of a chain is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// A before hook (guard).
    Before,
    /// A resource loader.
    Load,
    /// An after hook.
    After,
    /// The route's handler.
    Handler,
}

/// A step's name and description, as introspection shows it.
#[derive(Clone, Debug)]
pub(crate) struct StepDesc {
    pub(crate) name: Cow<'static, str>,
    pub(crate) doc: Option<&'static str>,
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
    pub(crate) name: Cow<'static, str>,
    pub(crate) hook: Arc<dyn After<S>>,
}

pub(crate) struct RenderDef<S> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) renderer: Arc<dyn Render<S>>,
}

/// Per-node settings; unset ones are inherited from the nearest ancestor that sets them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) body_limit: Option<usize>,
    pub(crate) timeout: Option<Duration>,
}

impl<S> Default for Layer<S> {
    fn default() -> Self {
        Layer {
            steps: Vec::new(),
            afters: Vec::new(),
            settings: Settings::default(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Kotori<S> {
    /// Starts a tree whose steps all see `state` (a clone per request: make it an `Arc` or a
    /// struct of handles).
    pub fn new(state: S) -> Self {
        let tree = Tree {
            nodes: vec![NodeDef {
                prefix: String::new(),
                parent: None,
                children: Vec::new(),
                routes: Vec::new(),
                layer: Layer::default(),
                renderer: None,
            }],
            routes: Vec::new(),
        };
        Kotori {
            root: Node {
                tree: Rc::new(RefCell::new(tree)),
                id: 0,
            },
            state,
        }
    }

    /// The root node (also reachable through `Deref`).
    pub fn root(&self) -> &Node<S> {
        &self.root
    }

    /// Compiles the tree: joins prefixes, flattens every route's chain of steps, checks that
    /// each step's resources are loaded above it, and builds the router.
    ///
    /// Every problem is collected and reported at once; see [`BuildError`].
    pub fn build(self) -> Result<App<S>, BuildError> {
        let tree = self.root.tree.borrow();
        crate::build::build(&tree, self.state)
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

impl<S: 'static> Node<S> {
    /// A child node whose prefix is joined to this node's (`"/live/{live_id}"`; an empty
    /// prefix makes a *group*: steps without a path segment).
    pub fn node(&self, prefix: &str) -> Node<S> {
        let mut tree = self.tree.borrow_mut();
        let id = tree.nodes.len();
        tree.nodes.push(NodeDef {
            prefix: prefix.to_owned(),
            parent: Some(self.id),
            children: Vec::new(),
            routes: Vec::new(),
            layer: Layer::default(),
            renderer: None,
        });
        tree.nodes[self.id].children.push(id);
        Node {
            tree: Rc::clone(&self.tree),
            id,
        }
    }

    /// A child with an empty prefix: guards for some routes of this path, not all.
    pub fn group(&self) -> Node<S> {
        self.node("")
    }

    /// Adds a before hook (guard). It protects every route under this node, whenever they
    /// were added.
    pub fn before<H, A, M>(&self, hook: H) -> Self
    where
        H: Hook<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.with_layer(|layer| layer.steps.push(hook_def(hook)));
        self.clone()
    }

    /// Adds a resource loader: the value it returns is stored for every step and handler below
    /// (read with [`Res<T>`](crate::Res)); its refusal answers the request.
    pub fn load<L, A, M>(&self, loader: L) -> Self
    where
        L: Loader<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.with_layer(|layer| layer.steps.push(loader_def(loader)));
        self.clone()
    }

    /// Adds an after hook, run on every response of a request that entered this node.
    pub fn after<F: After<S>>(&self, hook: F) -> Self {
        self.with_layer(|layer| layer.afters.push(after_def(hook)));
        self.clone()
    }

    /// Sets how rejections look under this node (the nearest renderer wins).
    pub fn render<R: Render<S>>(&self, renderer: R) -> Self {
        self.tree.borrow_mut().nodes[self.id].renderer = Some(RenderDef {
            name: renderer.name(),
            renderer: Arc::new(renderer),
        });
        self.clone()
    }

    /// Limits request bodies under this node (bytes; 413 beyond). Default 2 MiB.
    pub fn body_limit(&self, bytes: usize) -> Self {
        self.with_layer(|layer| layer.settings.body_limit = Some(bytes));
        self.clone()
    }

    /// Bounds the time a request under this node may take, steps and handler included; past
    /// it the request gets a 503. No timeout by default.
    pub fn timeout(&self, timeout: Duration) -> Self {
        self.with_layer(|layer| layer.settings.timeout = Some(timeout));
        self.clone()
    }

    /// Adds a route. `rule` is joined to the node's prefix (an empty rule is the node's own
    /// path).
    pub fn route<H, A, M>(&self, method: Method, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        let mut tree = self.tree.borrow_mut();
        let id = tree.routes.len();
        tree.routes.push(RouteDef {
            node: self.id,
            method,
            rule: rule.to_owned(),
            handler_info: StepDesc {
                name: handler.name(),
                doc: handler.doc(),
            },
            handler_needs: handler.needs(),
            handler_sync: M::SYNC,
            handler: Arc::new(AsHandler(handler, PhantomData)),
            layer: Layer::default(),
        });
        tree.nodes[self.id].routes.push(id);
        Route {
            tree: Rc::clone(&self.tree),
            id,
        }
    }

    /// Adds a `GET` route (which also answers `HEAD`).
    pub fn get<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::GET, rule, handler)
    }

    /// Adds a `POST` route.
    pub fn post<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::POST, rule, handler)
    }

    /// Adds a `PUT` route.
    pub fn put<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::PUT, rule, handler)
    }

    /// Adds a `DELETE` route.
    pub fn delete<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::DELETE, rule, handler)
    }

    /// Adds a `PATCH` route.
    pub fn patch<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::PATCH, rule, handler)
    }

    fn with_layer(&self, f: impl FnOnce(&mut Layer<S>)) {
        f(&mut self.tree.borrow_mut().nodes[self.id].layer);
    }
}

impl<S: 'static> Route<S> {
    /// Adds a guard for this route only; it runs after every node's steps.
    pub fn before<H, A, M>(&self, hook: H) -> Self
    where
        H: Hook<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.with_layer(|layer| layer.steps.push(hook_def(hook)));
        self.clone()
    }

    /// Adds a loader for this route only.
    pub fn load<L, A, M>(&self, loader: L) -> Self
    where
        L: Loader<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.with_layer(|layer| layer.steps.push(loader_def(loader)));
        self.clone()
    }

    /// Adds an after hook for this route only; it runs before the nodes' after hooks.
    pub fn after<F: After<S>>(&self, hook: F) -> Self {
        self.with_layer(|layer| layer.afters.push(after_def(hook)));
        self.clone()
    }

    /// Overrides the inherited body limit for this route.
    pub fn body_limit(&self, bytes: usize) -> Self {
        self.with_layer(|layer| layer.settings.body_limit = Some(bytes));
        self.clone()
    }

    /// Overrides the inherited timeout for this route.
    pub fn timeout(&self, timeout: Duration) -> Self {
        self.with_layer(|layer| layer.settings.timeout = Some(timeout));
        self.clone()
    }

    fn with_layer(&self, f: impl FnOnce(&mut Layer<S>)) {
        f(&mut self.tree.borrow_mut().routes[self.id].layer);
    }
}

fn hook_def<S, H: Hook<S, A, M>, A: 'static, M: StepMode>(hook: H) -> StepDef<S> {
    StepDef {
        desc: StepDesc {
            name: hook.name(),
            doc: hook.doc(),
        },
        kind: StepKind::Before,
        sync: M::SYNC,
        needs: hook.needs(),
        produces: None,
        step: Arc::new(AsHook(hook, PhantomData)),
    }
}

fn loader_def<S, L: Loader<S, A, M>, A: 'static, M: StepMode>(loader: L) -> StepDef<S> {
    StepDef {
        desc: StepDesc {
            name: loader.name(),
            doc: loader.doc(),
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
        name: hook.name(),
        hook: Arc::new(hook),
    }
}
