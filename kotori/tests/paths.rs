//! Paths: Flask-style prefix joining, and conflicting, duplicate or invalid routes as build
//! errors that name both routes.

use kotori::{Kotori, Problem};

async fn ok() -> &'static str {
    "ok"
}

/// DESIGN's joining table: `prefix.trim_end('/') + '/' + rule.trim_start('/')`, and an empty
/// rule leaves the prefix as it is.
#[test]
fn prefixes_join_like_flask() {
    let cases = [
        ("/foo/", "/bar", "/foo/bar"),
        ("/foo", "bar", "/foo/bar"),
        ("/foo//", "/bar", "/foo/bar"),
        ("/foo", "/bar", "/foo/bar"),
        ("/foo", "", "/foo"),
        ("/foo/", "", "/foo/"),
        ("/foo", "/", "/foo/"),
        ("", "/bar", "/bar"),
        ("", "", "/"),
        ("foo", "bar", "/foo/bar"),
    ];
    for (prefix, rule, expected) in cases {
        let app = Kotori::new(());
        app.node(prefix).get(rule, ok);
        let app = app.build().unwrap();
        assert_eq!(app.routes()[0].path(), expected, "{prefix:?} + {rule:?}");
    }
}

#[test]
fn nested_prefixes_and_groups_concatenate() {
    let app = Kotori::new(());
    app.node("/manage/")
        .node("/{service}")
        .group()
        .node("{identity}/api/")
        .get("/courses/{id}/show.json", ok);
    let app = app.build().unwrap();
    assert_eq!(
        app.routes()[0].path(),
        "/manage/{service}/{identity}/api/courses/{id}/show.json"
    );
}

#[test]
fn a_duplicate_route_is_a_build_error_naming_both() {
    let app = Kotori::new(());
    app.node("/a").get("/x", ok);
    app.group().get("/a/x", || async { "again" });
    let err = app.build().err().expect("duplicate");
    match &err.problems()[0] {
        Problem::Duplicate { first, second } => {
            assert!(
                first.contains("GET /a/x") && first.contains("::ok"),
                "{first}"
            );
            assert!(second.contains("GET /a/x"), "{second}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn the_same_path_with_other_methods_is_fine() {
    let app = Kotori::new(());
    app.get("/x", ok);
    app.post("/x", ok);
    app.delete("/x", ok);
    assert_eq!(app.build().unwrap().routes().len(), 3);
}

#[test]
fn conflicting_routes_are_a_build_error_naming_both() {
    let app = Kotori::new(());
    app.get("/users/{id}", ok);
    app.get("/users/{name}", || async { "other" });
    let err = app.build().err().expect("conflict");
    match &err.problems()[0] {
        Problem::Conflict { route, with } => {
            assert!(route.contains("/users/{name}"), "{route}");
            assert!(
                with.contains("GET /users/{id}") && with.contains("::ok"),
                "{with}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let app = Kotori::new(());
    app.get("/a", ok);
    app.get("/a", ok);
    app.get("/b/{x}", ok);
    app.get("/b/{y}", ok);
    app.node("/bad?prefix").get("/c", ok);
    app.node("/files/{*rest}").get("/d", ok);
    let err = app.build().err().expect("four problems");
    assert_eq!(err.problems().len(), 4, "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("the kotori tree has 4 problems:"),
        "{text}"
    );
    assert!(text.contains("catch-all"), "{text}");
}

#[test]
fn an_invalid_route_pattern_is_a_build_error() {
    let app = Kotori::new(());
    app.get("/x/{unclosed", ok);
    let err = app.build().err().expect("invalid");
    assert!(
        matches!(err.problems()[0], Problem::InvalidPath { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn catch_all_routes_and_static_routes_coexist() {
    let app = Kotori::new(());
    app.get("/files/{*path}", |cx: &mut kotori::Ctx<()>| {
        cx.param("path").unwrap().into_owned()
    });
    app.get("/files/index", ok);
    let app = app.build().unwrap();
    assert_eq!(
        app.client().get("/files/a/b.txt").send().await.text(),
        "a/b.txt"
    );
    assert_eq!(app.client().get("/files/index").send().await.text(), "ok");
}
