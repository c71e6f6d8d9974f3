//! HTTPS over a real socket: a self-signed certificate made in the test, ALPN choosing HTTP/2
//! or HTTP/1.1, and the same tree behind it.

mod net;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kotori::Kotori;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

struct Pki {
    server: rustls::ServerConfig,
    cert: CertificateDer<'static>,
}

fn pki() -> Pki {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = made.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    Pki { server, cert }
}

/// A TLS client trusting only `cert`, offering `alpn`.
async fn handshake(
    addr: std::net::SocketAddr,
    cert: &CertificateDer<'static>,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn https_with_alpn_serves_http2_and_http1() {
    let Pki { server, cert } = pki();
    let app = Kotori::new(());
    app.get("/hello", || async { "secure hello" });
    let server = net::start(app.build().unwrap(), |s| s.tls(server)).await;

    // HTTP/2, chosen by ALPN.
    let tls = handshake(server.addr, &cert, &[b"h2", b"http/1.1"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let res = sender
        .send_request(
            Request::get("https://localhost/hello")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.version(), Version::HTTP_2);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "secure hello");

    // HTTP/1.1, for a client that offers only it.
    let tls = handshake(server.addr, &cert, &[b"http/1.1"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let res = sender.send_request(net::get("/hello")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), Version::HTTP_11);
    assert_eq!(net::text(res).await, "secure hello");

    // Plain HTTP on the TLS port is not served.
    let plain = TcpStream::connect(server.addr).await.unwrap();
    let attempt =
        hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(plain)).await;
    if let Ok((mut sender, conn)) = attempt {
        tokio::spawn(conn);
        assert!(sender.send_request(net::get("/hello")).await.is_err());
    }
    server.stop().await;
}
