//! The scenario kotori was born from: a management API whose URL is a chain of authority,
//!
//! ```text
//! /manage/service1/god/api/courses/{id}/show.json
//! ```
//!
//! with a privilege validator on `/manage` (an operator at all), on `/service1` (may manage
//! this service) and on the course node (may read courses), and a loader that loads the course
//! once for every action below it.
//!
//! Run it with `cargo run -p kotori --example courses`, then:
//!
//! ```text
//! curl -H 'Authorization: Bearer god-token' localhost:3000/manage/service1/god/api/courses/1/show.json
//! ```
//!
//! `cargo run -p kotori --example courses -- --print` prints the policy and exits.

use std::collections::HashMap;
use std::sync::Arc;

use kotori::{App, Ctx, Json, Kotori, Path, Rejection, Res, State, named};
use serde::Serialize;

/// Who may do what, and the courses: an in-memory stand-in for a database.
struct Directory {
    operators: HashMap<&'static str, Operator>,
    courses: HashMap<u64, Course>,
}

#[derive(Clone)]
struct Operator {
    name: &'static str,
    privileges: Vec<&'static str>,
}

#[derive(Clone, Serialize)]
struct Course {
    id: u64,
    title: &'static str,
}

type Db = Arc<Directory>;

/// The operator named by the bearer token, or 401.
#[kotori::loader]
fn load_operator(cx: &mut Ctx<Db>) -> Result<Operator, Rejection> {
    let token = cx
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(Rejection::unauthorized)?;
    cx.state()
        .operators
        .get(token)
        .cloned()
        .ok_or_else(Rejection::unauthorized)
}

/// A validator for one privilege, named after it in the printed policy.
fn require(
    privilege: &'static str,
) -> kotori::step::Named<impl Fn(Res<Operator>) -> Result<(), Rejection> + Send + Sync> {
    named(format!("require({privilege})"), move |op: Res<Operator>| {
        if op.privileges.contains(&privilege) {
            Ok(())
        } else {
            Err(Rejection::forbidden().with_message(format!("{} lacks {privilege}", op.name)))
        }
    })
}

/// The course of the path, loaded once for every action below; unknown → 404.
#[kotori::loader]
fn load_course(Path(id): Path<u64>, State(db): State<Db>) -> Option<Course> {
    db.courses.get(&id).cloned()
}

async fn show(course: Res<Course>) -> Json<Course> {
    Json((*course).clone())
}

async fn list(State(db): State<Db>) -> Json<Vec<Course>> {
    let mut courses: Vec<Course> = db.courses.values().cloned().collect();
    courses.sort_by_key(|c| c.id);
    Json(courses)
}

fn app() -> App<Db> {
    let db = Arc::new(Directory {
        operators: HashMap::from([
            (
                "god-token",
                Operator {
                    name: "god",
                    privileges: vec!["manage", "service1", "courses:read"],
                },
            ),
            (
                "intern-token",
                Operator {
                    name: "intern",
                    privileges: vec!["manage", "service1"],
                },
            ),
            (
                "other-token",
                Operator {
                    name: "other",
                    privileges: vec!["manage", "service2"],
                },
            ),
        ]),
        courses: HashMap::from([
            (
                1,
                Course {
                    id: 1,
                    title: "Rust",
                },
            ),
            (
                2,
                Course {
                    id: 2,
                    title: "SQL",
                },
            ),
        ]),
    });

    let app = Kotori::new(db);
    let manage = app
        .node("/manage")
        .load(load_operator)
        .guard(require("manage"));
    let service1 = manage.node("/service1").guard(require("service1"));
    let courses = service1.node("/god/api/courses");
    courses.get("/list.json", list);
    courses
        .node("/{id}")
        .guard(require("courses:read"))
        .load(load_course)
        .get("/show.json", show);
    app.build().expect("the courses tree is valid")
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = app();
    println!("{}", app.tree());
    if std::env::args().any(|a| a == "--print") {
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000 (Ctrl-C stops)");
    kotori::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::app;

    const SHOW: &str = "/manage/service1/god/api/courses/1/show.json";

    async fn get(path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        let app = app();
        let mut req = app.client().get(path);
        if let Some(token) = token {
            req = req.header("authorization", &format!("Bearer {token}"));
        }
        let res = req.send().await;
        (res.status().as_u16(), res.json())
    }

    #[tokio::test]
    async fn each_level_of_the_chain_of_authority_is_checked() {
        let (status, body) = get(SHOW, Some("god-token")).await;
        assert_eq!((status, body["title"].as_str()), (200, Some("Rust")));

        assert_eq!(get(SHOW, None).await.0, 401, "/manage: no operator");
        let (status, body) = get(SHOW, Some("other-token")).await;
        assert_eq!(status, 403, "/service1: other lacks service1");
        assert_eq!(body["message"], "other lacks service1");
        let (status, body) = get(SHOW, Some("intern-token")).await;
        assert_eq!(status, 403, "course node: intern lacks courses:read");
        assert_eq!(body["message"], "intern lacks courses:read");
        let list = "/manage/service1/god/api/courses/list.json";
        assert_eq!(
            get(list, Some("intern-token")).await.0,
            200,
            "the list needs no courses:read"
        );
    }

    #[tokio::test]
    async fn unknown_courses_and_paths_are_404_only_for_authorized_callers() {
        let missing = "/manage/service1/god/api/courses/9/show.json";
        assert_eq!(get(missing, Some("god-token")).await.0, 404);
        assert_eq!(get(missing, Some("intern-token")).await.0, 403);
        assert_eq!(get("/manage/service1/nothing.json", None).await.0, 401);
    }

    #[test]
    fn the_policy_is_auditable() {
        let app = app();
        app.audit()
            .under("/manage")
            .require("load_operator")
            .unwrap();
        app.audit()
            .under("/manage")
            .require("require(manage)")
            .unwrap();
        app.audit()
            .under("/manage/service1")
            .require("require(service1)")
            .unwrap();
        app.audit()
            .filter(|r| r.path().contains("/courses/{id}"))
            .require("require(courses:read)")
            .unwrap();
    }
}
