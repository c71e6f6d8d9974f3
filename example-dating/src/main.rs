//! example-dating: the reference application of kotori (a dating-app backend).
//!
//! For now it serves the operational routes through kotori; the API of shared/API.md lands
//! with the example-dating issues.

use std::net::SocketAddr;

use kotori::{Json, Kotori};

/// `GET /healthz`: 200 while the process serves.
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "code": 0, "msg": "success", "data": {} }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let app = Kotori::new(());
    app.get("/healthz", healthz);
    let app = app.build()?;

    let addr: SocketAddr = std::env::var("LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:8080".into())
        .parse()
        .map_err(|e| format!("LISTEN must be an address like 127.0.0.1:8080: {e}"))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("example-dating listening on http://{addr}");
    println!("routes:\n{}", app.tree());
    println!("try: curl http://{addr}/healthz");
    kotori::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
