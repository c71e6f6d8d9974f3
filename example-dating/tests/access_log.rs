//! The access log (docs/src/dating/deployment.md, "Logs"): one line per request with its id,
//! its route's template (never only the raw path with its ids), its code, and the guard or
//! loader that refused it.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{TestApp, code};
use http::Method;

/// Log lines written to memory.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    /// The access line of the request `id`.
    fn of(&self, id: &str) -> String {
        let all = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        let wanted = format!("request_id=\"{id}\"");
        let mut found = all.lines().filter(|l| l.contains(&wanted));
        let line = found
            .next()
            .unwrap_or_else(|| panic!("no line for {id} in:\n{all}"));
        assert!(found.next().is_none(), "one line per request");
        line.to_owned()
    }
}

#[tokio::test]
async fn each_line_names_the_route_the_code_and_the_refusing_step() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter("access=info")
        .with_writer(move || writer.clone())
        .finish();
    let _log = tracing::subscriber::set_default(subscriber);
    let t = TestApp::new().await;
    let (token, me) = t.login("13800000001").await;
    let (_, other) = t.login("13800000002").await;

    let shown = t
        .call(
            Method::GET,
            &format!("/api/users/{other}/show"),
            &[],
            Some(&token),
        )
        .await;
    assert_eq!(code(&shown), 0);
    let line = lines.of(shown.header("x-request-id").unwrap());
    assert!(
        line.contains(&format!("path=\"/api/users/{other}/show\""))
            && line.contains("route=\"/api/users/{user_id}/show\"")
            && line.contains("status=200")
            && !line.contains("code=")
            && !line.contains("refused_by="),
        "{line}"
    );

    // Refused by the user loader: the unknown user's 40401, and the loader's name.
    let unknown = t
        .call(Method::GET, "/api/users/999999/show", &[], Some(&token))
        .await;
    assert_eq!(code(&unknown), 40401);
    let line = lines.of(unknown.header("x-request-id").unwrap());
    assert!(
        line.contains("route=\"/api/users/{user_id}/show\"")
            && line.contains("code=40401")
            && line.contains("refused_by=\"example_dating::users::target::load_target\""),
        "{line}"
    );

    // Refused by the signature guard, on a path no route has: the node it fell under.
    let unsigned = t
        .app
        .client()
        .get(&format!("/api/users/{me}/nothing"))
        .send()
        .await;
    assert_eq!(code(&unsigned), 40101);
    let line = lines.of(unsigned.header("x-request-id").unwrap());
    assert!(
        line.contains("route=\"/api/users/{user_id}\"")
            && line.contains("code=40101")
            && line.contains("refused_by=\"example_dating::auth::signature::"),
        "{line}"
    );
}
