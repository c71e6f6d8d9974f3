//! tower, both ways: tower-http layers wrap a built app (and really apply), axum nests it, and
//! a tower service mounted on a node sits behind the node's guards.

mod net;

use std::convert::Infallible;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use kotori::{Ctx, Kotori, Rejection};
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;

fn require_token(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    cx.header("authorization")
        .map(|_| ())
        .ok_or_else(Rejection::unauthorized)
}

fn app() -> kotori::App<()> {
    let app = Kotori::new(());
    app.get("/hello", || async { "hello ".repeat(200) });
    let private = app.node("/private").guard(require_token);
    private.get("/me", || async { "me" });
    // A tower service mounted behind the guard: it echoes the path it sees.
    let echo = tower::service_fn(|req: Request<kotori::Body>| async move {
        let body = format!("{} {}", req.method(), req.uri());
        Ok::<_, Infallible>(http::Response::new(kotori::Body::from(body)))
    });
    private.service("/files", echo);
    app.build().unwrap()
}

fn request(method: Method, path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn body_text<B: http_body::Body>(body: B) -> String
where
    B::Error: std::fmt::Debug,
{
    String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn tower_http_layers_wrap_the_app_and_apply() {
    let service = ServiceBuilder::new()
        .layer(CorsLayer::permissive())
        .layer(CompressionLayer::new())
        .service(app());

    let mut req = request(Method::GET, "/hello");
    req.headers_mut()
        .insert("accept-encoding", "gzip".parse().unwrap());
    req.headers_mut()
        .insert("origin", "https://example.com".parse().unwrap());
    let res = service.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-encoding"],
        "gzip",
        "compressed by tower-http"
    );
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "*",
        "CORS by tower-http"
    );

    // A preflight is answered by the CORS layer, before the tree.
    let mut preflight = request(Method::OPTIONS, "/private/me");
    preflight
        .headers_mut()
        .insert("origin", "https://example.com".parse().unwrap());
    preflight
        .headers_mut()
        .insert("access-control-request-method", "GET".parse().unwrap());
    let res = service.oneshot(preflight).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("access-control-allow-methods"));
}

#[tokio::test]
async fn axum_nests_the_app_and_the_guards_still_apply() {
    let router = axum::Router::new()
        .route("/", axum::routing::get(|| async { "axum" }))
        .nest_service("/kotori", app());
    let res = router
        .clone()
        .oneshot(
            Request::get("/kotori/hello")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body_text(res.into_body()).await.starts_with("hello"));
    let res = router
        .oneshot(
            Request::get("/kotori/private/me")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_mounted_service_is_behind_the_guards_above_it_and_listed_like_a_route() {
    let app = app();
    let res = app.client().get("/private/files/a/b.txt?x=1").send().await;
    assert_eq!(res.status(), 401, "the guard above the mount runs first");

    let res = app
        .client()
        .post("/private/files/a/b.txt?x=1")
        .header(http::header::AUTHORIZATION, "Bearer t")
        .body("data")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text(),
        "POST /a/b.txt?x=1",
        "the prefix is cut, the query kept"
    );
    let res = app
        .client()
        .get("/private/files")
        .header(http::header::AUTHORIZATION, "Bearer t")
        .send()
        .await;
    assert_eq!(res.text(), "GET /");

    let printed = app.tree().to_string();
    assert!(
        printed.contains("ANY /private/files/{*__kotori_rest}"),
        "{printed}"
    );
    assert!(printed.contains("service(ServiceFn)"), "{printed}");
    app.audit()
        .under("/private/files")
        .require("require_token")
        .unwrap();
}

#[tokio::test]
async fn serve_dir_mounted_under_a_guard_serves_files_over_a_real_socket() {
    let dir = std::env::temp_dir().join(format!("kotori-serve-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), "file a").unwrap();
    let app = Kotori::new(());
    app.node("/static")
        .guard(require_token)
        .service("/", tower_http::services::ServeDir::new(&dir));
    let server = net::start(app.build().unwrap(), |s| s).await;
    let mut client = net::http1(server.addr).await;
    let res = client
        .send_request(net::get("/static/a.txt"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let mut req = net::get("/static/a.txt");
    req.headers_mut()
        .insert("authorization", "Bearer t".parse().unwrap());
    let res = client.send_request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(net::text(res).await, "file a");
    server.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
