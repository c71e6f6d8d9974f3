//! Attribute macros for [kotori](https://docs.rs/kotori): `#[guard]`, `#[loader]` and
//! `#[handler]`. kotori re-exports them (default feature `macros`): write `#[kotori::guard]`.
//!
//! kotori already accepts plain functions as steps — sync or async, taking extractors or
//! `&mut Ctx<S>` — so a macro is never required. Each attribute adds exactly two things:
//!
//! 1. **An async fn that borrows the context.** `async fn g(cx: &mut Ctx<S>)` returns a future
//!    that borrows `cx`, which no plain-function step can (its future must be `'static`). The
//!    attribute generates the impl that lets the future borrow the context for as long as
//!    kotori awaits it. Extractor arguments may be mixed in.
//! 2. **Its name and doc line in introspection.** The route table and the printed tree show the
//!    function's path (or `name = "..."`) and the first line of its doc comment.
//!
//! The function stays callable as `name::run(...)` (for unit tests); `name` itself becomes a
//! unit struct implementing kotori's `Guard`, `Loader` or `Handler`. Signatures kotori cannot
//! use are compile errors that point at the offending part and say how to fix it.

mod expand;
mod signature;

use proc_macro::TokenStream;

use crate::expand::Kind;

/// Makes an `async fn` or `fn` a guard.
///
/// The function takes extractors and/or `&mut Ctx<S>`, and returns `()`, `Result<(), E>` or
/// `ControlFlow<E>` (`E: IntoReply`).
///
/// ```
/// use kotori::{Ctx, Kotori, Rejection};
///
/// #[derive(Clone)]
/// struct AppState;
///
/// /// Refuses callers without a token.
/// #[kotori::guard]
/// async fn require_token(cx: &mut Ctx<AppState>) -> Result<(), Rejection> {
///     tokio::task::yield_now().await; // the context stays borrowed across the await
///     cx.header("authorization").map(|_| ()).ok_or_else(Rejection::unauthorized)
/// }
///
/// let app = Kotori::new(AppState);
/// app.node("/api").guard(require_token).get("/me", || async { "me" });
/// let app = app.build().unwrap();
/// assert!(app.tree().to_string().contains("require_token  — Refuses callers without a token."));
/// ```
#[proc_macro_attribute]
pub fn guard(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Guard, attr.into(), item.into()).into()
}

/// Makes an `async fn` or `fn` a resource loader.
///
/// The function takes extractors and/or `&mut Ctx<S>`, and returns `Result<T, E>` or
/// `Option<T>`; `T` becomes a resource that steps below read with `Res<T>`.
///
/// ```
/// use kotori::{Kotori, Path, Rejection, Res};
///
/// struct Live { id: u64 }
///
/// /// Loads the live named by the path.
/// #[kotori::loader]
/// async fn load_live(Path(id): Path<u64>) -> Result<Live, Rejection> {
///     if id == 0 { Err(Rejection::not_found()) } else { Ok(Live { id }) }
/// }
///
/// let app = Kotori::new(());
/// app.node("/live/{id}").load(load_live).get("/show", |live: Res<Live>| async move { live.id.to_string() });
/// app.build().unwrap();
/// ```
#[proc_macro_attribute]
pub fn loader(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Loader, attr.into(), item.into()).into()
}

/// Makes an `async fn` or `fn` a route handler.
///
/// The function takes extractors and/or `&mut Ctx<S>` and returns anything `IntoReply`.
///
/// ```
/// use kotori::{Ctx, Json, Kotori};
///
/// /// Echoes the caller's user agent.
/// #[kotori::handler(name = "echo-agent")]
/// async fn echo(cx: &mut Ctx<()>) -> Json<String> {
///     Json(cx.header("user-agent").unwrap_or("none").to_owned())
/// }
///
/// let app = Kotori::new(());
/// app.get("/ua", echo);
/// let app = app.build().unwrap();
/// assert_eq!(app.routes()[0].handler().name(), "echo-agent");
/// ```
#[proc_macro_attribute]
pub fn handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Handler, attr.into(), item.into()).into()
}
