//! Logins, written in groups.
//!
//! A login writes a session, and a phone's first login the user and its identity too. Alone,
//! that is six statements (a lookup, `BEGIN`, three inserts, `COMMIT`), and on the embedded
//! SQLite every statement is a hand-off to the connection's thread and every commit a write to
//! the log: the login flow was made of them. One task writes the logins waiting at that moment
//! together — one transaction, one lookup, one multi-row insert per table — so under load a
//! login costs a fraction of a statement; alone, a first login costs seven and a known user's
//! four (docs/src/dating/decisions.md, "Logins in groups").
//!
//! A group that cannot be written (another instance registered one of its phones meanwhile,
//! the database aborted it) wrote nothing, and each of its logins is tried alone, by the
//! one-login path that settles those races.

use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    FromQueryResult, Iterable, NotSet, QueryFilter, Set, SqlErr,
};
use std::collections::{HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};

use crate::clock;
use crate::db::entity::users::{user_auth, user_info, user_token};
use crate::random;

/// The most logins one transaction writes: a commit stays short, and its statements stay far
/// below every database's limit on bound values (8 per new user).
pub const GROUP: usize = 64;

/// How a login came out.
#[derive(Debug)]
pub enum Opened {
    /// A new session of the phone's user.
    Session {
        /// The phone's user.
        user: Box<user_info::Model>,
        /// The session's token and when it expires (Unix seconds).
        session: (String, i64),
        /// Whether this login registered the phone (a registration changes what the hot list
        /// counts: the caller tells it, after the commit).
        registered: bool,
    },
    /// The phone's user is banned: no session (40303).
    Banned,
    /// The group was not written (nothing of it was): log in alone.
    Alone,
    /// The database failed (50301); nothing was written.
    Failed(String),
}

/// The sender of logins to the task that writes them. Dropping the last one ends the task.
#[derive(Clone)]
pub struct Logins {
    waiting: mpsc::Sender<Job>,
}

struct Job {
    phone: String,
    reply: oneshot::Sender<Opened>,
}

impl Logins {
    /// Starts the writing task (on the current tokio runtime) for sessions of `session_secs`.
    pub fn spawn(db: DatabaseConnection, session_secs: u64) -> Self {
        // A few groups may wait: beyond that a login waits to be queued (back-pressure), not
        // in an unbounded queue.
        let (waiting, queue) = mpsc::channel(GROUP * 4);
        tokio::spawn(write_groups(db, session_secs, queue));
        Logins { waiting }
    }

    /// Opens a session for the user of `phone` (a verified phone), registering it on its first
    /// login. [`Opened::Alone`] if the task is gone too (its runtime ended).
    pub async fn open(&self, phone: &str) -> Opened {
        let (reply, opened) = oneshot::channel();
        let job = Job {
            phone: phone.to_owned(),
            reply,
        };
        if self.waiting.send(job).await.is_err() {
            return Opened::Alone;
        }
        opened.await.unwrap_or(Opened::Alone)
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
    let opened = match write(db, session_secs, &phones).await {
        Ok(logins) => logins,
        Err(e) => {
            let alone = matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
                || matches!(e, DbErr::RecordNotInserted)
                || crate::db::is_transient(&e);
            tracing::debug!(error = %e, logins = group.len(), alone, "a group of logins was not written");
            let failed = || {
                if alone {
                    Opened::Alone
                } else {
                    Opened::Failed(e.to_string())
                }
            };
            group.iter().map(|_| failed()).collect()
        }
    };
    for (job, opened) in group.drain(..).zip(opened) {
        // A client that left has no one to answer; its session stays unused until it expires.
        let _ = job.reply.send(opened);
    }
}

/// Opens a session for each of `phones` (one each, a phone given twice gets two), registering
/// those that have no user, in one transaction: all of it is written or none. A banned user's
/// login gets [`Opened::Banned`] and no session. One answer per phone, in order.
pub async fn write(
    db: &DatabaseConnection,
    session_secs: u64,
    phones: &[&str],
) -> Result<Vec<Opened>, DbErr> {
    let txn = crate::db::begin(db).await?;
    match fill(&txn, session_secs, phones).await {
        Ok(written) => {
            txn.commit().await?;
            Ok(written)
        }
        Err(e) => {
            // Explicitly, so the connection is clean before the next group takes it.
            txn.rollback().await?;
            Err(e)
        }
    }
}

async fn fill(
    txn: &DatabaseTransaction,
    session_secs: u64,
    phones: &[&str],
) -> Result<Vec<Opened>, DbErr> {
    let now = clock::now();
    let mut users = registered(txn, phones).await?;
    let mut seen = HashSet::new();
    let new: Vec<&str> = phones
        .iter()
        .copied()
        .filter(|phone| !users.contains_key(*phone) && seen.insert(*phone))
        .collect();
    if !new.is_empty() {
        users.extend(register(txn, &new, now).await?);
    }
    let mut first = new.into_iter().collect::<HashSet<_>>();
    let expire_at = now + session_secs as i64;
    let mut sessions = Vec::with_capacity(phones.len());
    let mut logins = Vec::with_capacity(phones.len());
    for phone in phones {
        let user = users.get(*phone).ok_or(DbErr::RecordNotInserted)?;
        if user.banned {
            logins.push(Opened::Banned);
            continue;
        }
        let token = random::hex_token(16);
        sessions.push(user_token::ActiveModel {
            token: Set(token.clone()),
            user_id: Set(user.user_id),
            expire_at: Set(expire_at),
            created_at: Set(now),
        });
        logins.push(Opened::Session {
            user: Box::new(user.clone()),
            session: (token, expire_at),
            registered: first.remove(phone),
        });
    }
    user_token::Entity::insert_many(sessions)
        .exec_without_returning(txn)
        .await?;
    Ok(logins)
}

/// The users whose phone identity is one of `phones`, by phone: one statement.
async fn registered(
    txn: &DatabaseTransaction,
    phones: &[&str],
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
            Expr::col((user_auth::Entity, user_auth::Column::Identifier))
                .is_in(phones.iter().copied()),
        );
    for column in user_info::Column::iter() {
        select.column((user_info::Entity, column));
    }
    let mut users = HashMap::with_capacity(phones.len());
    for row in txn.query_all(&select).await? {
        let phone: String = row.try_get("", "identifier")?;
        users.insert(phone, user_info::Model::from_query_result(&row, "")?);
    }
    Ok(users)
}

/// Registers each of `new` (phones without a user): the profiles in one insert, read back, then
/// their identities in one insert. The unique identity index refuses a phone another instance
/// registered meanwhile, and with it the whole group.
async fn register(
    txn: &DatabaseTransaction,
    new: &[&str],
    now: i64,
) -> Result<HashMap<String, user_info::Model>, DbErr> {
    let profiles = new.iter().map(|phone| {
        let nickname = format!("u-{phone}");
        user_info::ActiveModel {
            search_key: Set(Some(user_info::search_key(&nickname))),
            nickname: Set(nickname),
            phone: Set((*phone).to_owned()),
            gender: Set(0),
            authority: Set(1),
            banned: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    });
    user_info::Entity::insert_many(profiles)
        .exec_without_returning(txn)
        .await?;
    // Read back by phone: the rows just written are those of these phones without an identity
    // (a user registered before has one; an erased one has no phone). Multi-row `RETURNING` is
    // not on every backend.
    let identified = Query::select()
        .column(user_auth::Column::UserId)
        .from(user_auth::Entity)
        .and_where(user_auth::Column::LoginType.eq("phone"))
        .and_where(user_auth::Column::Identifier.is_in(new.iter().copied()))
        .to_owned();
    let created = user_info::Entity::find()
        .filter(user_info::Column::Phone.is_in(new.iter().copied()))
        .filter(user_info::Column::UserId.not_in_subquery(identified))
        .all(txn)
        .await?;
    if created.len() != new.len() {
        // Not the rows this group wrote (a profile left without identity): let each login
        // settle alone rather than guess.
        return Err(DbErr::RecordNotInserted);
    }
    let identities = created.iter().map(|user| user_auth::ActiveModel {
        id: NotSet,
        user_id: Set(user.user_id),
        login_type: Set("phone".into()),
        identifier: Set(user.phone.clone()),
        created_at: Set(now),
    });
    user_auth::Entity::insert_many(identities)
        .exec_without_returning(txn)
        .await?;
    Ok(created
        .into_iter()
        .map(|user| (user.phone.clone(), user))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ActiveModelTrait, PaginatorTrait};

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

    fn session(opened: &Opened) -> (&user_info::Model, &str, bool) {
        match opened {
            Opened::Session {
                user,
                session: (token, _),
                registered,
            } => (user, token, *registered),
            other => panic!("no session: {other:?}"),
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
        let (known, _, first) = session(&before[0]);
        assert!(first, "registered");
        let (banned, _, _) = session(&before[1]);
        user_info::ActiveModel {
            user_id: sea_orm::ActiveValue::Unchanged(banned.user_id),
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
            [a.2, b.2, again.2, old.2],
            [true, true, false, false],
            "which login registered its phone"
        );
        assert_eq!(
            (a.0.phone.as_str(), b.0.phone.as_str()),
            (phones[0], phones[1])
        );
        assert_eq!(a.0.user_id, again.0.user_id, "one user per phone");
        assert_ne!(a.1, again.1, "a session per login");
        assert_ne!(a.0.user_id, b.0.user_id);
        assert_eq!(old.0.user_id, known.user_id);
        assert!(matches!(written[4], Opened::Banned));
        assert_eq!(rows(&db).await, [4, 4, 6], "two users, four sessions more");
        let fresh = user_info::Entity::find_by_id(a.0.user_id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fresh.nickname, "u-13900000001");
        assert_eq!(fresh.search_key, Some(b"u-13900000001".to_vec()));
        for (user, token, _) in [a, b, again, old] {
            let row = user_token::Entity::find_by_id(token.to_owned())
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.user_id, user.user_id);
        }
    }

    /// A group whose identity insert hits the unique index (another instance registered the
    /// phone; here a trigger plays it) writes nothing, and each of its logins is sent alone.
    #[tokio::test]
    async fn a_group_that_cannot_be_written_writes_nothing_and_sends_each_alone() {
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
            matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
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
            assert!(matches!(answer.await.unwrap(), Opened::Alone));
        }
        assert_eq!(rows(&db).await, [0, 0, 0]);
    }

    /// A closed database fails the group (50301), not sent alone to wait for it again.
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
        assert!(matches!(answer_.await.unwrap(), Opened::Failed(_)));
    }

    /// Through the task: a login opens a session; with the task gone, it is sent alone.
    #[tokio::test]
    async fn the_task_answers_and_its_absence_sends_logins_alone() {
        let db = db().await;
        let logins = Logins::spawn(db.clone(), 60);
        let opened = logins.open("13900000006").await;
        assert_eq!(session(&opened).0.phone, "13900000006");

        let (waiting, queue) = mpsc::channel(1);
        drop(queue);
        let gone = Logins { waiting };
        assert!(matches!(gone.open("13900000006").await, Opened::Alone));
    }
}
