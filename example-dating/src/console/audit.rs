//! The audit log page.

use kotori::{Ctx, Res, Response, State};

use crate::codes::AppError;
use crate::envelope::data_of;
use crate::manage::audit;
use crate::manage::page::Page;
use crate::params::Params;
use crate::state::AppState;

/// `GET …/audit` (`target`, `operator_id`, `page`): newest first.
#[kotori::handler]
pub async fn log(
    cx: &mut Ctx<AppState>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let found = data_of(audit::list(params.clone(), State(state)).await?);
    Ok(Page::listing("audit.html", "Audit log", found, &params)
        .with("target", params.get("target").unwrap_or("").to_owned())
        .render(cx)
        .await)
}
