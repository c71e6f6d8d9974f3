//! The OpenAPI document from the tree: security and refusals derived from the steps on each
//! path, parameters from the path and the declarations, and audits over the same declarations.

#[cfg(feature = "schemars")]
use kotori::openapi::In;
use kotori::openapi::{Declares, OpenApi, Param};
use kotori::{Ctx, Kotori, Rejection, named};
use serde_json::{Value, json};

fn token(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    cx.header("authorization")
        .map(|_| ())
        .ok_or_else(Rejection::unauthorized)
}

fn signature(cx: &mut Ctx<()>) -> Result<(), Rejection> {
    cx.header("x-sign")
        .map(|_| ())
        .ok_or_else(Rejection::unauthorized)
}

fn config() -> OpenApi {
    OpenApi::new("test", "1")
        .security_scheme("bearer", json!({"type": "http", "scheme": "bearer"}))
        .security_scheme(
            "signature",
            json!({"type": "apiKey", "in": "header", "name": "x-sign"}),
        )
        .everywhere(Declares::new().refuses(503, 50301, "a dependency is down"))
}

/// A console: `/manage/login` open, everything else under `/manage` behind the bearer guard
/// when `guarded`.
fn console(guarded: bool) -> Value {
    let app = Kotori::new(());
    let manage = app.node("/manage");
    manage.post("/login", || async { "token" });
    let inside = manage.group();
    if guarded {
        inside.guard(
            named("require_token", token).declares(
                Declares::new()
                    .security("bearer")
                    .refuses(401, 40105, "no token"),
            ),
        );
    }
    inside.get("/users", || async { "[]" });
    let user = inside.node("/users/{user_id}").load(
        named("load_user", |_: &mut Ctx<()>| -> Result<u64, Rejection> {
            Ok(1)
        })
        .declares(
            Declares::new()
                .param(Param::path(
                    "user_id",
                    json!({"type": "integer", "minimum": 1}),
                ))
                .refuses(404, 40401, "no such user"),
        ),
    );
    user.get("/show", || async { "user" });
    user.post("/ban", || async { "banned" }).declares(
        Declares::new()
            .param(Param::field("reason", json!({"type": "string", "maxLength": 200})).required())
            .refuses(409, 40901, "already banned"),
    );
    app.build().unwrap().openapi(&config()).unwrap()
}

#[test]
fn adding_a_guard_to_a_node_changes_the_security_of_every_operation_below_it() {
    let (open, guarded) = (console(false), console(true));
    let below = [
        ("/manage/users", "get"),
        ("/manage/users/{user_id}/show", "get"),
        ("/manage/users/{user_id}/ban", "post"),
    ];
    for (path, method) in below {
        assert_eq!(open["paths"][path][method]["security"], json!([]), "{path}");
        assert_eq!(
            guarded["paths"][path][method]["security"],
            json!([{"bearer": []}]),
            "{path}"
        );
        assert!(open["paths"][path][method]["responses"]["401"].is_null());
        assert_eq!(
            guarded["paths"][path][method]["responses"]["401"]["content"]["application/json"]["schema"]
                ["properties"]["code"]["enum"],
            json!([40105]),
            "{path}"
        );
    }
    // Beside the guarded group, nothing changes.
    assert_eq!(
        open["paths"]["/manage/login"]["post"],
        guarded["paths"]["/manage/login"]["post"]
    );
    assert_eq!(
        guarded["paths"]["/manage/login"]["post"]["security"],
        json!([])
    );
}

#[test]
fn an_operation_carries_every_refusal_of_its_path_and_its_parameters() {
    let doc = console(true);
    assert_eq!(doc["openapi"], "3.1.0");
    let ban = &doc["paths"]["/manage/users/{user_id}/ban"]["post"];
    let statuses: Vec<&String> = ban["responses"].as_object().unwrap().keys().collect();
    assert_eq!(statuses, ["200", "401", "404", "409", "503"]);
    assert_eq!(
        ban["responses"]["404"]["description"],
        "40401: no such user"
    );
    // The loader's declaration of the path parameter replaces the default string.
    assert_eq!(
        ban["parameters"],
        json!([{"name": "user_id", "in": "path", "required": true,
                "schema": {"type": "integer", "minimum": 1}}])
    );
    // A field of a POST is a form body; of a GET it would be a query parameter.
    assert_eq!(
        ban["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"],
        json!({"type": "object", "required": ["reason"],
               "properties": {"reason": {"type": "string", "maxLength": 200}}})
    );
    let show = &doc["paths"]["/manage/users/{user_id}/show"]["get"];
    assert!(show["requestBody"].is_null());
    assert!(
        show["responses"]["409"].is_null(),
        "the ban's refusal stays on the ban"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[test]
fn several_guards_require_all_their_schemes_and_a_refusal_is_listed_once() {
    let app = Kotori::new(());
    let api = app.node("/api").guard(
        named("verify_signature", signature).declares(
            Declares::new()
                .security("signature")
                .refuses(401, 40104, "bad signature"),
        ),
    );
    let user = api.group().guard(
        named("require_token", token).declares(
            Declares::new()
                .security("bearer")
                .refuses(401, 40105, "no token")
                .refuses(401, 40104, "bad signature"),
        ),
    );
    user.get("/files/{*rest}", || async { "file" })
        .declares(Declares::new().param(Param::field("limit", json!({"type": "integer"}))));
    let doc = app.build().unwrap().openapi(&config()).unwrap();
    let op = &doc["paths"]["/api/files/{rest}"]["get"];
    assert_eq!(op["security"], json!([{"signature": [], "bearer": []}]));
    assert_eq!(
        op["responses"]["401"]["content"]["application/json"]["schema"]["properties"]["code"]["enum"],
        json!([40104, 40105])
    );
    let names: Vec<(&str, &str)> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("rest", "path"), ("limit", "query")]);
}

/// A code two steps declare for different reasons is one entry that gives both — a guard's
/// "not ready yet" must not hide the 503 every route can answer — and a reason declared twice
/// is given once.
#[test]
fn a_code_declared_for_two_reasons_lists_both() {
    let app = Kotori::new(());
    let served = app.group().guard(
        named("require_migrated", |_: &mut Ctx<()>| {}).declares(
            Declares::new()
                .refuses(503, 50301, "the schema is not migrated yet")
                .refuses(503, 50301, "the schema is not migrated yet"),
        ),
    );
    served.get("/me", || async { "me" });
    let doc = app.build().unwrap().openapi(&config()).unwrap();
    let unavailable = &doc["paths"]["/me"]["get"]["responses"]["503"];
    assert_eq!(
        unavailable["description"],
        "50301: the schema is not migrated yet, or a dependency is down"
    );
    assert_eq!(
        unavailable["content"]["application/json"]["schema"]["properties"]["code"]["enum"],
        json!([50301])
    );
}

/// A header declared for every answer is on each documented response, refusals included; one
/// declared for a status only on that status's, where the operation has it.
#[test]
fn declared_headers_go_on_the_answers_they_are_declared_for() {
    let id = json!({"schema": {"type": "string"}});
    let retry = json!({"schema": {"type": "integer"}});
    let config = config().everywhere(
        Declares::new()
            .header(None, "X-Request-Id", id.clone())
            .header(Some(429), "Retry-After", retry.clone()),
    );
    let app = Kotori::new(());
    app.get("/search", || async { "[]" })
        .declares(Declares::new().refuses(429, 42901, "slow down"));
    app.get("/me", || async { "me" })
        .declares(Declares::new().header(Some(200), "ETag", json!({"schema": {"type": "string"}})));
    let doc = app.build().unwrap().openapi(&config).unwrap();
    let search = &doc["paths"]["/search"]["get"]["responses"];
    for status in ["200", "429", "503"] {
        assert_eq!(search[status]["headers"]["X-Request-Id"], id, "{status}");
    }
    assert_eq!(search["429"]["headers"]["Retry-After"], retry);
    assert!(search["200"]["headers"]["Retry-After"].is_null());
    let me = &doc["paths"]["/me"]["get"]["responses"];
    assert!(me["429"].is_null(), "no 429 made up for a header");
    assert_eq!(me["200"]["headers"]["ETag"]["schema"]["type"], "string");
    assert!(me["503"]["headers"]["ETag"].is_null());
}

#[test]
fn a_scheme_nobody_defined_is_an_error_naming_it() {
    let app = Kotori::new(());
    app.node("/x")
        .guard(named("g", token).declares(Declares::new().security("oauth")))
        .get("/y", || async { "y" });
    let err = app
        .build()
        .unwrap()
        .openapi(&OpenApi::new("t", "1"))
        .unwrap_err();
    assert!(err.to_string().contains("`oauth`"), "{err}");
    assert!(err.to_string().contains("GET /x/y"), "{err}");
}

#[test]
fn audits_and_the_printed_tree_read_the_same_declarations() {
    let app = Kotori::new(());
    let manage = app.node("/manage");
    manage.post("/login", || async { "token" });
    manage
        .group()
        .guard(named("require_token", token).declares(Declares::new().security("bearer")))
        .get("/users", || async { "[]" });
    let app = app.build().unwrap();
    app.audit()
        .under("/manage")
        .except("/manage/login")
        .require_security("bearer")
        .unwrap();
    let failure = app
        .audit()
        .under("/manage")
        .require_security("bearer")
        .unwrap_err();
    assert_eq!(failure.routes(), ["POST /manage/login"]);
    assert!(
        app.audit()
            .under("/nothing")
            .require_security("bearer")
            .is_err()
    );
    let printed = app.tree().to_string();
    assert!(
        printed.contains("require_token  [security: bearer]"),
        "{printed}"
    );
}

#[cfg(feature = "schemars")]
#[test]
fn a_parameter_schema_can_come_from_a_rust_type() {
    let limit = Param::of::<u16>("limit", In::Query);
    assert_eq!(limit.schema()["type"], "integer");
    assert_eq!(limit.schema()["maximum"], 65535);
    assert!(limit.schema().get("$schema").is_none());
}

#[test]
fn the_handler_declares_its_success_data_and_the_config_wraps_it() {
    async fn hello() -> &'static str {
        "hi"
    }
    let app = Kotori::new(());
    app.get("/hello", hello).declares(
        Declares::new()
            .success(json!({"type": "string"}))
            .summary("Says hello"),
    );
    let doc = app
        .build()
        .unwrap()
        .openapi(&OpenApi::new("t", "1").success_body(
            |data| json!({"type": "object", "properties": {"code": {"const": 0}, "data": data}}),
        ))
        .unwrap();
    let op = &doc["paths"]["/hello"]["get"];
    assert_eq!(op["summary"], "Says hello");
    assert_eq!(op["operationId"], "hello");
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"],
        json!({"type": "string"})
    );
}

#[test]
fn a_success_that_is_not_the_usual_body_is_described_as_it_is() {
    async fn events() -> &'static str {
        "data: x\n\n"
    }
    async fn socket() -> &'static str {
        ""
    }
    let app = Kotori::new(());
    app.get("/events", events)
        .declares(Declares::new().success_as(200, "text/event-stream", json!({"type": "string"})));
    app.get("/ws", socket)
        .declares(Declares::new().success_as(101, "", json!({})));
    let doc = app
        .build()
        .unwrap()
        .openapi(&OpenApi::new("t", "1").success_body(|d| json!({"wrapped": d})))
        .unwrap();
    assert_eq!(
        doc["paths"]["/events"]["get"]["responses"]["200"]["content"],
        json!({"text/event-stream": {"schema": {"type": "string"}}})
    );
    let ws = &doc["paths"]["/ws"]["get"]["responses"];
    assert!(ws["200"].is_null() && ws["101"].is_object());
}

#[cfg(feature = "schemars")]
#[test]
fn typed_extractors_declare_what_they_read_from_their_types() {
    use kotori::extract::Typed;
    use kotori::{Form, Json, Query};

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Filter {
        /// The page, from 1.
        #[schemars(range(min = 1))]
        page: u32,
        q: Option<String>,
    }
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Ban {
        reason: String,
    }
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Note {
        text: String,
        tags: Vec<String>,
    }
    async fn list(Typed(Query(f)): Typed<Query<Filter>>) -> String {
        format!("{}{:?}", f.page, f.q)
    }
    async fn ban(Typed(Form(b)): Typed<Form<Ban>>) -> String {
        b.reason
    }
    async fn note(Typed(Json(n)): Typed<Json<Note>>) -> String {
        format!("{}{}", n.text, n.tags.len())
    }
    let app = Kotori::new(());
    app.get("/users", list);
    app.post("/ban", ban);
    app.post("/notes", note);
    let doc = app.build().unwrap().openapi(&config()).unwrap();
    let users = &doc["paths"]["/users"]["get"];
    assert_eq!(users["parameters"][0]["name"], "page");
    assert_eq!(users["parameters"][0]["required"], true);
    assert_eq!(users["parameters"][0]["schema"]["minimum"], 1);
    assert_eq!(users["parameters"][0]["description"], "The page, from 1.");
    assert_eq!(users["parameters"][1]["name"], "q");
    assert_eq!(users["parameters"][1]["required"], false);
    assert!(users["responses"]["400"].is_object());
    let ban = &doc["paths"]["/ban"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
        ["schema"];
    assert_eq!(ban["required"], json!(["reason"]));
    let note =
        &doc["paths"]["/notes"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(note["properties"]["tags"]["type"], "array");
    assert_eq!(note["required"], json!(["text", "tags"]));
}

#[cfg(all(feature = "schemars", feature = "macros"))]
#[test]
fn a_macro_step_declares_what_its_extractors_read() {
    use kotori::Query;
    use kotori::extract::Typed;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Page {
        page: u32,
    }
    /// Lists things.
    #[kotori::handler]
    async fn things(Typed(Query(p)): Typed<Query<Page>>) -> String {
        p.page.to_string()
    }
    let app = Kotori::new(());
    app.get("/things", things);
    let doc = app.build().unwrap().openapi(&config()).unwrap();
    let op = &doc["paths"]["/things"]["get"];
    assert_eq!(op["parameters"][0]["name"], "page", "{op:#}");
    assert_eq!(op["summary"], "Lists things.");
}
