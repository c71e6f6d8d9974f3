//! The moderation queue and a report's page.

use http::Method;
use kotori::{Ctx, Res, Response, State};
use serde_json::json;

use super::ADMIN;
use crate::codes::AppError;
use crate::envelope::data_of;
use crate::manage::page::Page;
use crate::params::Params;
use crate::safety::moderation::{self, Report};
use crate::state::AppState;

/// `GET …/reports` (`status`: `open` by default, or `resolved`; `page`).
#[kotori::handler]
pub async fn queue(
    cx: &mut Ctx<AppState>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let status = match params.get("status") {
        Some("resolved") => "resolved",
        _ => "open",
    };
    let mut pairs = params.pairs().to_vec();
    pairs.retain(|(k, _)| k != "status");
    pairs.push(("status".into(), status.into()));
    let found = moderation::reports(&state, &Params::from_pairs(pairs)).await?;
    Ok(Page::listing("reports.html", "Reports", found, &params)
        .with("status", status)
        .render(cx)
        .await)
}

/// `GET …/reports/{report_id}`: the report, the reported user and the message it names; the
/// resolve form offers `ban` only to an operator who may ban that user.
#[kotori::handler]
pub async fn show(
    cx: &mut Ctx<AppState>,
    report: Res<Report>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let shown = data_of(moderation::show(report.clone(), State(state)).await?);
    let here = format!("{ADMIN}/reports/{}", report.0.id);
    let may_resolve = Page::may(cx, Method::POST, &format!("{here}/resolve")).await;
    let ban = format!("{ADMIN}/users/{}/ban", report.0.reported_id);
    let may_ban = may_resolve && Page::may(cx, Method::POST, &ban).await;
    let may_open_user = Page::may(
        cx,
        Method::GET,
        &format!("{ADMIN}/users/{}", report.0.reported_id),
    )
    .await;
    Ok(Page::new("report.html", format!("Report {}", report.0.id))
        .with("report", shown)
        .with(
            "may",
            json!({ "resolve": may_resolve, "ban": may_ban, "open_user": may_open_user }),
        )
        .render(cx)
        .await)
}
