//! Property tests: any request path dispatches — to a route, a 404 or a 405 — without a panic,
//! and a path parameter reads back what was sent.

use kotori::{Kotori, Path};
use proptest::prelude::*;

fn app() -> kotori::App<()> {
    let app = Kotori::new(());
    let users = app.node("/users/{id}");
    users.get("/show", |Path(id): Path<String>| async move { id });
    users.node("/posts").get("/{post}", || async { "post" });
    app.get("/files/{*rest}", || async { "file" });
    app.build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_path_is_answered_without_a_panic(path in "/[a-zA-Z0-9%/._~{}*-]{0,40}") {
        let app = app();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let Ok(uri) = path.parse::<http::Uri>() else { return Ok(()) };
        let status = runtime.block_on(async { app.client().get(&uri.to_string()).send().await.status() });
        prop_assert!(status != 500, "{} answered 500", path);
    }

    #[test]
    fn a_parameter_reads_back_decoded(id in "\\PC{1,12}") {
        let app = app();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let encoded: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
        let res = runtime.block_on(async { app.client().get(&format!("/users/{encoded}/show")).send().await });
        prop_assert_eq!(res.status(), 200);
        prop_assert_eq!(res.text(), id);
    }
}
