//! After hooks: see and change every response on its way out.

use std::borrow::Cow;

use crate::step::default_name;
use crate::{Ctx, Response};

/// An after hook: runs on the response of every request that entered its node — the handler's
/// reply, a rejection rendered, a 404 — leaf to root (onion order).
///
/// After hooks are synchronous: the response is in hand, and a hook that must do I/O (an audit
/// log to a database) should hand the work to a task rather than hold the response.
///
/// ```
/// use kotori::{Ctx, Kotori, Response};
/// use http::HeaderValue;
///
/// fn request_id<S>(cx: &Ctx<S>, res: &mut Response) {
///     if let Ok(id) = HeaderValue::from_str(cx.request_id()) {
///         res.headers_mut().insert("x-request-id", id);
///     }
/// }
///
/// let app = Kotori::new(());
/// app.after(request_id);
/// ```
pub trait After<S>: Send + Sync + 'static {
    /// Sees (and may change) the response.
    fn call(&self, cx: &Ctx<S>, res: &mut Response);
    /// The name shown in route tables: the function's path by default.
    fn name(&self) -> Cow<'static, str> {
        default_name::<Self>()
    }
}

impl<S, F> After<S> for F
where
    F: Fn(&Ctx<S>, &mut Response) + Send + Sync + 'static,
{
    fn call(&self, cx: &Ctx<S>, res: &mut Response) {
        self(cx, res)
    }
}
