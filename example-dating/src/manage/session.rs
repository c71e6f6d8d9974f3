//! Operator sessions: `POST /manage/login.json` and the `/manage` operator loader.

use std::sync::LazyLock;
use std::time::Duration;

use http::header::AUTHORIZATION;
use kotori::{Ctx, Json, Res, State};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationDef,
    Set,
};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::cookie;
use super::operators::Operator;
use super::operators::{self, hash_password, verify_password};
use crate::auth::ClientAddress;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::rooms::{operator, operator_token};
use crate::envelope::ok;
use crate::params::Params;
use crate::people::sessions;
use crate::random;
use crate::realtime::Route;
use crate::state::AppState;
use crate::store::{Quota, key_part};

/// Failed logins for one operator name, across addresses, in [`FAILURE_WINDOW`] before each
/// further try on that name is slowed down ([`slow_down`]). Never a lockout: anyone could
/// lock an operator out by guessing wrong on purpose.
pub const FREE_FAILURES_PER_NAME: i64 = 5;
/// Failed logins allowed per client address in [`FAILURE_WINDOW`]; past them that address is
/// refused (42901) whatever it sends, until the window passes.
pub const FAILURES_PER_CLIENT: i64 = 10;
/// The window the failure counters cover.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Password hashes checked at once: each takes tens of milliseconds of a core and 19 MiB, so
/// a login flood queues here instead of taking every thread and the memory.
const HASHING_AT_ONCE: usize = 2;
/// How long a login waits for its turn to hash before it is told to come back.
const HASHING_WAIT: Duration = Duration::from_secs(2);

/// Checks name and password; answers a 12-hour token (see [`authenticate`]).
#[kotori::handler]
pub async fn login(cx: &mut Ctx<AppState>, params: Res<Params>) -> Result<Json<Value>, AppError> {
    let name = params.required("name")?;
    let password = params.required("password")?;
    let session = authenticate(cx, name, password).await?;
    Ok(ok(json!({
        "token": session.token,
        "expire_time": clock::format(session.expire_at),
        "operator_id": session.operator.id,
        "role": session.operator.role.as_str(),
    })))
}

/// A session just opened by [`authenticate`].
pub struct Opened {
    /// The token: a bearer token, or the console's cookie.
    pub token: String,
    /// When it ends (Unix seconds).
    pub expire_at: i64,
    /// Who logged in.
    pub operator: Operator,
}

/// Checks name and password and opens a session. A wrong name or password is the same
/// 40105, after the same work (a password hash is always checked). Guessing is limited per
/// client address — after [`FAILURES_PER_CLIENT`] failures in 15 minutes that address gets
/// 42901 with `Retry-After` — and slowed per operator across addresses ([`slow_down`]), but
/// never locked: the right password from an address that has not been failing logs in. A
/// success clears the operator's count. The JSON login and the console's login form share it.
pub async fn authenticate(
    cx: &mut Ctx<AppState>,
    name: &str,
    password: &str,
) -> Result<Opened, AppError> {
    let state = cx.state().clone();
    let (name, password) = (name.trim().to_owned(), password.to_owned());
    let client_key = format!("oplogin:client:{}", ClientAddress::of(cx).key());
    let per_client = Quota {
        key: &client_key,
        limit: FAILURES_PER_CLIENT,
        window: FAILURE_WINDOW,
    };
    if let Some(left) = state.store.spent(per_client).await? {
        return Err(codes::rate_limited(left.as_secs().max(1)));
    }
    // The operator first: failures count per operator, not per spelling. A database may match
    // a name in more than one spelling (MariaDB's collation: `ROOT ` is `root`, `röot` too),
    // and each spelling must not bring a fresh count of tries.
    let found = if name.len() <= operators::MAX_NAME {
        operator::Entity::find()
            .filter(operator::Column::Name.eq(name.as_str()))
            .one(&state.db)
            .await?
    } else {
        None
    };
    let name_key = failures_key(found.as_ref().map(|op| op.id), &name);
    let name_failures = state
        .store
        .get(&name_key)
        .await?
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(0);
    // Before the hash, and without holding a hashing turn: a slowed try costs a timer only.
    if let Some(wait) = slow_down(name_failures) {
        tokio::time::sleep(wait).await;
    }
    // Verify against a dummy hash when the name is unknown, so timing does not reveal names.
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash_password("not the password of anyone"));
    let hash = found
        .as_ref()
        .map_or_else(|| DUMMY.clone(), |o| o.password_hash.clone());
    static HASHING: Semaphore = Semaphore::const_new(HASHING_AT_ONCE);
    let Ok(Ok(_turn)) = tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await else {
        return Err(codes::rate_limited(1));
    };
    // Off the async threads: a hash is tens of milliseconds of pure computation.
    let valid = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    // A disabled operator's right password fails like a wrong one: nothing tells a guesser
    // which it was.
    let Some(op) = found.filter(|op| valid && !op.disabled) else {
        for key in [&name_key, &client_key] {
            state.store.incr(key, FAILURE_WINDOW).await?;
        }
        return Err(codes::bad_operator_login());
    };
    state.store.del(&name_key).await?;
    let token = random::hex_token(16);
    let now = clock::now();
    let expire_at = now + state.config.operator_token_secs as i64;
    // The session is written holding the operator's row, which must still be what the
    // password was checked against: a new password or a disable that committed meanwhile
    // refuses it; one that comes after waits for the row, then ends it with the others.
    crate::db::in_transaction(&state.db, |txn| {
        let (token, checked) = (token.clone(), op.clone());
        Box::pin(async move {
            let current = operator::Entity::find_by_id(checked.id)
                .lock_shared()
                .one(txn)
                .await?;
            let unchanged = |current: operator::Model| {
                !current.disabled && current.password_hash == checked.password_hash
            };
            if !current.is_some_and(unchanged) {
                return Err(codes::bad_operator_login());
            }
            operator_token::ActiveModel {
                token: Set(token),
                operator_id: Set(checked.id),
                expire_at: Set(expire_at),
                created_at: Set(clock::now()),
            }
            .insert(txn)
            .await?;
            Ok(())
        })
    })
    .await?;
    Ok(Opened {
        token,
        expire_at,
        operator: Operator::from_row(&op),
    })
}

/// Ends the session of the request (the bearer token's, or the cookie's): its row goes — the
/// next request with it finds none, on every instance ([`load_operator`]) — and the
/// operator's live feeds end (on every instance).
pub async fn end_session(
    state: &AppState,
    token: &str,
    operator: &Operator,
) -> Result<(), AppError> {
    operator_token::Entity::delete_by_id(token.to_owned())
        .exec(&state.db)
        .await?;
    let bye = Route::Close(operator.hub_user(), "logout".into());
    state.hub.publish(bye, serde_json::Value::Null, None).await;
    Ok(())
}

/// Whether `token` still opens a session for the operator `was`, with `was`'s role and
/// privileges: what an open feed checks now and then (a feed is one long request, and the
/// tree's guards ran once, at its start). A session that expired or was ended, an operator
/// disabled, or privileges changed (from the command line, which cannot reach the feeds) ends
/// the feed; the console's page opens it again, and the tree decides afresh — the feed asks no
/// privilege itself. A database that does not answer is not an end.
pub async fn unchanged(state: &AppState, token: &str, was: &Operator) -> bool {
    match operator_of(state, token).await {
        Ok(Some(now)) => now.role == was.role && now.privileges == was.privileges,
        Ok(None) => false,
        Err(_) => true,
    }
}

/// The enabled operator whose unexpired session `token` is, read from the database on every
/// request: the console's requests are few, and what the command line changes — a disabled
/// operator, a new password that ended every session, a token's deleted row, new privileges —
/// then holds from the next request on every instance. (Users' sessions are cached in the
/// store: the API's every request checks one, and the API itself ends them.)
async fn operator_of(state: &AppState, token: &str) -> Result<Option<Operator>, AppError> {
    let live = operator::Entity::find()
        .join_rev(JoinType::InnerJoin, session_of_operator())
        .filter(operator_token::Column::Token.eq(token))
        .filter(operator_token::Column::ExpireAt.gt(clock::now()))
        .filter(operator::Column::Disabled.eq(false))
        .one(&state.db)
        .await?;
    Ok(live.as_ref().map(Operator::from_row))
}

/// A session row to its operator's row.
fn session_of_operator() -> RelationDef {
    operator_token::Entity::belongs_to(operator::Entity)
        .from(operator_token::Column::OperatorId)
        .to(operator::Column::Id)
        .into()
}

/// `POST /manage/logout.json`: ends the caller's session.
#[kotori::handler]
pub async fn logout(
    cx: &mut Ctx<AppState>,
    session: Res<Session>,
    operator: Res<Operator>,
) -> Result<Json<Value>, AppError> {
    end_session(cx.state(), &session.token, &operator).await?;
    Ok(ok(json!({})))
}

/// How the request proved who it is: its token, and whether it came in the console's cookie.
#[derive(Clone, Debug)]
pub struct Session {
    /// The operator token.
    pub token: String,
    /// Carried by the cookie (a browser), not a bearer header.
    pub by_cookie: bool,
}

impl Session {
    /// The CSRF token forms of this session send back.
    pub fn csrf(&self) -> String {
        cookie::csrf_of(&self.token)
    }
}

/// The session of the request: a bearer token, else the console's cookie. A request carried
/// by the cookie that changes something must send the session's CSRF token (the `csrf` field
/// or the `X-CSRF-Token` header): 40301 without it. 40105 without a token.
#[kotori::loader]
pub async fn load_session(cx: &mut Ctx<AppState>) -> Result<Session, AppError> {
    let bearer = cx
        .header(AUTHORIZATION)
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    let (token, by_cookie) = match bearer {
        Some(token) => (token, false),
        None => (cookie::token_of(cx).ok_or_else(codes::bad_token)?, true),
    };
    if !sessions::is_token(token) {
        return Err(codes::bad_token());
    }
    let session = Session {
        token: token.to_owned(),
        by_cookie,
    };
    if by_cookie && cookie::changes(cx.method()) {
        let expected = session.csrf();
        let sent = cx
            .header("x-csrf-token")
            .or_else(|| cx.resource::<Params>()?.get(cookie::CSRF_FIELD));
        if !sent.is_some_and(|sent| cookie::same(sent, &expected)) {
            return Err(codes::bad_csrf());
        }
    }
    Ok(session)
}

/// How long a login for a name that failed `failures` times in the window waits before its
/// password is checked: nothing for the first [`FREE_FAILURES_PER_NAME`], then 200 ms
/// doubling to at most 3 s. A guesser spread over many addresses gets a few tries a second
/// per name at most; the operator, typing the right password, waits a few seconds at worst.
pub fn slow_down(failures: i64) -> Option<Duration> {
    let past = failures - FREE_FAILURES_PER_NAME;
    (past >= 0).then(|| {
        let ms = 200u64.saturating_mul(1 << past.min(10));
        Duration::from_millis(ms.min(3_000))
    })
}

/// Where the failed logins of a name are counted: per operator when the name opens one, else
/// per name (lower case, at most [`operators::MAX_NAME`] characters: a name no operator has
/// needs no protecting, only a bounded key).
fn failures_key(operator_id: Option<i64>, name: &str) -> String {
    match operator_id {
        Some(id) => format!("oplogin:operator:{id}"),
        None => {
            let name: String = name.chars().take(operators::MAX_NAME).collect();
            format!("oplogin:name:{}", key_part(&name.to_lowercase()))
        }
    }
}

/// The operator of the request's session ([`load_session`]); 40105 unless it is live and its
/// operator enabled, read from the database on every request.
#[kotori::loader]
pub async fn load_operator(
    session: Res<Session>,
    State(state): State<AppState>,
) -> Result<Operator, AppError> {
    operator_of(&state, &session.token)
        .await?
        .ok_or_else(codes::bad_token)
}

/// What load_session reads and answers, for `/openapi.json`.
pub fn load_session_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .security("operator_bearer")
        .refuses(401, 40105, "operator token missing or malformed")
        .refuses(
            403,
            40301,
            "a request carried by the console's cookie that changes something lacks its CSRF token",
        )
}

/// What load_operator reads and answers, for `/openapi.json`.
pub fn load_operator_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new().refuses(401, 40105, "operator token unknown or expired")
}

/// What login reads and answers, for `/openapi.json`.
pub fn login_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(shape([
        ("token", string()),
        ("expire_time", time()),
        ("operator_id", integer()),
        ("role", json!({"enum": ["admin", "host"]})),
    ]))
    .param(required("name", text(1, 64)))
    .param(required("password", text(1, 256)))
    .refuses(401, 40105, "name or password wrong")
    .refuses(429, 42901, "too many failed logins from this address")
}

/// What logout answers, for `/openapi.json`.
pub fn logout_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(crate::openapi::empty())
}
