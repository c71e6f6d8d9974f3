//! The API reference in the book (`docs/src/dating/api/`) and the served `/openapi.json` name
//! the same operations: every operation the server documents is on a page, and every
//! operation a page names is served. A route added without its page, or a page left behind
//! by a removed route, fails here.
//!
//! A page names an operation as the first cell of a table row: `` | `GET /api/me` | ``.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::TestApp;
use serde_json::Value;

const PAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/dating/api");

/// `(METHOD, path)` for each table row of the pages that starts with an operation, and the
/// page it is on.
fn documented() -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut pages: Vec<_> = std::fs::read_dir(PAGES)
        .expect("the API reference pages")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = Path::new(&page).file_name().unwrap().to_string_lossy();
        for line in text.lines() {
            let Some(cell) = line.strip_prefix("| `") else {
                continue;
            };
            let Some((operation, _)) = cell.split_once('`') else {
                continue;
            };
            let Some((method, path)) = operation.split_once(' ') else {
                continue;
            };
            if method.bytes().all(|b| b.is_ascii_uppercase()) && path.starts_with('/') {
                found.push((method.to_owned(), path.to_owned(), name.to_string()));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_served_operation_is_on_a_page_and_every_page_operation_is_served() {
    let t = TestApp::new().await;
    let doc: Value = t.app.client().get("/openapi.json").send().await.json();
    let served: BTreeSet<(String, String)> = common::operations(&doc)
        .into_iter()
        .map(|(method, path)| (method.to_uppercase(), path))
        .collect();
    let pages = documented();
    let mut on_pages = BTreeSet::new();
    for (method, path, page) in &pages {
        assert!(
            on_pages.insert((method.clone(), path.clone())),
            "{method} {path} is documented twice (again on {page})"
        );
    }
    let undocumented: Vec<_> = served.difference(&on_pages).collect();
    let unserved: Vec<_> = on_pages.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but on no page of docs/src/dating/api: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "on a page but not served: {unserved:?}"
    );
    // Not vacuous: the pages hold the whole API.
    assert!(pages.len() > 60, "{} operations found", pages.len());
}
