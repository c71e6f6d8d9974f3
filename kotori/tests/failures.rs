//! Failures: panics become 500s rendered like any rejection (after hooks included) and serving
//! goes on; oversize bodies get 413; timeouts 503; malformed bodies 400.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Trace, after, captured_log};
use kotori::{Ctx, Form, Kotori, Rejection};
use serde::Deserialize;

fn panicking_app() -> (Trace, kotori::App<Trace>) {
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    app.after(after("root.after"));
    app.node("/sync-guard")
        .guard(|_: &mut Ctx<Trace>| -> Result<(), Rejection> { panic!("secret detail") })
        .get("/x", || async { "unreachable" });
    app.node("/async-guard")
        .guard(|| async {
            tokio::task::yield_now().await;
            if true {
                panic!("secret detail");
            }
            Ok::<(), Rejection>(())
        })
        .get("/x", || async { "unreachable" });
    app.get("/sync-handler", |_: &mut Ctx<Trace>| -> &'static str {
        panic!("secret detail")
    });
    app.get("/async-handler.json", || async {
        if true {
            panic!("secret detail");
        }
        "unreachable"
    });
    app.get("/fine", || async { "fine" });
    (trace, app.build().unwrap())
}

#[tokio::test]
async fn a_panic_anywhere_becomes_a_rendered_500_and_serving_goes_on() {
    let (trace, app) = panicking_app();
    for path in [
        "/sync-guard/x",
        "/async-guard/x",
        "/sync-handler",
        "/async-handler.json",
    ] {
        let res = app.client().get(path).send().await;
        assert_eq!(res.status(), 500, "{path}");
        assert!(
            !res.text().contains("secret"),
            "{path}: no panic detail leaks"
        );
        assert_eq!(
            trace.take(),
            ["root.after:500"],
            "{path}: after hooks still run"
        );
        let res = app.client().get("/fine").send().await;
        assert_eq!(res.text(), "fine", "after {path}");
        trace.take();
    }
    let res = app.client().get("/async-handler.json").send().await;
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({"code": 50001, "message": "Internal Server Error"})
    );
}

#[tokio::test]
async fn a_panicking_after_hook_or_renderer_fails_closed_with_a_plain_500() {
    let app = Kotori::new(());
    // The outer hook still runs, on the 500.
    app.after(|_: &Ctx<()>, res: &mut kotori::Response| {
        res.headers_mut().insert("x-outer", "seen".parse().unwrap());
    });
    // A hook that removes a secret header, then panics half-way: the header must not go out.
    app.node("/a")
        .after(|_: &Ctx<()>, res: &mut kotori::Response| {
            res.headers_mut()
                .insert("x-redacted", "no".parse().unwrap());
            panic!("after hook")
        })
        .get("/x", || async {
            let mut res = kotori::Response::new("secret".into());
            res.headers_mut()
                .insert("x-secret", "s3cr3t".parse().unwrap());
            res
        });
    app.node("/b")
        .render(|_: &Ctx<()>, _: &Rejection| -> kotori::Response { panic!("renderer") })
        .get("/x", || async {
            Rejection::from_status(http::StatusCode::TOO_MANY_REQUESTS)
                .with_header(http::header::RETRY_AFTER, "5".parse().unwrap())
        });
    let app = app.build().unwrap();
    let res = app.client().get("/a/x").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "Internal Server Error");
    assert!(res.header("x-secret").is_none() && res.header("x-redacted").is_none());
    assert_eq!(res.header("x-outer"), Some("seen"));
    let res = app.client().get("/b/x").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "Internal Server Error");
    assert!(
        res.header("retry-after").is_none(),
        "nothing of the refusal's response"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_declared_or_not() {
    let app = Kotori::new(());
    let small = app.node("/small").body_limit(8);
    small.post("/echo", |body: Bytes| async move { body });
    small
        .post("/big", |body: Bytes| async move { body })
        .body_limit(64);
    small
        .node("/inner")
        .post("/echo", |body: Bytes| async move { body });
    app.post(
        "/default",
        |body: Bytes| async move { body.len().to_string() },
    );
    let app = app.build().unwrap();

    let ok = app
        .client()
        .post("/small/echo")
        .body("12345678")
        .send()
        .await;
    assert_eq!(ok.text(), "12345678");
    // No Content-Length: the limit is enforced while reading.
    let res = app
        .client()
        .post("/small/echo")
        .body("123456789")
        .send()
        .await;
    assert_eq!(res.status(), 413);
    // The message says what the limit is: the client's fix.
    assert!(res.text().contains("limit of 8 bytes"), "{}", res.text());
    // A declared length over the limit is refused before reading.
    let res = app
        .client()
        .post("/small/echo")
        .header("content-length", "9")
        .body("123456789")
        .send()
        .await;
    assert_eq!(res.status(), 413);
    assert!(res.text().contains("limit of 8 bytes"), "{}", res.text());
    // Inherited below, overridden on a route.
    let res = app
        .client()
        .post("/small/inner/echo")
        .body("123456789")
        .send()
        .await;
    assert_eq!(res.status(), 413);
    let res = app
        .client()
        .post("/small/big")
        .body("123456789")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    let big = vec![b'x'; kotori::limits::DEFAULT_BODY_LIMIT + 1];
    let res = app.client().post("/default").body(big).send().await;
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn the_body_is_read_before_the_first_step_that_takes_it() {
    #[derive(Deserialize)]
    struct Signed {
        sign: String,
    }
    let app = Kotori::new(());
    app.node("/api")
        .guard(|Form(signed): Form<Signed>| {
            if signed.sign == "good" {
                Ok(())
            } else {
                Err(Rejection::unauthorized())
            }
        })
        .post(
            "/x",
            |Form(signed): Form<Signed>| async move { signed.sign },
        );
    app.post("/raw", |cx: &mut Ctx<()>| {
        cx.body().map(|b| b.len().to_string())
    });
    let app = app.build().unwrap();

    let res = app
        .client()
        .post("/api/x")
        .form(&[("sign", "good")])
        .send()
        .await;
    assert_eq!(res.text(), "good");
    let res = app
        .client()
        .post("/api/x")
        .form(&[("sign", "bad")])
        .send()
        .await;
    assert_eq!(res.status(), 401);
    let res = app.client().post("/api/x").body("%zz=&&").send().await;
    assert_eq!(res.status(), 400);
    let res = app.client().post("/raw").body("four").send().await;
    assert_eq!(
        res.text(),
        "4",
        "a raw handler gets the body read before it"
    );
}

#[tokio::test]
async fn a_raw_guard_reading_an_unread_body_gets_a_generic_500_and_the_log_says_what_to_do() {
    let log = captured_log();
    let app = Kotori::new(());
    app.node("/x")
        .guard(|cx: &mut Ctx<()>| cx.body().map(|_| ()))
        .post("/y", || async { "" });
    let app = app.build().unwrap();
    let res = app
        .client()
        .post("/x/y")
        .header("x-request-id", "unread-body-1")
        .body("data")
        .send()
        .await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "Internal Server Error");
    let logged = log.text();
    let line = logged
        .lines()
        .find(|l| l.contains("unread-body-1"))
        .expect("the 500 is logged with its request id");
    assert!(line.contains("Bytes, Form or Json extractor"), "{line}");
}

#[tokio::test(start_paused = true)]
async fn a_request_past_its_timeout_gets_503_and_its_after_hooks() {
    let trace = Trace::default();
    let app = Kotori::new(trace.clone());
    app.after(after("root.after"));
    let slow = app.node("/slow").timeout(Duration::from_secs(5));
    slow.get("/x", || async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        "late"
    });
    slow.get("/quick", || async { "quick" });
    let app = app.build().unwrap();

    // The clock is paused: tokio advances it instantly, nothing waits for real.
    let res = app.client().get("/slow/x").send().await;
    assert_eq!(res.status(), 503);
    assert_eq!(trace.take(), ["root.after:503"]);
    assert_eq!(app.client().get("/slow/quick").send().await.text(), "quick");
}

#[tokio::test]
async fn malformed_json_and_query_are_400_naming_the_problem() {
    #[derive(Deserialize, serde::Serialize)]
    struct Page {
        page: u32,
    }
    let app = Kotori::new(());
    app.post("/json", |kotori::Json(p): kotori::Json<Page>| async move {
        p.page.to_string()
    });
    app.get(
        "/query",
        |kotori::Query(p): kotori::Query<Page>| async move { p.page.to_string() },
    );
    let app = app.build().unwrap();

    assert_eq!(
        app.client()
            .post("/json")
            .json(&Page { page: 3 })
            .send()
            .await
            .text(),
        "3"
    );
    let res = app.client().post("/json").body("{").send().await;
    assert_eq!(res.status(), 400);
    assert!(res.text().contains("JSON"), "{}", res.text());
    assert_eq!(app.client().get("/query?page=4").send().await.text(), "4");
    let res = app.client().get("/query?page=x").send().await;
    assert_eq!(res.status(), 400);
    assert!(res.text().starts_with("bad query string"), "{}", res.text());
}

#[tokio::test]
async fn a_panic_is_logged_with_the_request_id_and_its_message() {
    let log = captured_log();
    let (_, app) = panicking_app();
    let res = app
        .client()
        .get("/sync-handler")
        .header("x-request-id", "req-42")
        .send()
        .await;
    assert_eq!(res.status(), 500);
    assert!(!res.text().contains("secret"));
    let logged = log.text();
    let line = logged
        .lines()
        .find(|l| l.contains("req-42"))
        .unwrap_or_else(|| panic!("no log line with the request id in:\n{logged}"));
    assert!(line.contains("secret detail"), "{line}");
    assert!(line.contains("/sync-handler"), "{line}");
}

#[tokio::test]
async fn a_loader_that_takes_the_body_reads_it_within_the_node_limit() {
    let app = Kotori::new(());
    app.node("/n")
        .body_limit(8)
        .load(|body: Bytes| Some(body.len()))
        .post("/x", |n: kotori::Res<usize>| async move { n.to_string() });
    let app = app.build().unwrap();
    assert_eq!(
        app.client().post("/n/x").body("1234").send().await.text(),
        "4"
    );
    assert_eq!(
        app.client()
            .post("/n/x")
            .body("123456789")
            .send()
            .await
            .status(),
        413
    );
}

/// A hand-written guard that claims to be synchronous but returns a future.
struct Liar;

enum ByHand {}

impl kotori::step::Guard<(), ByHand, kotori::step::mode::Sync> for Liar {
    fn call<'a>(&'a self, _: &'a mut Ctx<()>) -> kotori::step::Flow<'a, kotori::step::Outcome> {
        kotori::step::Flow::Pending(Box::pin(async { kotori::step::Outcome::pass() }))
    }
    fn needs(&self) -> Vec<kotori::extract::Needs> {
        Vec::new()
    }
}

#[tokio::test]
async fn a_step_marked_sync_that_returns_a_future_is_a_500_and_serving_goes_on() {
    let app = Kotori::new(());
    app.node("/lie").guard(Liar).get("/x", || "unreachable");
    app.get("/fine", || "fine");
    let app = app.build().unwrap();
    let res = app.client().get("/lie/x").send().await;
    assert_eq!(res.status(), 500);
    assert!(
        !res.text().contains("mode::"),
        "the explanation goes to the log, not the client"
    );
    assert_eq!(app.client().get("/fine").send().await.text(), "fine");
}
