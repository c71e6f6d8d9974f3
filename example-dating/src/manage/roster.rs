//! What the command line does to operators: adds them, issues tokens, disables, enables,
//! changes passwords and privileges, ends sessions, lists them. Each change is one transaction
//! with its audit row (by "command line"), and holds from the operator's next request on every
//! instance: the console reads the operator's row and session on each request
//! (`session::load_operator`).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::audit::Audit;
use super::operators::{MAX_NAME, PRIVILEGES, Role, hash_password};
use crate::clock;
use crate::db::entity::rooms::{operator, operator_token};
use crate::random;

/// Creates an operator. Errors name what to fix.
pub async fn add(
    db: &DatabaseConnection,
    name: &str,
    role: &str,
    privileges: &[String],
    password: &str,
) -> Result<operator::Model, String> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!("--name: 1 to {MAX_NAME} bytes"));
    }
    let role = Role::parse(role).ok_or_else(|| format!("--role: `{role}` is not admin or host"))?;
    check_privileges(role, privileges)?;
    check_password(password)?;
    let exists = operator::Entity::find()
        .filter(operator::Column::Name.eq(name))
        .one(db)
        .await
        .map_err(|e| e.to_string())?;
    if exists.is_some() {
        return Err(format!("an operator named `{name}` exists already"));
    }
    let err = |e: sea_orm::DbErr| e.to_string();
    let txn = crate::db::begin(db).await.map_err(err)?;
    let added = operator::ActiveModel {
        name: Set(name.to_owned()),
        role: Set(role.as_str().to_owned()),
        privileges: Set(once_each(privileges).join(",")),
        password_hash: Set(hash_password(password)),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(err)?;
    Audit::by_command_line("operators.add", format!("operator:{}", added.id))
        .note(format!("{} [{}]", added.role, added.privileges))
        .write(&txn)
        .await
        .map_err(err)?;
    txn.commit().await.map_err(err)?;
    Ok(added)
}

/// Privileges an operator of `role` may hold: known ones, and none for a host.
fn check_privileges(role: Role, privileges: &[String]) -> Result<(), String> {
    for privilege in privileges {
        if !PRIVILEGES.contains(&privilege.as_str()) {
            return Err(format!(
                "--privileges: `{privilege}` is not one of {}",
                PRIVILEGES.join(", ")
            ));
        }
    }
    if role == Role::Host && !privileges.is_empty() {
        return Err("--privileges: privileges are for admins; a host manages its own lives".into());
    }
    Ok(())
}

/// A password long enough to keep.
fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 8 {
        return Err("the password needs at least 8 characters".into());
    }
    Ok(())
}

/// The operator named `name`, its row held for the rest of `txn` (a login writing its session
/// waits for the change, or the change for the login: see `session::authenticate`), or an
/// error naming it.
async fn named(txn: &DatabaseTransaction, name: &str) -> Result<operator::Model, String> {
    operator::Entity::find()
        .filter(operator::Column::Name.eq(name.trim()))
        .lock_exclusive()
        .one(txn)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no operator is named `{name}`"))
}

/// What a change from the command line does besides the operator's row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sessions {
    /// Their sessions and tokens go on.
    Kept,
    /// Every session and token of theirs ends: the console refuses them from the next request
    /// (40105), on every instance, and their live feeds end at their next check.
    Ended,
}

/// Changes the operator named `name` with `change` (which may refuse, given the row as it
/// is) and, if `sessions` says so, ends all their sessions, in one transaction with its audit
/// entry (`action`, with `note`): the operator as changed.
async fn change(
    db: &DatabaseConnection,
    name: &str,
    (action, note): (&'static str, &str),
    sessions: Sessions,
    change: impl FnOnce(&operator::Model, &mut operator::ActiveModel) -> Result<(), String>,
) -> Result<operator::Model, String> {
    let err = |e: sea_orm::DbErr| e.to_string();
    // `IMMEDIATE` on SQLite (`db::begin`): the command is another process than the server,
    // and a transaction that reads, then writes, would fail if the server wrote in between.
    let txn = crate::db::begin(db).await.map_err(err)?;
    let now = named(&txn, name).await?;
    let mut row = now.clone().into_active_model();
    change(&now, &mut row)?;
    let changed = row.update(&txn).await.map_err(err)?;
    if sessions == Sessions::Ended {
        operator_token::Entity::delete_many()
            .filter(operator_token::Column::OperatorId.eq(changed.id))
            .exec(&txn)
            .await
            .map_err(err)?;
    }
    Audit::by_command_line(action, format!("operator:{}", changed.id))
        .note(note)
        .write(&txn)
        .await
        .map_err(err)?;
    txn.commit().await.map_err(err)?;
    Ok(changed)
}

/// Disables the operator named `name` (`operator disable`: someone who left, an account
/// thought stolen): no login — the right password is refused like a wrong one — and every
/// session and token of theirs ends. Their lives, audit entries and name stay.
pub async fn disable(db: &DatabaseConnection, name: &str) -> Result<operator::Model, String> {
    let action = ("operators.disable", "");
    change(db, name, action, Sessions::Ended, |_, row| {
        row.disabled = Set(true);
        Ok(())
    })
    .await
}

/// Enables a disabled operator again (`operator enable`): they log in with their password.
pub async fn enable(db: &DatabaseConnection, name: &str) -> Result<operator::Model, String> {
    let action = ("operators.enable", "");
    change(db, name, action, Sessions::Kept, |_, row| {
        row.disabled = Set(false);
        Ok(())
    })
    .await
}

/// Sets a new password for the operator named `name` (`operator password`) and ends every
/// session and token of theirs: a password changed because it leaked ends what it opened.
pub async fn set_password(
    db: &DatabaseConnection,
    name: &str,
    password: &str,
) -> Result<operator::Model, String> {
    check_password(password)?;
    let hash = hash_password(password);
    let action = ("operators.password", "");
    change(db, name, action, Sessions::Ended, |_, row| {
        row.password_hash = Set(hash);
        Ok(())
    })
    .await
}

/// Replaces the privileges of the operator named `name` (`operator privileges`; checked like
/// [`add`]'s). They hold from the operator's next request: a privilege taken away is refused
/// at once, sessions stay, and an open live feed ends at its next check
/// ([`session::unchanged`](crate::manage::session::unchanged)).
pub async fn set_privileges(
    db: &DatabaseConnection,
    name: &str,
    privileges: &[String],
) -> Result<operator::Model, String> {
    let set = once_each(privileges).join(",");
    let action = ("operators.privileges", set.as_str());
    change(db, name, action, Sessions::Kept, |now, row| {
        check_privileges(Role::parse(&now.role).unwrap_or(Role::Host), privileges)?;
        row.privileges = Set(set.clone());
        Ok(())
    })
    .await
}

/// Ends every session and token of the operator named `name` (`operator logout`: a token
/// that leaked, a console left open), without disabling them.
pub async fn end_sessions(db: &DatabaseConnection, name: &str) -> Result<operator::Model, String> {
    change(
        db,
        name,
        ("operators.logout", ""),
        Sessions::Ended,
        |_, _| Ok(()),
    )
    .await
}

/// Every operator, by name (`operator list`).
pub async fn list(db: &DatabaseConnection) -> Result<Vec<operator::Model>, String> {
    operator::Entity::find()
        .order_by_asc(operator::Column::Name)
        .all(db)
        .await
        .map_err(|e| e.to_string())
}

/// `privileges` with each named once, in the order first named: a list repeated on the command
/// line is stored as the set it means (and fits its column whatever the repeats).
fn once_each(privileges: &[String]) -> Vec<&str> {
    let mut once: Vec<&str> = Vec::with_capacity(privileges.len());
    for privilege in privileges {
        if !once.contains(&privilege.as_str()) {
            once.push(privilege);
        }
    }
    once
}

/// A token for the operator named `name`, valid for `days` days, issued from the command line
/// (no password: whoever runs the command holds the database already). For a scraper — a
/// Prometheus holding `metrics:read` — whose configuration keeps the token: a login's token
/// lasts hours. Ended with the operator's other sessions ([`end_sessions`], [`disable`],
/// [`set_password`]), or by deleting its row.
pub async fn issue_token(
    db: &DatabaseConnection,
    name: &str,
    days: u32,
) -> Result<(String, i64), String> {
    if !(1..=3660).contains(&days) {
        return Err("--days: 1 to 3660".into());
    }
    let token = random::hex_token(16);
    let now = clock::now();
    let expire_at = now + i64::from(days) * 86_400;
    let err = |e: sea_orm::DbErr| e.to_string();
    let txn = crate::db::begin(db).await.map_err(err)?;
    // Checked holding the row: a disable committing meanwhile cannot miss this token.
    let op = named(&txn, name).await?;
    if op.disabled {
        return Err(format!("`{name}` is disabled: `operator enable` first"));
    }
    operator_token::ActiveModel {
        token: Set(token.clone()),
        operator_id: Set(op.id),
        expire_at: Set(expire_at),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(err)?;
    // The token itself is not written down: the log is read by admins, the token is a key.
    Audit::by_command_line("operators.token", format!("operator:{}", op.id))
        .note(format!("until {}", clock::format(expire_at)))
        .write(&txn)
        .await
        .map_err(err)?;
    txn.commit().await.map_err(err)?;
    Ok((token, expire_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manage::operators::verify_password;

    #[tokio::test]
    async fn operators_are_added_with_a_verifiable_hash_and_bad_input_is_named() {
        let db = crate::db::connect("sqlite::memory:").await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        let privileges = vec!["users:read".to_owned(), "live:write".to_owned()];
        let op = add(&db, "alice", "admin", &privileges, "correct horse")
            .await
            .unwrap();
        assert_eq!(
            (op.role.as_str(), op.privileges.as_str()),
            ("admin", "users:read,live:write")
        );
        assert!(op.password_hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &op.password_hash));
        assert!(!verify_password("wrong horse", &op.password_hash));

        let cases: [(&str, &str, Vec<String>, &str, &str); 5] = [
            ("alice", "admin", vec![], "password1", "exists"),
            ("bob", "root", vec![], "password1", "--role"),
            (
                "bob",
                "admin",
                vec!["users:eat".into()],
                "password1",
                "--privileges",
            ),
            (
                "bob",
                "host",
                vec!["users:read".into()],
                "password1",
                "--privileges",
            ),
            ("bob", "host", vec![], "short", "8 characters"),
        ];
        for (name, role, privileges, password, expected) in cases {
            let err = add(&db, name, role, &privileges, password)
                .await
                .unwrap_err();
            assert!(err.contains(expected), "{name}/{role}: {err}");
        }
    }
}
