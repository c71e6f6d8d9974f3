//! Path handling: any request target is answered — a route, 404, 405 or 400 — never a panic
//! and never a 500, and a path parameter reads back what was sent.
#![no_main]

use std::sync::OnceLock;

use kotori::{Kotori, Path};
use libfuzzer_sys::fuzz_target;

fn app() -> &'static kotori::App<()> {
    static APP: OnceLock<kotori::App<()>> = OnceLock::new();
    APP.get_or_init(|| {
        let app = Kotori::new(());
        let users = app.node("/users/{id}");
        users.get("/show", |Path(id): Path<String>| async move { id });
        users.node("/posts").get("/{post}", || async { "post" });
        app.get("/files/{*rest}", || async { "file" });
        app.build().unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let Ok(uri) = format!("/{path}").parse::<http::Uri>() else { return };
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let status = runtime.block_on(async { app().client().get(&uri.to_string()).send().await.status() });
    assert_ne!(status, 500, "{uri} answered 500");
});
