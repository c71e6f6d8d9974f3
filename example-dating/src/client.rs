//! A signing client: what `example-dating call` uses, and the black-box tests too. It fills in
//! `appkey`, `timestamp`, `nonce`, `token` and `sign` so nobody computes MD5 by hand.

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::config::AppConfig;
use crate::signing::{self, Signed};

/// Signs requests as one app.
#[derive(Clone, Debug)]
pub struct Signer {
    app: AppConfig,
}

impl Signer {
    /// A signer for `app`.
    pub fn new(app: AppConfig) -> Self {
        Signer { app }
    }

    /// The parameters to send: `params` plus appkey, timestamp, nonce, token (when given)
    /// and sign, for this exact timestamp and nonce.
    pub fn sign_with(
        &self,
        method: &Method,
        path: &str,
        params: &[(String, String)],
        token: Option<&str>,
        timestamp: &str,
        nonce: &str,
    ) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = params.to_vec();
        all.push(("appkey".into(), self.app.appkey.clone()));
        all.push(("timestamp".into(), timestamp.into()));
        all.push(("nonce".into(), nonce.into()));
        if let Some(token) = token {
            all.push(("token".into(), token.into()));
        }
        let signed = Signed {
            method: method.as_str(),
            path,
            appkey: &self.app.appkey,
            token: token.unwrap_or(""),
            timestamp,
            nonce,
        };
        let sign = signing::sign(
            self.app.scheme,
            all.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &signed,
            &self.app.secret,
        );
        all.push(("sign".into(), sign));
        all
    }

    /// [`Signer::sign_with`] the current time (seconds) and a fresh random nonce.
    pub fn sign(
        &self,
        method: &Method,
        path: &str,
        params: &[(String, String)],
        token: Option<&str>,
    ) -> Vec<(String, String)> {
        let timestamp = crate::clock::now().to_string();
        self.sign_with(
            method,
            path,
            params,
            token,
            &timestamp,
            &crate::random::hex_token(8),
        )
    }
}

/// `k=v&...`, form-encoded.
pub fn encode(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// An HTTP request carrying `params` the way the API expects: the query for GET, a form body
/// otherwise.
pub fn request(method: Method, path: &str, params: &[(String, String)]) -> Request<Full<Bytes>> {
    let encoded = encode(params);
    let builder = Request::builder().header("host", "localhost");
    if method == Method::GET || method == Method::HEAD {
        builder
            .method(method)
            .uri(format!("{path}?{encoded}"))
            .body(Full::new(Bytes::new()))
    } else {
        builder
            .method(method)
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(encoded)))
    }
    .expect("a valid request")
}

/// Sends `request` to `addr` over HTTP/1.1 and returns the status and body.
pub async fn send(
    addr: &str,
    request: Request<Full<Bytes>>,
) -> Result<(http::StatusCode, String), String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
