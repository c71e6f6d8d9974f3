//! Introspection: the route table with its ordered chains, the printed tree, and audits.

use kotori::introspect::StepKind;
use kotori::{Ctx, Kotori, Rejection, Res, named};

struct Operator;

fn load_operator(cx: &mut Ctx<()>) -> Result<Operator, Rejection> {
    cx.header("authorization")
        .map(|_| Operator)
        .ok_or_else(Rejection::unauthorized)
}

fn require_admin(_: Res<Operator>) -> Result<(), Rejection> {
    Ok(())
}

fn require_privilege(
    p: &'static str,
) -> impl Fn(Res<Operator>) -> Result<(), Rejection> + Send + Sync {
    move |_| {
        if p.is_empty() {
            Err(Rejection::forbidden())
        } else {
            Ok(())
        }
    }
}

fn stamp(_: &Ctx<()>, _: &mut kotori::Response) {}

async fn login() -> &'static str {
    "token"
}

async fn search_users() -> &'static str {
    "[]"
}

fn app() -> kotori::App<()> {
    let app = Kotori::new(());
    let manage = app.node("/manage").after(stamp);
    manage.post("/login.json", login);
    let authed = manage.group().load(load_operator);
    let admin = authed.node("/dating/admin/api").guard(require_admin);
    admin.get("/users/search.json", search_users).guard(named(
        "require_privilege(users:read)",
        require_privilege("users:read"),
    ));
    app.build().unwrap()
}

#[test]
fn every_route_lists_its_chain_in_run_order_with_names_from_function_paths() {
    let app = app();
    let routes = app.routes();
    assert_eq!(routes.len(), 2);
    let search = &routes[1];
    assert_eq!(search.method(), "GET");
    assert_eq!(search.path(), "/manage/dating/admin/api/users/search.json");
    let chain: Vec<(StepKind, &str)> = search
        .chain()
        .iter()
        .map(|s| (s.kind(), s.name()))
        .collect();
    assert_eq!(
        chain,
        [
            (StepKind::Load, "introspect::load_operator"),
            (StepKind::Guard, "introspect::require_admin"),
            (StepKind::Guard, "require_privilege(users:read)"),
            (StepKind::Handler, "introspect::search_users"),
            (StepKind::After, "introspect::stamp"),
        ]
    );
    assert_eq!(search.chain()[1].node(), "/manage/dating/admin/api");
    assert!(search.chain()[2].on_route());
    assert!(search.passes("require_admin") && search.passes("load_operator"));
    assert!(!search.passes("stamp"), "after hooks do not guard");
    assert!(
        !routes[0].passes("load_operator"),
        "login sits beside the group"
    );
}

#[test]
fn the_printed_tree_shows_every_node_step_and_route() {
    let printed = app().tree().to_string();
    let expected = "\
/
  /manage  [/manage]
    after   introspect::stamp
    POST /manage/login.json  ⇒ introspect::login
    (group)
      load    introspect::load_operator
      /dating/admin/api  [/manage/dating/admin/api]
        guard   introspect::require_admin
        GET /manage/dating/admin/api/users/search.json  ⇒ introspect::search_users
            guard   require_privilege(users:read)
";
    assert_eq!(printed, expected);
}

#[test]
fn audits_pass_when_the_policy_holds_and_name_the_routes_that_break_it() {
    let app = app();
    app.audit()
        .under("/manage")
        .except("/manage/login.json")
        .require("load_operator")
        .unwrap();
    app.audit()
        .under("/manage/dating/admin")
        .require("require_admin")
        .unwrap();

    let failure = app
        .audit()
        .under("/manage")
        .require("load_operator")
        .unwrap_err();
    assert_eq!(failure.routes(), ["POST /manage/login.json"]);
    assert!(failure.to_string().contains("POST /manage/login.json"));

    // `/manag` is not a segment prefix of `/manage`: nothing is selected, which fails.
    let empty = app
        .audit()
        .under("/manag")
        .require("load_operator")
        .unwrap_err();
    assert!(empty.routes().is_empty());
    assert!(empty.to_string().contains("no route was selected"));

    let only_posts = app.audit().filter(|r| r.method() == "POST");
    assert_eq!(only_posts.routes().len(), 1);
}

#[test]
fn names_can_carry_a_doc_line_into_the_tree() {
    let app = Kotori::new(());
    app.node("/x")
        .guard(named("open", |_: &mut Ctx<()>| Ok::<(), Rejection>(())).doc("lets everyone in"))
        .get("/y", || async { "" });
    let app = app.build().unwrap();
    assert!(
        app.tree()
            .to_string()
            .contains("guard   open  — lets everyone in")
    );
    assert_eq!(app.routes()[0].chain()[0].doc(), Some("lets everyone in"));
}
