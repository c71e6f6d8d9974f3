//! Extractors: typed arguments of steps and handlers, read from the [`Ctx`].

use std::any::{TypeId, type_name};
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::reply::json_response;
use crate::{Ctx, IntoReply, Rejection, Reply};

#[cfg(feature = "schemars")]
mod typed;
#[cfg(feature = "schemars")]
pub use typed::Typed;

/// A value a step or handler takes as an argument, made from the request context.
///
/// Besides extracting, an extractor declares what it [`Needs`], so that kotori can check at
/// build time that the route provides it (a loaded resource, a path parameter) and read the
/// body only when someone takes it.
///
/// ```
/// use kotori::extract::{FromCtx, Needs};
/// use kotori::{Ctx, Rejection};
///
/// /// The caller's user agent, or a 400.
/// struct UserAgent(String);
///
/// impl<S> FromCtx<S> for UserAgent {
///     fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
///         cx.header("user-agent")
///             .map(|ua| UserAgent(ua.to_owned()))
///             .ok_or_else(|| Rejection::bad_request("send a User-Agent"))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor for this app's state `{S}`",
    label = "this argument",
    note = "steps take `Res<T>`, `Path<T>`, `State<S>`, `Query<T>`, `Form<T>`, `Json<T>`, `Bytes` or `Method`, or the whole `&mut Ctx<S>`; implement `FromCtx` for your own"
)]
pub trait FromCtx<S>: Sized + Send + 'static {
    /// Extracts the value, or refuses the request.
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection>;

    /// What the route must provide for this extractor; nothing by default.
    fn needs() -> Needs {
        Needs::NOTHING
    }

    /// What it reads, for the API description (parameters, a body); nothing by default. The
    /// steps taking it declare it (see `Typed`, feature `schemars`).
    fn declares() -> crate::openapi::Declares {
        crate::openapi::Declares::new()
    }
}

/// What an extractor needs from the route, checked when the app is built.
///
/// ```
/// use kotori::extract::{FromCtx, Needs};
/// use kotori::{Ctx, Rejection};
///
/// struct User(String);
/// /// The name of the user a loader above loaded: the build checks that one does.
/// struct UserName(String);
///
/// impl<S> FromCtx<S> for UserName {
///     fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
///         let user = cx.resource::<User>().ok_or_else(Rejection::internal)?;
///         Ok(UserName(user.0.clone()))
///     }
///     fn needs() -> Needs {
///         Needs::resource::<User>()
///     }
/// }
///
/// let app = kotori::Kotori::new(());
/// app.get("/name", |UserName(name): UserName| async move { name }); // no loader of `User`
/// assert!(app.build().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub(crate) resource: Option<ResourceType>,
    pub(crate) body: bool,
    pub(crate) path_param: bool,
}

impl Needs {
    /// Nothing: the extractor works on any request.
    ///
    /// ```
    /// use kotori::extract::{FromCtx, Needs};
    /// use kotori::{Ctx, Rejection};
    ///
    /// /// The client's language, from `Accept-Language`: works on any request.
    /// struct Language(String);
    ///
    /// impl<S> FromCtx<S> for Language {
    ///     fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
    ///         Ok(Language(cx.header("accept-language").unwrap_or("en").to_owned()))
    ///     }
    ///     fn needs() -> Needs {
    ///         Needs::NOTHING // the default, written out
    ///     }
    /// }
    /// ```
    pub const NOTHING: Needs = Needs {
        resource: None,
        body: false,
        path_param: false,
    };

    /// A resource of type `T`, loaded by a loader on this node or above, before this step.
    ///
    /// ```
    /// use kotori::extract::Needs;
    ///
    /// struct Live;
    /// assert_ne!(Needs::resource::<Live>(), Needs::NOTHING);
    /// ```
    pub fn resource<T: 'static>() -> Needs {
        Needs {
            resource: Some(ResourceType::of::<T>()),
            ..Needs::NOTHING
        }
    }

    /// The request body: kotori reads it before the step runs.
    ///
    /// ```
    /// use kotori::extract::{FromCtx, Needs};
    /// use kotori::{Ctx, Rejection};
    ///
    /// /// The body's length: kotori must read the body before this extractor runs.
    /// struct BodyLength(usize);
    ///
    /// impl<S> FromCtx<S> for BodyLength {
    ///     fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
    ///         Ok(BodyLength(cx.body()?.len()))
    ///     }
    ///     fn needs() -> Needs {
    ///         Needs::body()
    ///     }
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.post("/len", |BodyLength(n): BodyLength| async move { n.to_string() });
    /// let app = app.build().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(app.client().post("/len").body("four").send().await.text(), "4");
    /// # });
    /// ```
    pub const fn body() -> Needs {
        Needs {
            body: true,
            ..Needs::NOTHING
        }
    }

    /// A path parameter in scope of the step.
    ///
    /// ```
    /// use kotori::extract::{FromCtx, Needs};
    /// use kotori::{Ctx, Rejection};
    ///
    /// /// A slug from the innermost path parameter, lower-cased.
    /// struct Slug(String);
    ///
    /// impl<S> FromCtx<S> for Slug {
    ///     fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
    ///         let kotori::Path(raw) = kotori::Path::<String>::from_ctx(cx)?;
    ///         Ok(Slug(raw.to_lowercase()))
    ///     }
    ///     fn needs() -> Needs {
    ///         Needs::path_param() // a route without a parameter in scope is a build error
    ///     }
    /// }
    ///
    /// let app = kotori::Kotori::new(());
    /// app.get("/tags", |Slug(s): Slug| async move { s });
    /// assert!(app.build().is_err());
    /// ```
    pub const fn path_param() -> Needs {
        Needs {
            path_param: true,
            ..Needs::NOTHING
        }
    }
}

/// A type, identified for the build-time resource check and named for its messages.
///
/// ```
/// use kotori::extract::ResourceType;
///
/// struct Live;
/// assert_eq!(ResourceType::of::<Live>(), ResourceType::of::<Live>());
/// assert_ne!(ResourceType::of::<Live>(), ResourceType::of::<String>());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceType {
    pub(crate) id: TypeId,
    pub(crate) name: &'static str,
}

impl ResourceType {
    /// The resource type `T`.
    ///
    /// ```
    /// use kotori::extract::ResourceType;
    ///
    /// assert!(ResourceType::of::<Vec<u8>>().name().contains("Vec<u8>"));
    /// ```
    pub fn of<T: 'static>() -> Self {
        ResourceType {
            id: TypeId::of::<T>(),
            name: type_name::<T>(),
        }
    }

    /// The type's name, as `std::any::type_name` gives it.
    ///
    /// ```
    /// use kotori::extract::ResourceType;
    ///
    /// assert_eq!(ResourceType::of::<u64>().name(), "u64");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// The application state (a clone of it: make it cheap, e.g. an `Arc`).
///
/// ```
/// use std::sync::Arc;
/// use kotori::State;
///
/// struct Config { greeting: String }
///
/// async fn hello(State(config): State<Arc<Config>>) -> String {
///     config.greeting.clone()
/// }
/// ```
#[derive(Clone, Debug)]
pub struct State<S>(pub S);

impl<S: Clone + Send + 'static> FromCtx<S> for State<S> {
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        Ok(State(cx.state().clone()))
    }
}

/// A resource loaded by a loader above: `Res<Live>` in a handler under `/live/{id}`.
///
/// Taking `Res<T>` where no ancestor loads a `T` is a build error naming the route and the
/// type. The resource is shared, not copied: `Res` holds an `Arc<T>` and derefs to `T`.
///
/// ```
/// use kotori::Res;
///
/// struct Live { title: String }
///
/// async fn show(live: Res<Live>) -> String {
///     live.title.clone()
/// }
/// ```
pub struct Res<T>(Arc<T>);

impl<T> Res<T> {
    /// The shared handle to the resource, to keep it past the request.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use kotori::Res;
    ///
    /// struct Live { title: String }
    ///
    /// async fn show(live: Res<Live>) -> String {
    ///     let kept: Arc<Live> = live.into_arc(); // e.g. moved into a spawned task
    ///     tokio::spawn(async move { kept.title.clone() }).await.unwrap()
    /// }
    /// ```
    pub fn into_arc(self) -> Arc<T> {
        self.0
    }
}

impl<T> Deref for Res<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Clone for Res<T> {
    fn clone(&self) -> Self {
        Res(Arc::clone(&self.0))
    }
}

impl<T: fmt::Debug> fmt::Debug for Res<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<S, T: Send + Sync + 'static> FromCtx<S> for Res<T> {
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        // The build check makes this `None` unreachable for routes; it stays an error (not a
        // panic) for steps on 404/405 paths that stop above the loader.
        cx.resource_arc::<T>().map(Res).ok_or_else(|| {
            // The details are for the log: a 500 body never names the program's types.
            tracing::error!(
                request_id = cx.request_id(),
                resource = type_name::<T>(),
                "a step asked for a resource no loader above it loaded; answering 500"
            );
            Rejection::internal()
        })
    }

    fn needs() -> Needs {
        Needs::resource::<T>()
    }
}

/// The innermost path parameter in scope, parsed: for a loader on `/live/{live_id}`, the live
/// id; for a handler, the last parameter of its route.
///
/// A value that does not parse as `T` is a 404: the URL names nothing that exists. Taking
/// `Path` where no parameter is in scope is a build error. For a route with several
/// parameters, read the others with [`Ctx::param_as`].
///
/// ```
/// use kotori::Path;
///
/// async fn show(Path(id): Path<u64>) -> String {
///     format!("course {id}")
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Path<T>(pub T);

impl<S, T: FromStr + Send + 'static> FromCtx<S> for Path<T> {
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        cx.innermost_param()
            .and_then(|raw| raw.parse().ok())
            .map(Path)
            .ok_or_else(Rejection::not_found)
    }

    fn needs() -> Needs {
        Needs::path_param()
    }
}

/// The query string, deserialized with serde (a 400 naming the problem otherwise).
///
/// ```
/// use kotori::{Kotori, Query};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Search { q: String, page: Option<u32> }
///
/// let app = Kotori::new(());
/// app.get("/search", |Query(s): Query<Search>| async move {
///     format!("{} page {}", s.q, s.page.unwrap_or(1))
/// });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(app.client().get("/search?q=rust").send().await.text(), "rust page 1");
/// assert_eq!(app.client().get("/search?page=2").send().await.status(), 400); // no `q`
/// # });
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Query<T>(pub T);

impl<S, T: DeserializeOwned + Send + 'static> FromCtx<S> for Query<T> {
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        cx.query_as().map(Query)
    }
}

/// A `application/x-www-form-urlencoded` body, deserialized with serde.
///
/// ```
/// use kotori::{Form, Kotori};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Login { name: String, password: String }
///
/// let app = Kotori::new(());
/// app.post("/login", |Form(login): Form<Login>| async move {
///     format!("{} sent {} characters", login.name, login.password.len())
/// });
/// let app = app.build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let res = app.client().post("/login").form(&[("name", "ann"), ("password", "hunter2")]).send().await;
/// assert_eq!(res.text(), "ann sent 7 characters");
/// # });
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Form<T>(pub T);

impl<S, T: DeserializeOwned + Send + 'static> FromCtx<S> for Form<T> {
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        cx.form().map(Form)
    }

    fn needs() -> Needs {
        Needs::body()
    }
}

/// A JSON body (as an extractor) or a JSON response (as a reply).
///
/// ```
/// use kotori::Json;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize, Serialize)]
/// struct Note { text: String }
///
/// async fn echo(Json(note): Json<Note>) -> Json<Note> {
///     Json(note)
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Json<T>(pub T);

impl<S, T: DeserializeOwned + Send + 'static> FromCtx<S> for Json<T> {
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        cx.json().map(Json)
    }

    fn needs() -> Needs {
        Needs::body()
    }
}

impl<T: Serialize> IntoReply for Json<T> {
    fn into_reply(self) -> Reply {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Reply::Response(json_response(StatusCode::OK, body)),
            Err(e) => {
                tracing::error!(error = %e, "could not serialize a JSON response");
                Reply::Rejection(Rejection::internal())
            }
        }
    }
}

impl<S> FromCtx<S> for Bytes {
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        cx.body().cloned()
    }

    fn needs() -> Needs {
        Needs::body()
    }
}

impl<S> FromCtx<S> for Method {
    fn from_ctx(cx: &mut Ctx<S>) -> Result<Self, Rejection> {
        Ok(cx.method().clone())
    }
}
