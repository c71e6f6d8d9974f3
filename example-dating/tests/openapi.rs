//! docs/src/dating/api/operations.md: `GET /openapi.json` describes every route, with the security derived from the
//! guards on its path, the parameters with the contract's ranges, and the refusals of every
//! step; the document validates against the OpenAPI 3.1 schema (openapi-spec-validator).

mod common;

use std::collections::BTreeSet;

use common::{TestApp, schema};
use http::Method;
use serde_json::{Value, json};

async fn document(t: &TestApp) -> Value {
    let res = t.app.client().get("/openapi.json").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    res.json::<Value>()
}

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    op
}

#[tokio::test]
async fn every_route_is_an_operation_with_the_security_of_its_guards() {
    let t = TestApp::new().await;
    let doc = document(&t).await;
    assert_eq!(doc["openapi"], "3.1.0");
    // Every route of the tree but the console's pages (HTML for browsers), and nothing else.
    let routes: BTreeSet<(String, String)> = t
        .app
        .routes()
        .iter()
        .filter(|r| !r.path().starts_with("/manage") || r.path().ends_with(".json"))
        .map(|r| (r.method().as_str().to_lowercase(), r.path().to_owned()))
        .collect();
    assert!(
        t.app.routes().len() > routes.len() + 20,
        "the console's pages are routes of the tree"
    );
    assert_eq!(routes, common::operations(&doc));

    for (method, path) in &routes {
        let op = operation(&doc, method, path);
        let security = &op["security"];
        let expected = if path.starts_with("/api/auth/sendsms") || path == "/api/auth/login" {
            json!([{"client_signature": []}])
        } else if path.starts_with("/api/") {
            json!([{"client_signature": [], "token": []}])
        } else if path.starts_with("/pay/") {
            json!([{"payment_signature": []}])
        } else if (path.starts_with("/manage/") && path != "/manage/login.json")
            || path == "/metrics"
        {
            json!([{"operator_bearer": []}])
        } else {
            json!([])
        };
        assert_eq!(security, &expected, "{method} {path}");
        // Whatever the route, a dependency that is down is documented.
        assert!(op["responses"]["503"].is_object(), "{method} {path}");
    }
    // The signature guard's refusals on every signed route; the token's below it.
    let update = operation(&doc, "post", "/api/me/update");
    assert_eq!(
        update["responses"]["401"]["content"]["application/json"]["schema"]["properties"]["code"]["enum"],
        json!([40101, 40102, 40103, 40104, 40105])
    );
    // A privilege guard's 40301 under /manage, the VIP guard's 40302 under /api/vip.
    let search = operation(&doc, "get", "/manage/dating/admin/api/users/search.json");
    assert!(
        search["responses"]["403"]["description"]
            .as_str()
            .unwrap()
            .contains("40301")
    );
    let visitors = operation(&doc, "get", "/api/vip/visitors");
    assert!(
        visitors["responses"]["403"]["description"]
            .as_str()
            .unwrap()
            .contains("40302")
    );
}

#[tokio::test]
async fn parameters_read_through_the_params_loader_carry_the_contract_ranges() {
    let t = TestApp::new().await;
    let doc = document(&t).await;
    let query = |op: &Value, name: &str| -> Value {
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .clone()
    };
    let nearby = operation(&doc, "get", "/api/user/nearby/list");
    assert_eq!(query(nearby, "radius_km")["schema"]["maximum"], 100);
    assert_eq!(query(nearby, "pageCount")["schema"]["maximum"], 50);
    assert_eq!(query(nearby, "lat")["schema"]["minimum"], -90);
    // The path's own parameter, typed by the loader that reads it.
    let show = operation(&doc, "get", "/api/users/{user_id}/show");
    assert_eq!(
        query(show, "user_id"),
        json!({"name": "user_id", "in": "path", "required": true,
               "schema": {"type": "integer", "minimum": 1}})
    );
    // A POST's fields are its form body.
    let update = operation(&doc, "post", "/api/me/update");
    let body = &update["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    // A field that an empty value clears says so; one every profile has does not.
    assert_eq!(
        body["properties"]["height"]["anyOf"],
        json!([{"type": "integer", "minimum": 100, "maximum": 250}, {"const": ""}])
    );
    assert_eq!(
        body["properties"]["gender"],
        json!({"type": "integer", "minimum": 0, "maximum": 2})
    );
    assert_eq!(body["properties"]["nickname"]["maxLength"], 32);
    let send = operation(&doc, "post", "/api/users/{user_id}/messages");
    assert_eq!(
        send["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["required"],
        json!(["msg_type"])
    );
    // The document itself is served unsigned and is not the envelope.
    let own = operation(&doc, "get", "/openapi.json");
    assert_eq!(own["security"], json!([]));
    assert!(
        own["responses"]["200"]["content"]["application/json"]["schema"]["properties"].is_null()
    );
}

#[tokio::test]
async fn the_audits_read_the_same_declarations_as_the_document() {
    let t = TestApp::new().await;
    let app = &t.app;
    app.audit()
        .under("/manage")
        .except("/manage/login.json")
        .except("/manage/login")
        .except("/manage/assets/live.js")
        .require_security("operator_bearer")
        .unwrap();
    app.audit()
        .under("/api")
        .require_security("client_signature")
        .unwrap();
    app.audit()
        .under("/api")
        .except("/api/auth/sendsms")
        .except("/api/auth/login")
        .require_security("token")
        .unwrap();
    app.audit()
        .under("/pay")
        .require_security("payment_signature")
        .unwrap();
    // A signed request answers what the document says, for one route picked at random.
    let (token, _) = t.user("18900000001").await;
    let res = t
        .call(
            Method::GET,
            "/api/user/nearby/list",
            &[("radius_km", "101")],
            Some(&token),
        )
        .await;
    assert_eq!(common::code(&res), 40002);
}

/// openapi-spec-validator (PyPI) checks the document against the OpenAPI 3.1 schema. Needs
/// `KOTORI_TEST_OPENAPI_VALIDATOR` (a Python with the package: CI installs it), and says so
/// when it skips.
#[tokio::test]
async fn the_document_validates_against_the_openapi_schema() {
    let Some(python) = common::service_url(
        "KOTORI_TEST_OPENAPI_VALIDATOR",
        "the_document_validates_against_the_openapi_schema",
    ) else {
        return;
    };
    let t = TestApp::new().await;
    let doc = document(&t).await;
    let file = std::env::temp_dir().join(format!(
        "kotori-openapi-{}-{}.json",
        std::process::id(),
        example_dating::random::hex_token(4)
    ));
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = std::process::Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("KOTORI_TEST_OPENAPI_VALIDATOR runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The check itself checks: each keyword it knows refuses what it should.
#[test]
fn the_schema_check_refuses_what_breaks_a_schema() {
    use serde_json::json;
    let person = json!({
        "type": "object",
        "required": ["id", "name"],
        "additionalProperties": false,
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "name": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "role": {"enum": ["admin", "host"]},
            "tags": {"type": "array", "items": {"type": "string"}},
        }
    });
    let ok = json!({"id": 1, "name": null, "role": "host", "tags": ["a"]});
    assert_eq!(
        schema::violations(&person, &ok, "data"),
        Vec::<String>::new()
    );
    for bad in [
        json!({"id": 1}),
        json!({"id": 0, "name": "x"}),
        json!({"id": 1.5, "name": "x"}),
        json!({"id": 1, "name": 3}),
        json!({"id": 1, "name": "x", "role": "root"}),
        json!({"id": 1, "name": "x", "tags": [1]}),
        json!({"id": 1, "name": "x", "extra": true}),
        json!([]),
    ] {
        assert!(
            !schema::violations(&person, &bad, "data").is_empty(),
            "{bad}"
        );
    }
    let either = json!({"oneOf": [{"type": "integer"}, {"type": "number"}]});
    assert!(
        !schema::violations(&either, &json!(1), "data").is_empty(),
        "both match"
    );
    assert!(schema::violations(&either, &json!(1.5), "data").is_empty());
    let empty = json!({"type": "object", "maxProperties": 0});
    assert!(!schema::violations(&empty, &json!({"a": 1}), "data").is_empty());
    assert!(schema::violations(&json!({"const": "ok"}), &json!("ko"), "data").len() == 1);
}

/// Every operation of the JSON API documents what it answers — not an empty schema.
#[tokio::test]
async fn every_operation_documents_what_it_answers() {
    let t = TestApp::new().await;
    let doc: Value = t.app.client().get("/openapi.json").send().await.json();
    let silent: Vec<String> = common::operations(&doc)
        .into_iter()
        .filter(|(method, path)| !schema::NOT_ENVELOPED.contains(&(method.as_str(), path.as_str())))
        .filter(|(method, path)| {
            let data = &doc["paths"][path][method]["responses"]["200"]["content"]
                ["application/json"]["schema"]["properties"]["data"];
            data.as_object().is_none_or(|s| s.is_empty())
        })
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        silent.is_empty(),
        "operations that do not document their data (declare it: `.success(...)`):\n{}",
        silent.join("\n")
    );
}

/// Every answer documents the `X-Request-Id` it carries, and every 429 the `Retry-After` that
/// says when to try again (API.md §1) — declared once, for every operation.
#[tokio::test]
async fn the_headers_every_answer_carries_are_documented() {
    let t = TestApp::new().await;
    let doc = document(&t).await;
    let mut limited = 0;
    for (method, path) in common::operations(&doc) {
        let responses = doc["paths"][&path][&method]["responses"]
            .as_object()
            .unwrap();
        for (status, response) in responses {
            let id = &response["headers"]["X-Request-Id"];
            assert_eq!(id["required"], true, "{method} {path} {status}: {response}");
            let retry = &response["headers"]["Retry-After"];
            if status == "429" {
                limited += 1;
                assert_eq!(retry["schema"]["type"], "integer", "{method} {path}");
            } else {
                assert!(retry.is_null(), "{method} {path} {status}");
            }
        }
    }
    assert!(limited >= 5, "the rate-limited operations: {limited}");
}
