//! DESIGN rule 12: a tree is finished by `build()`, every node is checked (with or without
//! routes), a parameter name appears once per path, and no input makes `build()` panic.

use kotori::{Ctx, Kotori, Path, Problem, Rejection, Res};

struct Live;

fn needs_live(_: Res<Live>) -> Result<(), Rejection> {
    Ok(())
}

#[test]
#[should_panic(expected = "already built")]
fn a_guard_added_after_build_panics_instead_of_protecting_nothing() {
    let app = Kotori::new(());
    let admin = app.node("/admin");
    admin.get("/users", || async { "everyone" });
    let _built = app.build().unwrap();
    admin.guard(|_: &mut Ctx<()>| Err::<(), _>(Rejection::forbidden()));
}

#[test]
#[should_panic(expected = "already built")]
fn a_route_added_after_build_panics() {
    let app = Kotori::new(());
    let api = app.node("/api");
    let _built = app.build().unwrap();
    api.get("/late", || async { "late" });
}

#[test]
fn a_route_less_node_whose_guard_needs_an_unloaded_resource_is_a_build_error() {
    let app = Kotori::new(());
    // No route below: before, this built and answered 500 to every request under /live.
    app.node("/live/{id}").guard(needs_live);
    let err = app
        .build()
        .err()
        .expect("the guard's resource is loaded nowhere");
    match err.problems() {
        [Problem::MissingResource { route, .. }] => {
            assert_eq!(route, "node `/live/{id}`");
        }
        other => panic!("unexpected problems {other:?}"),
    }
}

#[test]
fn a_node_step_is_reported_once_not_once_per_route() {
    let app = Kotori::new(());
    let live = app.node("/live/{id}").guard(needs_live);
    live.get("/a", || async { "" });
    live.get("/b", || async { "" });
    let err = app.build().err().unwrap();
    assert_eq!(err.problems().len(), 1, "{err}");
}

#[test]
fn the_same_parameter_name_twice_on_a_path_is_a_build_error_naming_both() {
    let app = Kotori::new(());
    app.node("/users/{id}")
        .node("/posts/{id}")
        .get("/show", |Path(id): Path<u64>| async move { id.to_string() });
    let err = app.build().err().expect("`{id}` twice");
    match err.problems() {
        [
            Problem::DuplicateParam {
                name,
                first,
                second,
            },
        ] => {
            assert_eq!(name, "id");
            assert_eq!(first, "/users/{id}");
            assert_eq!(second, "/users/{id}/posts/{id}");
        }
        other => panic!("unexpected problems {other:?}"),
    }
    assert!(err.to_string().contains("rename one of them"), "{err}");

    // In a route's own rule too.
    let app = Kotori::new(());
    app.node("/users/{id}").get("/{id}", || async { "" });
    let err = app.build().err().expect("`{id}` twice");
    assert!(
        matches!(err.problems()[0], Problem::DuplicateParam { .. }),
        "{err}"
    );
}

#[test]
fn too_many_parameters_are_a_build_error_not_a_panic() {
    let many: String = (0..30).map(|i| format!("/{{p{i}}}")).collect();
    let app = Kotori::new(());
    app.node(&many).get("/x", || async { "" });
    app.get(&format!("/r{many}"), || async { "" });
    let err = app.build().err().expect("30 parameters");
    assert_eq!(err.problems().len(), 2, "{err}");
    assert!(
        err.problems().iter().all(
            |p| matches!(p, Problem::InvalidPath { reason, .. } if reason.contains("at most"))
        ),
        "{err}"
    );
}

#[test]
fn odd_paths_never_make_build_panic() {
    for prefix in [
        "{", "}", "/{}", "/{a", "/a}", "/{*x}/y", "/{a}{b}", "//", "/é/{ü}",
    ] {
        let app = Kotori::new(());
        app.node(prefix).get("/x", || async { "" });
        app.get(prefix, || async { "" });
        // Either way, no panic.
        let _ = app.build();
    }
}
