//! Logins, written in groups.
//!
//! A login writes a session, and a phone's first login the user and its identity too. On the
//! embedded SQLite every statement is a hand-off to the connection's thread and every commit a
//! write to the log: one login at a time, the login flow was made of them. One task writes the
//! logins waiting at that moment together — one transaction, one lookup, one multi-row insert
//! per table — so under load a login costs a fraction of a statement; alone, a first login
//! costs seven and a known user's four (docs/src/dating/decisions.md, "Logins in groups").
//!
//! A group that loses a registration to another instance (the unique identity index refuses
//! it) or that the database aborts wrote nothing and is written again: its lookup then finds
//! the winner's user.

use sea_orm::sea_query::{Expr, ExprTrait as _, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, FromQueryResult, IntoActiveModel, Iterable, QueryFilter, QueryOrder, Set, SqlErr,
};
use std::collections::{HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};

use crate::clock;
use crate::codes::{self, AppError};
use crate::db::entity::users::{user_auth, user_info, user_token};
use crate::people::{Authority, Standing};

/// The most logins one transaction writes: a commit stays short, and its statements stay far
/// below every database's limit on bound values (8 per new user).
pub const GROUP: usize = 64;

/// The session a login opened.
#[derive(Clone, Debug)]
pub struct Login {
    /// The phone's user.
    pub user_id: i64,
    /// The session's token.
    pub token: String,
    /// When it expires (Unix seconds).
    pub expire_at: i64,
    /// Whether this login registered the phone (a registration changes what the hot list
    /// counts: the caller tells it, after the commit).
    pub registered: bool,
}

/// Each login of a group: its session, or its refusal (a banned user, 40303).
pub type Answers = Vec<Result<Login, AppError>>;

/// The sender of logins to the task that writes them. Dropping the last one ends the task.
#[derive(Clone)]
pub struct Logins {
    waiting: mpsc::Sender<Job>,
    db: DatabaseConnection,
    session_secs: u64,
}

struct Job {
    phone: String,
    reply: oneshot::Sender<Result<Login, AppError>>,
}

impl Logins {
    /// Starts the writing task (on the current tokio runtime) for sessions of `session_secs`.
    pub fn spawn(db: DatabaseConnection, session_secs: u64) -> Self {
        // A few groups may wait: beyond that a login waits to be queued (back-pressure), not
        // in an unbounded queue.
        let (waiting, queue) = mpsc::channel(GROUP * 4);
        tokio::spawn(write_groups(db.clone(), session_secs, queue));
        Logins {
            waiting,
            db,
            session_secs,
        }
    }

    /// Opens a session for the user of `phone` (a verified phone), registering it on its first
    /// login; a banned user gets 40303.
    pub async fn open(&self, phone: &str) -> Result<Login, AppError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            phone: phone.to_owned(),
            reply,
        };
        if self.waiting.send(job).await.is_ok() {
            if let Ok(answer) = answer.await {
                return answer;
            }
        }
        // The task is gone (its runtime ended): a group of one, here.
        let mut answers = write(&self.db, self.session_secs, &[phone]).await?;
        answers.pop().unwrap_or_else(|| Err(codes::internal()))
    }
}

/// The task: takes whatever logins wait (at least one, at most [`GROUP`]) and writes them.
async fn write_groups(db: DatabaseConnection, session_secs: u64, mut queue: mpsc::Receiver<Job>) {
    let mut group = Vec::with_capacity(GROUP);
    while queue.recv_many(&mut group, GROUP).await > 0 {
        answer(&db, session_secs, &mut group).await;
    }
}

/// Writes `group` and answers each of its logins; leaves it empty.
async fn answer(db: &DatabaseConnection, session_secs: u64, group: &mut Vec<Job>) {
    let phones: Vec<&str> = group.iter().map(|job| job.phone.as_str()).collect();
    let answers = match write(db, session_secs, &phones).await {
        Ok(answers) => answers,
        Err(e) => {
            // Logged once for the group; each login gets 50301.
            tracing::warn!(error = %e, logins = group.len(), "a group of logins was not written");
            group
                .iter()
                .map(|_| Err(codes::unavailable("database")))
                .collect()
        }
    };
    for (job, answer) in group.drain(..).zip(answers) {
        // A client that left has no one to answer; its session stays unused until it expires.
        let _ = job.reply.send(answer);
    }
}

/// Opens a session for each of `phones` (one each, a phone given twice gets two), registering
/// those that have no user, in one transaction: all of it is written or none. One answer per
/// phone, in order.
pub async fn write(
    db: &DatabaseConnection,
    session_secs: u64,
    phones: &[&str],
) -> Result<Answers, AppError> {
    let lost_a_race = |e: &DbErr| matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)));
    let phones: Vec<String> = phones.iter().map(|&phone| phone.to_owned()).collect();
    crate::db::in_transaction_retrying(
        db,
        |e| lost_a_race(e) || crate::db::is_transient(e),
        |txn| {
            let phones = phones.clone();
            Box::pin(async move { fill(txn, session_secs, &phones).await })
        },
    )
    .await
}

async fn fill(
    txn: &DatabaseTransaction,
    session_secs: u64,
    phones: &[String],
) -> Result<Answers, AppError> {
    let now = clock::now();
    let mut users = registered(txn, phones).await?;
    let mut seen = HashSet::new();
    let new: Vec<&str> = phones
        .iter()
        .map(String::as_str)
        .filter(|&phone| !users.contains_key(phone) && seen.insert(phone))
        .collect();
    if !new.is_empty() {
        users.extend(register(txn, &new, now).await?);
    }
    let mut first: HashSet<&str> = new.into_iter().collect();
    let mut sessions = Vec::with_capacity(phones.len());
    let mut answers = Vec::with_capacity(phones.len());
    for phone in phones {
        let user = users.get(phone).ok_or(DbErr::RecordNotInserted)?;
        // Never a session row for an account that is not live.
        if let Err(refusal) = Standing::of(user).refusal() {
            answers.push(Err(refusal));
            continue;
        }
        let session = user_token::new_session(user.user_id, now, session_secs);
        answers.push(Ok(Login {
            user_id: user.user_id,
            token: session.token.clone(),
            expire_at: session.expire_at,
            registered: first.remove(phone.as_str()),
        }));
        sessions.push(session.into_active_model().reset_all());
    }
    user_token::Entity::insert_many(sessions)
        .exec_without_returning(txn)
        .await?;
    Ok(answers)
}

/// The users whose phone identity is one of `phones`, by phone: one statement, which takes
/// their rows for the rest of the transaction (`FOR UPDATE`), as a ban or a deletion does
/// first: a login waits for one that is under way and sees what it wrote (a banned user, or no
/// identity — the phone then registers anew), and one that comes later finds the session this
/// login wrote and ends it.
async fn registered(
    txn: &DatabaseTransaction,
    phones: &[String],
) -> Result<HashMap<String, user_info::Model>, DbErr> {
    let mut select = Query::select();
    select
        .column((user_auth::Entity, user_auth::Column::Identifier))
        .from(user_auth::Entity)
        .inner_join(
            user_info::Entity,
            Expr::col((user_info::Entity, user_info::Column::UserId))
                .equals((user_auth::Entity, user_auth::Column::UserId)),
        )
        .and_where(Expr::col((user_auth::Entity, user_auth::Column::LoginType)).eq("phone"))
        .and_where(
            Expr::col((user_auth::Entity, user_auth::Column::Identifier)).is_in(phones.iter()),
        );
    for column in user_info::Column::iter() {
        select.column((user_info::Entity, column));
    }
    select.lock(LockType::Update);
    let mut users = HashMap::with_capacity(phones.len());
    for row in txn.query_all(&select).await? {
        let phone: String = row.try_get("", "identifier")?;
        users.insert(phone, user_info::Model::from_query_result(&row, "")?);
    }
    Ok(users)
}

/// The profile a phone's first login makes (`phone` in E.164): nickname `u-` and the number as
/// dialled at home, visible to all, not written.
pub fn new_profile(phone: &str, now: i64) -> user_info::ActiveModel {
    let nickname = format!("u-{}", crate::people::phone::national(phone));
    user_info::ActiveModel {
        // Set here: a multi-row insert does not run `before_save`, which keeps it in step.
        search_key: Set(Some(user_info::search_key(&nickname))),
        nickname: Set(nickname),
        phone: Set(phone.to_owned()),
        gender: Set(0),
        authority: Set(Authority::Everyone),
        banned: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The phone identity of `user_id`, not written: what finds the user at the next login.
pub fn new_identity(user_id: i64, phone: &str, now: i64) -> user_auth::ActiveModel {
    user_auth::ActiveModel {
        user_id: Set(user_id),
        login_type: Set("phone".into()),
        identifier: Set(phone.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
}

/// Registers each of `new` (phones without a user): the profiles in one insert, read back, then
/// their identities in one insert. The unique identity index refuses a phone another instance
/// registered meanwhile, and with it the whole group.
async fn register(
    txn: &DatabaseTransaction,
    new: &[&str],
    now: i64,
) -> Result<HashMap<String, user_info::Model>, DbErr> {
    let profiles = new.iter().map(|phone| new_profile(phone, now));
    user_info::Entity::insert_many(profiles)
        .exec_without_returning(txn)
        .await?;
    // Read back by phone (multi-row `RETURNING` is not on every backend): these phones' rows
    // without an identity — a user registered before has one, an erased one has no phone —
    // the newest per phone, in case an older one lost its identity some other way.
    let identified = Query::select()
        .column(user_auth::Column::UserId)
        .from(user_auth::Entity)
        .and_where(user_auth::Column::LoginType.eq("phone"))
        .and_where(user_auth::Column::Identifier.is_in(new.iter().copied()))
        .to_owned();
    let created: HashMap<String, user_info::Model> = user_info::Entity::find()
        .filter(user_info::Column::Phone.is_in(new.iter().copied()))
        .filter(user_info::Column::UserId.not_in_subquery(identified))
        .order_by_asc(user_info::Column::UserId)
        .all(txn)
        .await?
        .into_iter()
        .map(|user| (user.phone.clone(), user))
        .collect();
    let identities = created
        .values()
        .map(|user| new_identity(user.user_id, &user.phone, now));
    user_auth::Entity::insert_many(identities)
        .exec_without_returning(txn)
        .await?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::PaginatorTrait;

    async fn db() -> DatabaseConnection {
        let db = crate::db::connect("sqlite::memory:").await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        db
    }

    async fn rows(db: &DatabaseConnection) -> [u64; 3] {
        [
            user_info::Entity::find().count(db).await.unwrap(),
            user_auth::Entity::find().count(db).await.unwrap(),
            user_token::Entity::find().count(db).await.unwrap(),
        ]
    }

    fn session(answer: &Result<Login, AppError>) -> &Login {
        answer
            .as_ref()
            .unwrap_or_else(|e| panic!("no session: {e:?}"))
    }

    fn code(answer: &Result<Login, AppError>) -> u32 {
        match answer {
            Ok(login) => panic!("a session: {login:?}"),
            Err(e) => e.code(),
        }
    }

    /// One group: new phones registered once each (a phone twice gets two sessions of one
    /// user), a registered phone logs into its user, a banned one gets no session.
    #[tokio::test]
    async fn a_group_registers_new_phones_once_and_refuses_the_banned() {
        let db = db().await;
        let before = write(&db, 60, &["13900000003", "13900000004"])
            .await
            .unwrap();
        let known = session(&before[0]);
        assert!(known.registered);
        let banned = session(&before[1]).user_id;
        user_info::ActiveModel {
            user_id: sea_orm::ActiveValue::Unchanged(banned),
            banned: Set(true),
            ..Default::default()
        }
        .update(&db)
        .await
        .unwrap();
        assert_eq!(rows(&db).await, [2, 2, 2]);

        let phones = [
            "13900000001",
            "13900000002",
            "13900000001",
            "13900000003",
            "13900000004",
        ];
        let written = write(&db, 60, &phones).await.unwrap();
        let [a, b, again, old] = [0, 1, 2, 3].map(|i| session(&written[i]));
        assert_eq!(
            [a.registered, b.registered, again.registered, old.registered],
            [true, true, false, false],
            "which login registered its phone"
        );
        assert_eq!(a.user_id, again.user_id, "one user per phone");
        assert_ne!(a.token, again.token, "a session per login");
        assert_ne!(a.user_id, b.user_id);
        assert_eq!(old.user_id, known.user_id);
        assert_eq!(code(&written[4]), codes::banned().code());
        assert_eq!(rows(&db).await, [4, 4, 6], "two users, four sessions more");
        for (login, phone) in [(a, phones[0]), (b, phones[1])] {
            let fresh = user_info::Entity::find_by_id(login.user_id)
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(fresh.phone, phone);
            assert_eq!(fresh.nickname, format!("u-{phone}"));
            assert_eq!(fresh.search_key, Some(format!("u-{phone}").into_bytes()));
        }
        for login in [a, b, again, old] {
            let row = user_token::Entity::find_by_id(login.token.clone())
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (row.user_id, row.expire_at),
                (login.user_id, login.expire_at)
            );
        }
    }

    /// A group whose identity insert the unique index keeps refusing (a trigger writes the
    /// phone's identity first, every time) is tried three times, writes nothing, and each of
    /// its logins is answered 50301.
    #[tokio::test]
    async fn a_group_refused_every_time_writes_nothing_and_answers_50301() {
        let db = db().await;
        db.execute_unprepared(
            "CREATE TRIGGER rival BEFORE INSERT ON user_auth WHEN NEW.identifier = '13900000009' \
             AND NEW.user_id <> 0 BEGIN INSERT INTO user_auth (user_id, login_type, identifier, \
             created_at) VALUES (0, 'phone', '13900000009', 0); END",
        )
        .await
        .unwrap();
        let phones = ["13900000008", "13900000009"];
        let e = write(&db, 60, &phones).await.unwrap_err();
        assert!(
            matches!(&e, AppError::Database(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))),
            "{e}"
        );
        assert_eq!(rows(&db).await, [0, 0, 0], "nothing half-written");

        let (mut group, mut answers) = (Vec::new(), Vec::new());
        for phone in phones {
            let (reply, answer) = oneshot::channel();
            group.push(Job {
                phone: phone.into(),
                reply,
            });
            answers.push(answer);
        }
        answer(&db, 60, &mut group).await;
        assert!(group.is_empty());
        for answer in answers {
            assert_eq!(code(&answer.await.unwrap()), codes::UNAVAILABLE);
        }
        assert_eq!(rows(&db).await, [0, 0, 0]);
    }

    /// A closed database fails the group: 50301.
    #[tokio::test]
    async fn a_failed_database_fails_the_group() {
        let db = db().await;
        db.clone().close().await.unwrap();
        let (reply, answer_) = oneshot::channel();
        let mut group = vec![Job {
            phone: "13900000007".into(),
            reply,
        }];
        answer(&db, 60, &mut group).await;
        assert_eq!(code(&answer_.await.unwrap()), codes::UNAVAILABLE);
    }

    /// Through the task: a login opens a session; with the task gone, the login is written
    /// as a group of one by the caller.
    #[tokio::test]
    async fn the_task_answers_and_without_it_the_caller_writes() {
        let db = db().await;
        let logins = Logins::spawn(db.clone(), 60);
        let first = logins.open("13900000006").await.unwrap();
        assert!(first.registered);

        let (waiting, queue) = mpsc::channel(1);
        drop(queue);
        let gone = Logins { waiting, ..logins };
        let again = gone.open("13900000006").await.unwrap();
        assert_eq!(again.user_id, first.user_id);
        assert!(!again.registered);
        assert_eq!(rows(&db).await, [1, 1, 2]);
    }
}
