//! A login group that loses a registration to another instance, made certain rather than left
//! to timing, on MariaDB and PostgreSQL: the group is written again and logs into the winner.

mod common;

use std::sync::Arc;

use common::TestApp;
use sea_orm::{EntityTrait, PaginatorTrait};

/// The race made certain: another instance's transaction holds the phone's new user and
/// identity, uncommitted, while a login group inserts the same identity and waits on the unique
/// index; the rival commits, the index refuses the group, and the group, written again, logs
/// into the winner and leaves no profile of its own — and refuses the winner once banned.
async fn a_group_that_loses_a_registration_logs_into_the_winner(url: String) {
    use example_dating::auth::logins::{self, new_identity, new_profile};
    use example_dating::db::entity::users::user_info;
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, TransactionTrait};
    let store = Arc::new(example_dating::store::MemoryStore::new());
    let t = TestApp::with(common::config(), &url, store).await;
    let db = t.state.db.clone();
    let (phone, other) = ("18900030001", "18900030002");
    let now = example_dating::clock::now();

    let rival = db.begin().await.unwrap();
    let winner = new_profile(phone, now).insert(&rival).await.unwrap();
    new_identity(winner.user_id, phone, now)
        .insert(&rival)
        .await
        .unwrap();
    let group = {
        let db = db.clone();
        tokio::spawn(async move { logins::write(&db, 60, &[phone, other]).await })
    };
    // The group is waiting on the rival's identity when the database shows it.
    let waiting = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock'"
        }
        _ => {
            // MariaDB lists no lock wait for a duplicate-key check; but the rival's identity
            // was there before the group began, so a group inserting identities is waiting —
            // or, as the lookup locks what it reads, a group reading the phones' identities.
            "SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() \
             AND id <> CONNECTION_ID() AND (info LIKE 'INSERT INTO `user_auth`%' \
             OR (info LIKE 'SELECT%' AND info LIKE '%FOR UPDATE'))"
        }
    };
    let mut polls = 0;
    loop {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                waiting,
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get_by_index::<i64>(0).unwrap() > 0 {
            break;
        }
        polls += 1;
        assert!(
            polls < 1_000,
            "the group never waited on the rival's identity"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    rival.commit().await.unwrap();

    let answers = group.await.unwrap().unwrap();
    let lost = answers[0].as_ref().unwrap();
    assert_eq!(lost.user_id, winner.user_id, "logged into the winner");
    assert!(!lost.registered);
    assert!(
        answers[1].as_ref().unwrap().registered,
        "the other phone is registered"
    );
    let users = user_info::Entity::find().count(&db).await.unwrap();
    assert_eq!(
        users, 2,
        "the winner and the other phone: no profile of the loser's"
    );

    let ban = user_info::ActiveModel {
        user_id: sea_orm::ActiveValue::Unchanged(winner.user_id),
        banned: Set(true),
        ..Default::default()
    };
    ban.update(&db).await.unwrap();
    let refused = logins::write(&db, 60, &[phone]).await.unwrap();
    assert_eq!(
        refused[0].as_ref().unwrap_err().code(),
        example_dating::codes::banned().code()
    );
    assert_eq!(user_info::Entity::find().count(&db).await.unwrap(), 2);
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_group_that_loses_a_registration_logs_into_the_winner_on_mariadb() {
    let name = "a_group_that_loses_a_registration_logs_into_the_winner_on_mariadb";
    common::on_database_server(
        common::MARIADB,
        name,
        a_group_that_loses_a_registration_logs_into_the_winner,
    )
    .await;
}

#[tokio::test]
async fn a_group_that_loses_a_registration_logs_into_the_winner_on_postgres() {
    let name = "a_group_that_loses_a_registration_logs_into_the_winner_on_postgres";
    common::on_database_server(
        common::POSTGRES,
        name,
        a_group_that_loses_a_registration_logs_into_the_winner,
    )
    .await;
}
