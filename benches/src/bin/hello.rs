//! The guarded-hello servers of the load test: `hello kotori|axum|hyper ADDR`.
//!
//! kotori and axum serve `/l0/l1/l2/l3/hello` behind four guards (the depth-4 case of the
//! dispatch benches); bare hyper answers hello to anything — the physical floor. All three run
//! on one current-thread runtime, so pinning the process to one core pins the server.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use kotori_benches::cases;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(which), Some(addr)) = (args.next(), args.next()) else {
        eprintln!("usage: hello kotori|axum|hyper ADDR");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        eprintln!("{which} serving on http://{addr}/l0/l1/l2/l3/hello");
        match which.as_str() {
            "kotori" => kotori::serve(listener, cases::chain(4).kotori).await,
            "axum" => axum::serve(listener, cases::chain(4).axum).await,
            "hyper" => loop {
                let (stream, _) = listener.accept().await?;
                tokio::spawn(async move {
                    let service = service_fn(|_req| async {
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                            b"hello",
                        ))))
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            },
            other => {
                eprintln!("unknown server `{other}`: kotori, axum or hyper");
                std::process::exit(2);
            }
        }
    })
}
