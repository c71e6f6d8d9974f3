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
            #[doc = r##"

```
use kotori::{Ctx, Kotori, Rejection};

fn token(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    cx.header("x-token").map(drop).ok_or_else(Rejection::unauthorized)
}

let app = Kotori::new(());
app.node("/api").guard(token).get("/me", || async { "me" }); // every route below
app.get("/admin", || async { "admin" }).guard(token); // this route alone
let app = app.build().unwrap();
# tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
#     assert_eq!(app.client().get("/api/me").send().await.status(), 401);
#     assert_eq!(app.client().get("/admin").send().await.status(), 401);
#     let res = app.client().get("/api/me").header("x-token", "t").send().await;
#     assert_eq!(res.text(), "me");
# });
```"##]
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
            #[doc = r##"

```
use kotori::{Kotori, Path, Res};

struct Live { id: u64, title: String }

// Loaded once for every route below; a `None` is a 404.
async fn load_live(Path(id): Path<u64>) -> Option<Live> {
    (id == 1).then(|| Live { id, title: "hello".into() })
}

let app = Kotori::new(());
let live = app.node("/live/{id}").load(load_live);
live.get("/show", |live: Res<Live>| async move { format!("{}: {}", live.id, live.title) });
let app = app.build().unwrap();
# tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
#     assert_eq!(app.client().get("/live/1/show").send().await.text(), "1: hello");
#     assert_eq!(app.client().get("/live/2/show").send().await.status(), 404);
# });
```"##]
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
            #[doc = r##"

```
use kotori::http::header::{CACHE_CONTROL, HeaderValue};
use kotori::{Ctx, Kotori, Response};

fn no_store(_cx: &Ctx<()>, res: &mut Response) {
    res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

let app = Kotori::new(());
app.node("/api").after(no_store).get("/me", || async { "me" });
let app = app.build().unwrap();
# tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
#     let res = app.client().get("/api/me").send().await;
#     assert_eq!(res.header("cache-control"), Some("no-store"));
#     // A 404 under the node passes the hook too.
#     let res = app.client().get("/api/nothing").send().await;
#     assert_eq!(res.header("cache-control"), Some("no-store"));
# });
```"##]
            pub fn after<F: $crate::step::After<S>>(&self, hook: F) -> Self {
                self.with_attached(|at| at.afters.push($crate::tree::after_def(hook)));
                self.clone()
            }

            #[doc = concat!("Limits request bodies of ", $scope, " (bytes; a 413 beyond), overriding what an ancestor sets. Default [`DEFAULT_BODY_LIMIT`](crate::limits::DEFAULT_BODY_LIMIT), 2 MiB.")]
            #[doc = r##"

```
use bytes::Bytes;
use kotori::Kotori;

let app = Kotori::new(());
app.node("/upload").body_limit(1024).post("", |body: Bytes| async move { body.len().to_string() });
let app = app.build().unwrap();
# tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
#     assert_eq!(app.client().post("/upload").body(vec![0; 1024]).send().await.text(), "1024");
#     assert_eq!(app.client().post("/upload").body(vec![0; 1025]).send().await.status(), 413);
# });
```"##]
            pub fn body_limit(&self, bytes: usize) -> Self {
                self.with_attached(|at| at.settings.body_limit = Some(bytes));
                self.clone()
            }

            #[doc = concat!("Bounds the time a client may take to send a request body to ", $scope, "; past it the request gets a 408 and the connection is closed. Default [`DEFAULT_BODY_TIMEOUT`](crate::limits::DEFAULT_BODY_TIMEOUT).")]
            #[doc = r##"

```
use std::time::Duration;
use kotori::Kotori;

let app = Kotori::new(());
// Uploads from slow phones get a minute; everything else the default.
app.node("/upload").body_timeout(Duration::from_secs(60)).post("", || async { "stored" });
app.build().unwrap();
```"##]
            pub fn body_timeout(&self, timeout: std::time::Duration) -> Self {
                self.with_attached(|at| at.settings.body_timeout = Some(timeout));
                self.clone()
            }

            #[doc = concat!("Bounds the time a request to ", $scope, " may take, steps and handler included; past it the request gets a 503. No timeout by default.")]
            #[doc = r##"

```
use std::time::Duration;
use kotori::Kotori;

let app = Kotori::new(());
app.node("/slow")
    .timeout(Duration::from_millis(10))
    .get("", || async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        "never"
    });
let app = app.build().unwrap();
# tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
#     assert_eq!(app.client().get("/slow").send().await.status(), 503);
# });
```"##]
            pub fn timeout(&self, timeout: std::time::Duration) -> Self {
                self.with_attached(|at| at.settings.timeout = Some(timeout));
                self.clone()
            }

            #[doc = concat!("Whether requests to ", $scope, " run to completion when their client goes away (overriding what an ancestor sets; off by default). Off, a request whose connection closes is dropped at its next await, halfway through its handler if need be — after a commit and before what was to follow it. On, a request dropped unfinished has its rest (its steps and handler from where they were waiting) handed to a task of its own, which finishes it: a departing client drops the wait, not the work, and the [`timeout`](Self::timeout) still bounds it; a graceful shutdown of [`serve`](crate::serve()) waits for it, within its [`shutdown_timeout`](crate::Serve::shutdown_timeout). A request whose client waits spawns nothing; it costs one more allocation. See the book's *Cancellation* section.")]
            #[doc = r##"

```
use kotori::Kotori;

let app = Kotori::new(());
// Writes finish what they started, whoever is still listening.
app.node("/api").run_to_completion(true).post("/messages", || async { "sent" });
app.build().unwrap();
```"##]
            pub fn run_to_completion(&self, on: bool) -> Self {
                self.with_attached(|at| at.settings.run_to_completion = Some(on));
                self.clone()
            }
        }
    };
}

pub(super) use attach_methods;
