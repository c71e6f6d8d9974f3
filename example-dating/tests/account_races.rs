//! Changes of an account racing its logins: a deletion or a ban fired 0–30 ms after a login of
//! the same phone, 200 rounds each, on SQLite, MariaDB and PostgreSQL. Whatever the order, no
//! session of the banned or deleted account is left in the database, and no token the race
//! handed out works for it (docs/src/dating/api/auth.md: "No token of a banned or deleted account works, whatever
//! the timing"). And changes racing each other: a person hiding themselves while banned, or
//! from two requests at once, leaves the kept count of public people one lower, not two.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::races::{mix, turns};
use common::{TestApp, code};
use example_dating::auth::logins::Login;
use example_dating::codes::AppError;
use example_dating::db::entity::users::user_token;
use example_dating::people::phone;
use http::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const ROUNDS: u64 = 200;

/// When each side starts, as (the login's wait, the account change's wait): a quarter of the
/// rounds send the change 0–30 ms after the login (a client's request arriving a little later),
/// half start the login 1–2 ms after the change (inside its transaction), the rest start both
/// at once, a few scheduler turns apart.
fn stagger(round: u64) -> (Duration, Duration) {
    match round % 4 {
        0 => (
            Duration::ZERO,
            Duration::from_micros(mix(round, 2) % 30_000),
        ),
        1 => (Duration::from_millis(1), Duration::ZERO),
        2 => (Duration::from_millis(2), Duration::ZERO),
        _ => (Duration::ZERO, Duration::ZERO),
    }
}

async fn sessions_of(t: &TestApp, user_id: i64) -> u64 {
    user_token::Entity::find()
        .filter(user_token::Column::UserId.eq(user_id))
        .count(&t.state.db)
        .await
        .unwrap()
}

/// Round `round` of a race: a second login of `phone` and `change` (an account change), each
/// started as [`stagger`] says. Returns the login's answer and the change's code.
async fn race(
    t: &Arc<TestApp>,
    round: u64,
    phone: &str,
    change: impl Future<Output = i64> + Send + 'static,
) -> (Result<Login, AppError>, i64) {
    let login = {
        let (t, phone) = (Arc::clone(t), phone.to_owned());
        tokio::spawn(async move {
            turns(mix(round, 3) % 64).await;
            tokio::time::sleep(stagger(round).0).await;
            t.state.logins().open(&phone).await
        })
    };
    let change = tokio::spawn(async move {
        turns(mix(round, 1) % 64).await;
        tokio::time::sleep(stagger(round).1).await;
        change.await
    });
    (login.await.unwrap(), change.await.unwrap())
}

async fn me(t: &TestApp, token: &str) -> i64 {
    code(&t.call(Method::GET, "/api/me", &[], Some(token)).await)
}

/// A login racing the account's deletion (with the account's own older token): it logs into
/// the account before the deletion (whose revocation then ends it) or registers the phone anew
/// after it — never a working session of the erased account.
async fn login_races_deletion(t: Arc<TestApp>) {
    let (mut before_it, mut after_it) = (0, 0);
    for round in 0..ROUNDS {
        let phone = phone::canonical(&format!("137{:08}", 10_000 + round)).unwrap();
        let first = t.state.logins().open(&phone).await.unwrap();
        let deletion = {
            let (t, token) = (Arc::clone(&t), first.token.clone());
            async move {
                code(
                    &t.call(Method::POST, "/api/me/delete", &[], Some(&token))
                        .await,
                )
            }
        };
        let (login, deleted) = race(&t, round, &phone, deletion).await;
        let login = login.expect("a login of a live phone");
        assert_eq!(deleted, 0, "round {round}: the deletion");
        assert_eq!(sessions_of(&t, first.user_id).await, 0, "round {round}");
        assert_eq!(me(&t, &first.token).await, 40105, "round {round}");
        if login.user_id == first.user_id {
            before_it += 1;
            assert_eq!(me(&t, &login.token).await, 40105, "round {round}: a ghost");
        } else {
            after_it += 1;
            assert!(login.registered, "round {round}: a new account");
            assert_eq!(me(&t, &login.token).await, 0, "round {round}");
        }
    }
    eprintln!("login before the deletion: {before_it}, after it: {after_it}");
}

/// A login racing a ban: refused (40303) or its session ended by the ban.
async fn login_races_ban(t: Arc<TestApp>) {
    let admin = t
        .operator("racer", "admin", &["users:read", "users:ban"])
        .await;
    let (mut before_it, mut after_it) = (0, 0);
    for round in 0..ROUNDS {
        let phone = phone::canonical(&format!("136{:08}", 10_000 + round)).unwrap();
        let first = t.state.logins().open(&phone).await.unwrap();
        let ban = {
            let (t, admin) = (Arc::clone(&t), admin.clone());
            let path = format!("/manage/dating/admin/api/users/{}/ban.json", first.user_id);
            async move {
                let reason = [("reason", "race")];
                code(&t.manage(Method::POST, &path, &reason, Some(&admin)).await)
            }
        };
        let (login, banned) = race(&t, round, &phone, ban).await;
        assert_eq!(banned, 0, "round {round}: the ban");
        assert_eq!(sessions_of(&t, first.user_id).await, 0, "round {round}");
        assert_eq!(me(&t, &first.token).await, 40105, "round {round}");
        match login {
            Ok(login) => {
                before_it += 1;
                assert_eq!(login.user_id, first.user_id);
                assert_eq!(
                    me(&t, &login.token).await,
                    40105,
                    "round {round}: survived the ban"
                );
            }
            Err(e) => {
                after_it += 1;
                assert_eq!(e.code(), 40303, "round {round}");
            }
        }
    }
    eprintln!("login before the ban: {before_it}, after it: {after_it}");
}

/// Two changes that each take someone out of the public — hiding themselves (`authority` 0)
/// and, at the same time, a ban or hiding themselves again from another request — move the kept
/// count of public people by one, not two: each moves from the row the other left (both
/// lock it). Whatever the order, the count after is the count before less one.
async fn leaving_the_public_twice_at_once_counts_once(t: Arc<TestApp>) {
    const KEPT: &str = "people:{kept}:public";
    let admin = t.operator("hider", "admin", &["users:ban"]).await;
    example_dating::people::visibility::recount_public(&t.state.db, &*t.state.store)
        .await
        .unwrap();
    let kept = async || -> i64 {
        let kept = t.state.store.get(KEPT).await.unwrap();
        kept.expect("the kept count").parse().unwrap()
    };
    let (mut refused, mut both) = (0, 0);
    for round in 0..ROUNDS {
        // Through the API: a sign-up joins the kept count.
        let (token, user_id) = t.login(&format!("135{:08}", 10_000 + round)).await;
        let before = kept().await;
        let hide = |token: String| {
            let t = Arc::clone(&t);
            async move {
                let hidden = [("authority", "0")];
                let res = t.call(Method::POST, "/api/me/update", &hidden, Some(&token));
                code(&res.await)
            }
        };
        let other = if round % 2 == 0 {
            let (t, admin) = (Arc::clone(&t), admin.clone());
            let path = format!("/manage/dating/admin/api/users/{user_id}/ban.json");
            tokio::spawn(async move {
                turns(mix(round, 1) % 64).await;
                tokio::time::sleep(stagger(round).1).await;
                let reason = [("reason", "race")];
                code(&t.manage(Method::POST, &path, &reason, Some(&admin)).await)
            })
        } else {
            let hide = hide(token.clone());
            tokio::spawn(async move {
                turns(mix(round, 1) % 64).await;
                tokio::time::sleep(stagger(round).1).await;
                hide.await
            })
        };
        let mine = hide(token);
        let mine = tokio::spawn(async move {
            turns(mix(round, 3) % 64).await;
            tokio::time::sleep(stagger(round).0).await;
            mine.await
        });
        let (mine, other) = (mine.await.unwrap(), other.await.unwrap());
        assert_eq!(other, 0, "round {round}: the ban, or the other request");
        // After a ban the caller's own request is refused as a revoked token (40105), whether
        // the ban came before its token was read or before it locked the row.
        if mine == 0 {
            both += 1;
        } else {
            assert_eq!(mine, 40105, "round {round}");
            refused += 1;
        }
        assert_eq!(kept().await, before - 1, "round {round}: out once");
    }
    eprintln!("both changes made: {both}, the request refused after a ban: {refused}");
    let counted = example_dating::people::visibility::recount_public(&t.state.db, &*t.state.store)
        .await
        .unwrap();
    assert_eq!(
        kept().await,
        counted as i64,
        "and the kept count is what a count says"
    );
}

async fn races(url: String) {
    // Every round of the last race signs someone up through the API: one client, many phones.
    let mut config = common::config();
    config.sms.per_client_daily = 10_000;
    let t = Arc::new(
        TestApp::with(
            config,
            &url,
            Arc::new(example_dating::store::MemoryStore::new()),
        )
        .await,
    );
    login_races_deletion(Arc::clone(&t)).await;
    login_races_ban(Arc::clone(&t)).await;
    leaving_the_public_twice_at_once_counts_once(t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_banned_or_deleted_account_keeps_a_session_on_sqlite() {
    let dir = common::TempDir::new("races");
    races(dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_banned_or_deleted_account_keeps_a_session_on_mariadb() {
    common::on_database_server(
        common::MARIADB,
        "no_banned_or_deleted_account_keeps_a_session_on_mariadb",
        races,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_banned_or_deleted_account_keeps_a_session_on_postgres() {
    common::on_database_server(
        common::POSTGRES,
        "no_banned_or_deleted_account_keeps_a_session_on_postgres",
        races,
    )
    .await;
}

/// The race's other order, made deterministic: a change of authority that reaches the row
/// after a ban committed is refused as a revoked token (40105) and changes nothing — neither
/// the row nor the kept count of public people.
#[tokio::test]
async fn a_change_of_authority_after_a_ban_changes_nothing() {
    use example_dating::db::entity::users::user_info;
    use example_dating::people::{Authority, account, visibility};
    use sea_orm::{IntoActiveModel, Set};
    let t = TestApp::new().await;
    let (_, user_id) = t.user("18900000777").await;
    account::ban(&t.state, user_id, "spam").await.unwrap();
    let counted = visibility::recount_public(&t.state.db, &*t.state.store)
        .await
        .unwrap();
    // What the request built from the row it read before the ban.
    let before = user_info::Entity::find_by_id(user_id)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut edited = before.clone().into_active_model();
    edited.authority = Set(Authority::Hidden);
    edited.banned = Set(false);
    let refused = account::edit(&t.state, user_id, edited).await;
    assert_eq!(refused.unwrap_err().code(), 40105);
    let after = user_info::Entity::find_by_id(user_id)
        .one(&t.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before, "the row is as the ban left it");
    let kept = t.state.store.get("people:{kept}:public").await.unwrap();
    assert_eq!(kept, Some(counted.to_string()), "and the count too");
}
