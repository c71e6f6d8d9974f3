//! A browser's view of the console for the in-process console tests: the login form's
//! cookie, its CSRF token, GETs and form POSTs carried by it.

use example_dating::db::entity::safety::audit_log;
use example_dating::manage::cookie::csrf_of;
use kotori::test::TestResponse;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::TestApp;

pub const ADMIN: &str = "/manage/dating/admin/api";

/// A browser's session: the cookie the login form set.
pub struct Browser<'a> {
    pub t: &'a TestApp,
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    /// Logs in through the form; asserts what the cookie says about itself.
    pub async fn log_in(t: &'a TestApp, name: &str) -> Browser<'a> {
        let res = t
            .app
            .client()
            .post("/manage/login")
            .form(&[
                ("name", name),
                ("password", "password-123"),
                ("next", "/manage"),
            ])
            .send()
            .await;
        assert_eq!(res.status(), 303, "{}", res.text());
        assert_eq!(res.header("location"), Some("/manage"));
        let set = res.header("set-cookie").unwrap().to_owned();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/manage", "Max-Age="] {
            assert!(set.contains(attribute), "{set}");
        }
        // Served over plain HTTP here: the cookie is not marked Secure.
        assert!(!set.contains("Secure"), "{set}");
        let cookie = set.split(';').next().unwrap().to_owned();
        Browser {
            t,
            cookie: Some(cookie),
        }
    }

    pub fn token(&self) -> String {
        self.cookie
            .as_ref()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned()
    }

    pub fn csrf(&self) -> String {
        csrf_of(&self.token())
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        let mut req = self.t.app.client().get(path);
        if let Some(cookie) = &self.cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> TestResponse {
        let mut req = self.t.app.client().post(path).form(form);
        if let Some(cookie) = &self.cookie {
            req = req.header("cookie", cookie);
        }
        req.send().await
    }
}

/// Every audit row of the operators' own actions, oldest first (not the command line's, which
/// added them: `tests/operator_changes.rs` checks those).
pub async fn audit_rows(t: &TestApp) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::OperatorId.ne(0))
        .order_by_asc(audit_log::Column::Id)
        .all(&t.state.db)
        .await
        .unwrap()
}
