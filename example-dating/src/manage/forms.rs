//! Console forms: every action is ONE handler mounted twice — `{path}.json` for the API and
//! `{path}` for a browser's form, which on success is sent back to the page it came from
//! (303, so a reload never repeats the POST). Both routes hang under the same node, so the
//! same guards, loaders, CSRF check and audit row apply to both; a refusal of the form route
//! is the renderer's error page.

use kotori::openapi::Declares;
use kotori::step::Handler;
use kotori::step::mode::StepMode;
use kotori::{Ctx, Node, Response, Route};

use super::page;
use crate::params::Params;
use crate::state::AppState;

/// The form field naming the page a form returns to (a console path; anything else returns
/// to the page above the action).
pub const BACK_FIELD: &str = "back";

/// The two routes of one action.
pub struct Action {
    api: Route<AppState>,
    form: Route<AppState>,
}

impl Action {
    /// Declares what both read and answer.
    pub fn declares(self, declares: Declares) -> Self {
        self.api.declares(declares.clone());
        self.form.declares(declares);
        self
    }
}

/// Mounts `handler` as `POST {path}.json` on `node` and as the form `POST {path}` on a group
/// of `node` that redirects a success back to its page.
pub fn action<H, A, M>(node: &Node<AppState>, path: &str, handler: H) -> Action
where
    H: Handler<AppState, A, M> + Clone,
    A: 'static,
    M: StepMode,
{
    let api = node.post(&format!("{path}.json"), handler.clone());
    let form = node.group().after(back_to_page).post(path, handler);
    Action { api, form }
}

/// After a form's action succeeded: 303 to the page named by its `back` field, else to the
/// page above the action (`…/users/7/ban` → `…/users/7`).
pub fn back_to_page(cx: &Ctx<AppState>, res: &mut Response) {
    if !res.status().is_success() {
        return;
    }
    let parent = cx.path().rsplit_once('/').map_or(page::HOME, |(up, _)| up);
    let back = cx
        .resource::<Params>()
        .and_then(|p| p.get(BACK_FIELD))
        .filter(|b| !b.is_empty());
    let to = page::local_or(back, page::local_or(Some(parent), page::HOME));
    *res = page::redirect(to);
}
