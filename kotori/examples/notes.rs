//! The guide's first chapter, whole: a notes service with a public page, an `/api` that needs
//! a token, notes only their owner can see, and an admins-only corner (`docs/src/getting-started.md`
//! shows this file in pieces and explains each).
//!
//! Run it with `cargo run -p kotori --example notes`, then:
//!
//! ```text
//! curl -H 'Authorization: Bearer bob-token' -d text=milk localhost:3000/api/notes
//! curl -H 'Authorization: Bearer bob-token' localhost:3000/api/notes/1
//! ```

// ANCHOR: app
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kotori::http::header::{CACHE_CONTROL, HeaderValue};
use kotori::{Ctx, Form, Json, Kotori, Path, Rejection, Res, Response, State};
use serde::{Deserialize, Serialize};

/// The state: a handle on an in-memory stand-in for a database.
#[derive(Clone, Default)]
struct Db(Arc<Mutex<Data>>);

#[derive(Default)]
struct Data {
    users: HashMap<String, User>, // by token
    notes: HashMap<u64, Note>,
    next_note: u64,
}

#[derive(Clone)]
struct User {
    id: u64,
    name: String,
    admin: bool,
}

#[derive(Clone, Serialize)]
struct Note {
    id: u64,
    owner: u64,
    text: String,
}

#[derive(Deserialize)]
struct NewNote {
    text: String,
}

impl Db {
    /// alice (an admin) and bob; a real app would have a login route and a database.
    fn demo() -> Db {
        let db = Db::default();
        let mut data = db.0.lock().unwrap();
        let alice = User {
            id: 1,
            name: "alice".into(),
            admin: true,
        };
        let bob = User {
            id: 2,
            name: "bob".into(),
            admin: false,
        };
        data.users.insert("alice-token".into(), alice);
        data.users.insert("bob-token".into(), bob);
        drop(data);
        db
    }
}

/// The caller: the user whose token is in `Authorization: Bearer <token>`.
fn load_user(cx: &mut Ctx<Db>) -> Result<User, Rejection> {
    let token = cx
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| {
            Rejection::unauthorized().with_message("send Authorization: Bearer <token>")
        })?;
    let data = cx.state().0.lock().unwrap();
    let user = data.users.get(token).cloned();
    user.ok_or_else(|| Rejection::unauthorized().with_message("unknown token"))
}

/// The note named by `{id}`, if it is the caller's: anyone else's is a 404, as if it did not
/// exist, so that ids cannot be probed.
fn load_own_note(
    Path(id): Path<u64>,
    user: Res<User>,
    State(db): State<Db>,
) -> Result<Note, Rejection> {
    let data = db.0.lock().unwrap();
    match data.notes.get(&id) {
        Some(note) if note.owner == user.id => Ok(note.clone()),
        _ => Err(Rejection::not_found()),
    }
}

fn admins_only(user: Res<User>) -> Result<(), Rejection> {
    match user.admin {
        true => Ok(()),
        false => Err(Rejection::forbidden().with_message(format!("{} is not an admin", user.name))),
    }
}

/// Private answers are not to be cached, refusals included.
fn no_store(_cx: &Ctx<Db>, res: &mut Response) {
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Refusals under `/api` as JSON: `{"code": 40101, "message": "unknown token"}`.
fn json_refusals(_cx: &Ctx<Db>, rejection: &Rejection) -> Response {
    kotori::render::json(rejection)
}

async fn my_notes(user: Res<User>, State(db): State<Db>) -> Json<Vec<Note>> {
    let data = db.0.lock().unwrap();
    let mut mine: Vec<Note> = data
        .notes
        .values()
        .filter(|n| n.owner == user.id)
        .cloned()
        .collect();
    mine.sort_by_key(|n| n.id);
    Json(mine)
}

async fn add_note(user: Res<User>, State(db): State<Db>, Form(new): Form<NewNote>) -> Json<Note> {
    let mut data = db.0.lock().unwrap();
    data.next_note += 1;
    let note = Note {
        id: data.next_note,
        owner: user.id,
        text: new.text,
    };
    data.notes.insert(note.id, note.clone());
    Json(note)
}

async fn show_note(note: Res<Note>) -> Json<Note> {
    Json((*note).clone())
}

async fn delete_note(note: Res<Note>, State(db): State<Db>) -> &'static str {
    db.0.lock().unwrap().notes.remove(&note.id);
    "deleted\n"
}

async fn stats(user: Res<User>, State(db): State<Db>) -> String {
    let notes = db.0.lock().unwrap().notes.len();
    format!("hello, admin {}: {notes} notes\n", user.name)
}

async fn home() -> &'static str {
    "notes: see /api/notes\n"
}

/// The whole URL space, with every step that guards it. Tests build this same tree.
fn tree(db: Db) -> Kotori<Db> {
    let app = Kotori::new(db);
    app.get("/", home);
    let api = app
        .node("/api")
        .load(load_user)
        .after(no_store)
        .render(json_refusals);
    api.get("/notes", my_notes);
    api.post("/notes", add_note);
    let note = api.node("/notes/{id}").load(load_own_note);
    note.get("", show_note); // an empty rule is the node's own path
    note.post("/delete", delete_note);
    api.node("/admin").guard(admins_only).get("/stats", stats);
    app
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = tree(Db::demo()).build().expect("the tree is consistent");
    println!("{}", app.tree()); // the policy, printed
    if std::env::args().any(|a| a == "--print") {
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://127.0.0.1:3000");
    kotori::serve(listener, app).await
}
// ANCHOR_END: app

// ANCHOR: tests
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_knows_its_caller() {
        let app = tree(Db::demo()).build().unwrap();
        app.audit().under("/api").require("load_user").unwrap();
        app.audit()
            .under("/api/admin")
            .require("admins_only")
            .unwrap();
    }

    #[tokio::test]
    async fn a_note_is_its_owners_alone() {
        let app = tree(Db::demo()).build().unwrap();
        let (bob, alice) = ("Bearer bob-token", "Bearer alice-token");
        let client = app.client();
        let res = client
            .post("/api/notes")
            .header("authorization", bob)
            .form(&[("text", "milk")])
            .send()
            .await;
        let id = res.json::<serde_json::Value>()["id"].as_u64().unwrap();
        let path = format!("/api/notes/{id}");

        let res = client.get(&path).header("authorization", bob).send().await;
        assert_eq!(res.json::<serde_json::Value>()["text"], "milk");
        // Someone else's note, to read or to delete, does not exist.
        let res = client
            .get(&path)
            .header("authorization", alice)
            .send()
            .await;
        assert_eq!(res.status(), 404);
        let delete = format!("{path}/delete");
        let res = client
            .post(&delete)
            .header("authorization", alice)
            .send()
            .await;
        assert_eq!(res.status(), 404);
        // No token: 401 as JSON, and not cached.
        let res = client.get(&path).send().await;
        assert_eq!(res.status(), 401);
        assert_eq!(res.json::<serde_json::Value>()["code"], 40101);
        assert_eq!(res.header("cache-control"), Some("no-store"));
    }

    #[tokio::test]
    async fn bob_is_no_admin() {
        let app = tree(Db::demo()).build().unwrap();
        let client = app.client();
        let as_bob = client
            .get("/api/admin/stats")
            .header("authorization", "Bearer bob-token");
        assert_eq!(as_bob.send().await.status(), 403);
        let as_alice = client
            .get("/api/admin/stats")
            .header("authorization", "Bearer alice-token");
        assert_eq!(
            as_alice.send().await.text(),
            "hello, admin alice: 0 notes\n"
        );
    }
}
// ANCHOR_END: tests
