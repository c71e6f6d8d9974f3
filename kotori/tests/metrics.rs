//! Measurements keyed by the tree (feature `metrics`): the series a built app lists are the
//! ones a run produces, labelled with the route template, the refusing step and its code.
#![cfg(feature = "metrics")]

mod common;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use kotori::metrics::{EXTRA_PER_PLACE, Instrument, Metrics, Series, Value};
use kotori::sse::{Event, Sse};
use kotori::{Kotori, Path, Rejection};

/// The measurement tests' tree (`common::users`): every answer declared.
fn app() -> (kotori::App<()>, kotori::metrics::MetricsHandle) {
    let app = Kotori::new(());
    let metrics = app.metrics();
    common::users::mount(&app);
    (app.build().unwrap(), metrics)
}

async fn call(app: &kotori::App<()>, method: Method, path: &str, token: bool) -> StatusCode {
    let mut req = Request::builder().method(method).uri(path);
    if token {
        req = req.header("authorization", "Bearer t");
    }
    let req = req.body(Full::new(Bytes::new())).unwrap();
    app.dispatch(req).await.status()
}

/// The histogram series that hold at least one observation.
fn seen(metrics: &Metrics) -> BTreeSet<Series> {
    metrics
        .observed()
        .into_iter()
        .filter(|(_, v)| v.count().is_some_and(|n| n > 0))
        .map(|(s, _)| s)
        .collect()
}

fn count(metrics: &Metrics, want: &[(&str, &str)]) -> u64 {
    metrics
        .observed()
        .into_iter()
        .filter(|(s, _)| s.instrument == Instrument::RequestDuration)
        .filter(|(s, _)| want.iter().all(|(k, v)| s.label(k) == Some(v)))
        .filter_map(|(_, v)| v.count())
        .sum()
}

#[tokio::test]
async fn the_listed_series_are_the_ones_a_run_produces() {
    let (app, handle) = app();
    let metrics = handle.get().expect("filled by build()");
    assert!(std::ptr::eq(metrics, app.metrics()));
    // Every declared answer, once: the success, and a refusal by each step.
    assert_eq!(
        call(&app, Method::GET, "/api/users/7/show", true).await,
        200
    );
    assert_eq!(
        call(&app, Method::GET, "/api/users/7/show", false).await,
        401
    );
    assert_eq!(
        call(&app, Method::GET, "/api/users/700/show", true).await,
        404
    );
    assert_eq!(
        call(&app, Method::GET, "/api/users/13/show", true).await,
        403
    );

    let listed: BTreeSet<Series> = metrics
        .series()
        .into_iter()
        .filter(|s| s.instrument != Instrument::ActiveRequests)
        .collect();
    assert_eq!(
        seen(metrics),
        listed,
        "listed at build() = produced by the run"
    );

    let refused = |step: &str, status: &str, code: &str| {
        count(
            metrics,
            &[
                ("http.route", "/api/users/{id}/show"),
                ("http.request.method", "GET"),
                ("kotori.step", step),
                ("http.response.status_code", status),
                ("kotori.code", code),
            ],
        )
    };
    assert_eq!(
        refused("metrics::common::users::require_token", "401", "40105"),
        1
    );
    assert_eq!(
        refused("metrics::common::users::load_user", "404", "40402"),
        1
    );
    assert_eq!(refused("metrics::common::users::show", "403", "40301"), 1);
    // The success names no step and no code.
    let ok = metrics
        .observed()
        .into_iter()
        .find(|(s, _)| s.label("http.response.status_code") == Some("200"))
        .unwrap();
    assert_eq!(
        (ok.0.label("kotori.step"), ok.0.label("kotori.code")),
        (None, None)
    );
    assert_eq!(ok.1.count(), Some(1));
    // The loader awaited: its time is a step series, by outcome.
    let step = |outcome: &str| {
        metrics
            .observed()
            .into_iter()
            .find(|(s, _)| {
                s.instrument == Instrument::StepDuration
                    && s.label("kotori.step") == Some("metrics::common::users::load_user")
                    && s.label("kotori.outcome") == Some(outcome)
            })
            .and_then(|(_, v)| v.count())
    };
    assert_eq!((step("pass"), step("refuse")), (Some(2), Some(1)));
    assert_eq!(metrics.dropped(), 0);
}

#[tokio::test]
async fn no_route_is_labelled_by_its_node_and_methods_stay_a_bounded_set() {
    let (app, handle) = app();
    let metrics = handle.get().unwrap();
    // A path under /api that no route matches: the node's guard refuses, then a 404.
    assert_eq!(
        call(&app, Method::GET, "/api/nothing/here", false).await,
        401
    );
    assert_eq!(
        call(&app, Method::GET, "/api/nothing/here", true).await,
        404
    );
    // A method nobody routes, and one nobody has heard of.
    assert_eq!(
        call(&app, Method::DELETE, "/api/users/7/show", true).await,
        405
    );
    let brew = Method::from_bytes(b"BREW").unwrap();
    assert_eq!(call(&app, brew, "/api/users/7/show", true).await, 405);

    let without_route: Vec<Series> = seen(metrics)
        .into_iter()
        .filter(|s| s.instrument == Instrument::RequestDuration)
        .inspect(|s| assert_eq!(s.label("http.route"), None, "{s:?}"))
        .collect();
    let node = |s: &Series| s.label("kotori.node").map(str::to_owned);
    assert!(without_route.iter().all(|s| node(s).is_some()));
    assert_eq!(
        count(
            metrics,
            &[
                ("kotori.node", "/api"),
                ("kotori.step", "metrics::common::users::require_token")
            ]
        ),
        1,
        "refused by the node's guard, under the node's prefix"
    );
    assert_eq!(
        count(
            metrics,
            &[
                ("kotori.node", "/api"),
                ("http.response.status_code", "404")
            ]
        ),
        1,
        "kotori's own 404 names no step"
    );
    assert!(
        without_route
            .iter()
            .filter(|s| s.label("http.response.status_code") == Some("404"))
            .all(|s| s.label("kotori.step").is_none())
    );
    assert_eq!(count(metrics, &[("http.request.method", "_OTHER")]), 1);
    assert_eq!(count(metrics, &[("http.request.method", "DELETE")]), 1);
}

#[tokio::test]
async fn undeclared_answers_get_a_bounded_number_of_series() {
    let app = Kotori::new(());
    let metrics = app.metrics();
    // A handler that answers whatever status it is asked for: nothing declared.
    app.get("/status/{code}", |Path(code): Path<u16>| async move {
        Rejection::from_status(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST))
    });
    let app = app.build().unwrap();
    let statuses = 400..(400 + EXTRA_PER_PLACE as u16 + 10);
    for code in statuses.clone() {
        call(&app, Method::GET, &format!("/status/{code}"), false).await;
    }
    let metrics = metrics.get().unwrap();
    let extra = metrics
        .observed()
        .into_iter()
        .filter(|(s, v)| {
            s.instrument == Instrument::RequestDuration && v.count().is_some_and(|n| n > 0)
        })
        .count();
    assert_eq!(
        extra, EXTRA_PER_PLACE,
        "at most {EXTRA_PER_PLACE} undeclared series"
    );
    assert_eq!(metrics.dropped(), 10, "the rest only counted");
}

#[tokio::test]
async fn active_requests_and_open_streams_follow_their_lives() {
    let app = Kotori::new(());
    let metrics = app.metrics();
    let (release, wait) = tokio::sync::watch::channel(false);
    app.get("/slow", move || {
        let mut wait = wait.clone();
        async move {
            let _ = wait.wait_for(|go| *go).await;
            "done"
        }
    });
    app.get("/events", || async {
        let events = futures_util::stream::iter([Ok::<_, Infallible>(Event::default().data("hi"))])
            .chain(futures_util::stream::pending());
        Sse::new(events)
    });
    let app = app.build().unwrap();
    let metrics = metrics.get().unwrap();
    let gauge = |instrument: Instrument, route: &str| {
        metrics
            .observed()
            .into_iter()
            .filter(|(s, _)| s.instrument == instrument && s.label("http.route") == Some(route))
            .map(|(_, v)| match v {
                Value::Gauge(n) => n,
                Value::Histogram(_) => unreachable!("a gauge"),
            })
            .sum::<i64>()
    };

    // Two slow requests in flight, then one given up by its client (its future dropped).
    let request = || Request::get("/slow").body(Full::new(Bytes::new())).unwrap();
    let first = tokio::spawn({
        let app = app.clone();
        async move { app.dispatch(request()).await.status() }
    });
    let mut abandoned = Box::pin(app.dispatch(request()));
    let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(abandoned.as_mut().poll(cx)));
    assert!(polled.await.is_pending());
    while gauge(Instrument::ActiveRequests, "/slow") < 2 {
        tokio::task::yield_now().await;
    }
    drop(abandoned);
    assert_eq!(gauge(Instrument::ActiveRequests, "/slow"), 1);
    release.send(true).unwrap();
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(gauge(Instrument::ActiveRequests, "/slow"), 0);

    // An SSE response is an open stream until its body is dropped; its request is over.
    let events = app
        .dispatch(
            Request::get("/events")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await;
    assert_eq!(gauge(Instrument::OpenStreams, "/events"), 1);
    assert_eq!(gauge(Instrument::ActiveRequests, "/events"), 0);
    drop(events);
    assert_eq!(gauge(Instrument::OpenStreams, "/events"), 0);
}

/// What the renderer and the after hooks know of a request's place: its route (or, when no
/// route matched, its node) and the step that refused it, as the tree prints them — for a log
/// line that says which guard refused what, never the raw path.
#[tokio::test]
async fn the_renderer_and_the_after_hooks_see_the_route_and_the_refusing_step() {
    use kotori::{Ctx, Response};
    use std::sync::{Arc, Mutex};
    type Place = (Option<String>, Option<String>, Option<String>, Option<u32>);
    fn place<S>(cx: &Ctx<S>) -> Place {
        let own = |s: Option<&str>| s.map(str::to_owned);
        let refused_by = own(cx.refused_by());
        (
            own(cx.route()),
            own(cx.node()),
            refused_by,
            cx.rejection_code(),
        )
    }
    let hooked: Arc<Mutex<Vec<Place>>> = Arc::default();
    let rendered: Arc<Mutex<Vec<Place>>> = Arc::default();
    let app = Kotori::new(());
    let (hook, render) = (Arc::clone(&hooked), Arc::clone(&rendered));
    app.after(move |cx: &Ctx<()>, _: &mut Response| hook.lock().unwrap().push(place(cx)))
        .render(move |cx: &Ctx<()>, rejection: &Rejection| {
            render.lock().unwrap().push(place(cx));
            kotori::render::default(cx, rejection)
        });
    common::users::mount(&app);
    // A step sees its route too (a limit or a cache keyed by what was asked).
    fn route_of(cx: &mut Ctx<()>) -> Result<String, Rejection> {
        Ok(format!("{:?} {:?}", cx.route(), cx.refused_by()))
    }
    app.get("/where/{id}", route_of);
    let app = app.build().unwrap();
    let res = app.client().get("/where/7").send().await;
    assert_eq!(res.text(), r#"Some("/where/{id}") None"#);
    hooked.lock().unwrap().clear();
    let owned = |route: Option<&str>, node: Option<&str>, step: Option<&str>, code| -> Place {
        (
            route.map(str::to_owned),
            node.map(str::to_owned),
            step.map(str::to_owned),
            code,
        )
    };
    let show = Some("/api/users/{id}/show");
    let step = |name: &str| format!("metrics::common::users::{name}");
    let (token, user, handler) = (step("require_token"), step("load_user"), step("show"));
    for (path, with_token, want) in [
        ("/api/users/7/show", true, owned(show, None, None, None)),
        (
            "/api/users/7/show",
            false,
            owned(show, None, Some(&token), Some(40105)),
        ),
        (
            "/api/users/700/show",
            true,
            owned(show, None, Some(&user), Some(40402)),
        ),
        (
            "/api/users/13/show",
            true,
            owned(show, None, Some(&handler), Some(40301)),
        ),
        (
            "/api/users/7/nothing",
            true,
            owned(None, Some("/api/users/{id}"), None, Some(40401)),
        ),
        (
            "/api/nothing",
            false,
            owned(None, Some("/api"), Some(&token), Some(40105)),
        ),
        ("/nothing", false, owned(None, Some("/"), None, Some(40401))),
    ] {
        let status = call(&app, Method::GET, path, with_token).await;
        let last = hooked.lock().unwrap().pop().expect("the hook ran");
        assert_eq!(last, want, "{path} (token: {with_token}): {status}");
        if status != StatusCode::OK {
            let rendered = rendered.lock().unwrap().pop().expect("rendered");
            assert_eq!(rendered, want, "{path}, as the renderer saw it");
        }
    }
}
