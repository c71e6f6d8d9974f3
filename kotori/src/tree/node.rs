//! A node's own builder methods: its child nodes and groups, its renderer, and its routes.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use http::Method;

use super::{Attached, HandlerDef, Node, NodeDef, RenderDef, Route, RouteDef, open};
use crate::introspect::{MethodFilter, StepDesc};
use crate::render::Render;
use crate::step::AsHandler;
use crate::step::Handler;
use crate::step::mode::StepMode;

impl<S: 'static> Node<S> {
    /// A child node whose prefix is joined to this node's (`"/live/{live_id}"`; an empty
    /// prefix makes a *group*: steps without a path segment).
    ///
    /// ```
    /// use kotori::Kotori;
    ///
    /// let app = Kotori::new(());
    /// let live = app.node("/api").node("/live/{live_id}");
    /// live.get("/show", || async { "a live" });
    /// assert_eq!(app.build().unwrap().routes()[0].path(), "/api/live/{live_id}/show");
    /// ```
    pub fn node(&self, prefix: &str) -> Node<S> {
        let mut tree = open(&self.tree);
        let id = tree.nodes.len();
        tree.nodes.push(NodeDef {
            prefix: prefix.to_owned(),
            parent: Some(self.id),
            children: Vec::new(),
            routes: Vec::new(),
            attached: Attached::default(),
            renderer: None,
        });
        tree.nodes[self.id].children.push(id);
        Node {
            tree: Rc::clone(&self.tree),
            id,
        }
    }

    /// A child with an empty prefix: guards for some routes of this path, not all.
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection};
    ///
    /// fn token(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    ///     cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized)
    /// }
    ///
    /// let app = Kotori::new(());
    /// let api = app.node("/api");
    /// api.post("/login", || async { "a token" }); // public
    /// api.group().guard(token).get("/me", || async { "me" }); // the same prefix, guarded
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().post("/api/login").send().await.status(), 200);
    /// #     assert_eq!(app.client().get("/api/me").send().await.status(), 401);
    /// # });
    /// ```
    pub fn group(&self) -> Node<S> {
        self.node("")
    }

    /// Sets how rejections look under this node (the nearest renderer wins).
    ///
    /// ```
    /// use kotori::{Ctx, Kotori, Rejection, Response};
    ///
    /// fn page(_cx: &Ctx<()>, rejection: &Rejection) -> Response {
    ///     let mut res = Response::new(format!("<h1>{}</h1>", rejection.message()).into());
    ///     *res.status_mut() = rejection.status();
    ///     res
    /// }
    ///
    /// let app = Kotori::new(());
    /// app.node("/pages").render(page).get("/gone", || async { Rejection::not_found() });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     assert_eq!(app.client().get("/pages/gone").send().await.text(), "<h1>Not Found</h1>");
    /// # });
    /// ```
    pub fn render<R: Render<S>>(&self, renderer: R) -> Self {
        open(&self.tree).nodes[self.id].renderer = Some(RenderDef {
            name: renderer.name(),
            renderer: Arc::new(renderer),
        });
        self.clone()
    }

    /// Adds a route. `rule` is joined to the node's prefix (an empty rule is the node's own
    /// path).
    ///
    /// ```
    /// use kotori::Kotori;
    /// use kotori::http::Method;
    ///
    /// let app = Kotori::new(());
    /// app.route(Method::OPTIONS, "/files", || async { "GET, PUT" });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #     let res = app.client().request(Method::OPTIONS, "/files").send().await;
    /// #     assert_eq!(res.text(), "GET, PUT");
    /// # });
    /// ```
    pub fn route<H, A, M>(&self, method: Method, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route_for(MethodFilter::Only(method), rule, handler)
    }

    /// A route for `method`, which may be any (a mounted service).
    pub(crate) fn route_for<H, A, M>(
        &self,
        method: MethodFilter,
        rule: &str,
        handler: H,
    ) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        let mut tree = open(&self.tree);
        let id = tree.routes.len();
        tree.routes.push(RouteDef {
            node: self.id,
            method,
            rule: rule.to_owned(),
            handler: HandlerDef {
                desc: StepDesc {
                    name: handler.name(),
                    doc: handler.doc(),
                    declares: Arc::new(handler.declares()),
                },
                needs: handler.needs(),
                sync: M::SYNC,
                run: Arc::new(AsHandler(handler, PhantomData)),
            },
            attached: Attached::default(),
        });
        tree.nodes[self.id].routes.push(id);
        Route {
            tree: Rc::clone(&self.tree),
            id,
        }
    }

    /// Adds a `GET` route (which also answers `HEAD`).
    ///
    /// ```
    /// use kotori::{Kotori, Path};
    ///
    /// let app = Kotori::new(());
    /// app.get("/users/{id}", |Path(id): Path<u64>| async move { format!("user {id}") });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().get("/users/7").send().await;
    /// assert_eq!(res.text(), "user 7");
    /// # });
    /// ```
    pub fn get<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::GET, rule, handler)
    }

    /// Adds a `POST` route.
    ///
    /// ```
    /// use kotori::{Form, Kotori};
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize)]
    /// struct Note { text: String }
    ///
    /// let app = Kotori::new(());
    /// app.post("/notes", |Form(note): Form<Note>| async move { format!("saved {}", note.text) });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().post("/notes").form(&[("text", "milk")]).send().await;
    /// assert_eq!(res.text(), "saved milk");
    /// # });
    /// ```
    pub fn post<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::POST, rule, handler)
    }

    /// Adds a `PUT` route.
    ///
    /// ```
    /// use kotori::{Json, Kotori, Path};
    ///
    /// let app = Kotori::new(());
    /// app.put("/notes/{id}", |Path(id): Path<u64>, Json(text): Json<String>| async move {
    ///     format!("note {id} is now {text}")
    /// });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().request(kotori::http::Method::PUT, "/notes/1").json("milk").send().await;
    /// assert_eq!(res.text(), "note 1 is now milk");
    /// # });
    /// ```
    pub fn put<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::PUT, rule, handler)
    }

    /// Adds a `DELETE` route.
    ///
    /// ```
    /// use kotori::{Kotori, Path};
    ///
    /// let app = Kotori::new(());
    /// app.delete("/notes/{id}", |Path(id): Path<u64>| async move { format!("deleted {id}") });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().delete("/notes/3").send().await.text(), "deleted 3");
    /// # });
    /// ```
    pub fn delete<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::DELETE, rule, handler)
    }

    /// Adds a `PATCH` route.
    ///
    /// ```
    /// use kotori::{Kotori, Path};
    ///
    /// let app = Kotori::new(());
    /// app.patch("/notes/{id}", |Path(id): Path<u64>| async move { format!("patched {id}") });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let res = app.client().request(kotori::http::Method::PATCH, "/notes/2").send().await;
    /// assert_eq!(res.text(), "patched 2");
    /// # });
    /// ```
    pub fn patch<H, A, M>(&self, rule: &str, handler: H) -> Route<S>
    where
        H: Handler<S, A, M>,
        A: 'static,
        M: StepMode,
    {
        self.route(Method::PATCH, rule, handler)
    }

    pub(super) fn with_attached(&self, f: impl FnOnce(&mut Attached<S>)) {
        f(&mut open(&self.tree).nodes[self.id].attached);
    }
}
