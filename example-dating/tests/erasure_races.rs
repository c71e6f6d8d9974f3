//! An erasure racing everything else the account, and others about it, write
//! (docs/src/dating/api/safety.md, docs/src/dating/people.md): 200 rounds on SQLite, MariaDB
//! and PostgreSQL, each firing the erasure beside a profile edit, a location, a photo, labels,
//! a block and a report by the account (another of its devices), a visit by it and to it, and
//! a block of it — each a few scheduler turns or up to 20 ms apart. Whatever lands first,
//! nothing of the account outlives its erasure: the row stays a tombstone, and no row of its
//! location, album, labels, blocks (either way), reports made, visits (either way) or
//! conversations is left.

mod common;

use std::pin::Pin;
use std::sync::Arc;

use common::races::{mix, start};
use common::{TestApp, code, data};
use example_dating::db::entity::chat::contacts;
use example_dating::db::entity::safety::{block, report};
use example_dating::db::entity::users::{location, user_album, user_info, user_label, visitor};
use http::Method;
use sea_orm::sea_query::IntoCondition;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const ROUNDS: u64 = 200;

type Answer = Pin<Box<dyn Future<Output = i64> + Send>>;

/// How many rows of `E` `filter` finds.
async fn left<E>(db: &DatabaseConnection, filter: sea_orm::Condition) -> u64
where
    E: EntityTrait,
    E::Model: Sync,
{
    E::find().filter(filter).count(db).await.unwrap()
}

async fn nothing_outlives_an_erasure(url: String) {
    let t = Arc::new(TestApp::on(&url).await);
    let (peer, _) = t.user("18900000400").await;
    let (_, other_id) = t.user("18900000401").await;
    let labels = data(&t.call(Method::GET, "/api/labels", &[], Some(&peer)).await);
    let label = labels["list"][0]["label_id"].to_string();
    let mut landed = 0;
    for round in 0..ROUNDS {
        let (token, id) = t.user(&format!("188{:08}", 10_000 + round)).await;
        let (other, id_str) = (other_id.to_string(), id.to_string());
        let by =
            |token: &str, method: Method, path: String, params: Vec<(&'static str, String)>| {
                let (t, token) = (Arc::clone(&t), token.to_owned());
                Box::pin(async move {
                    let params: Vec<(&str, &str)> =
                        params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    code(&t.call(method, &path, &params, Some(&token)).await)
                }) as Answer
            };
        let post = Method::POST;
        let own = [
            by(&token, post.clone(), "/api/me/delete".into(), vec![]),
            by(
                &token,
                post.clone(),
                "/api/me/update".into(),
                vec![
                    ("nickname", "Still Here".into()),
                    ("email", "me@example.com".into()),
                ],
            ),
            by(
                &token,
                post.clone(),
                "/api/me/location".into(),
                vec![("lat", "31.2".into()), ("lng", "121.4".into())],
            ),
            by(
                &token,
                post.clone(),
                "/api/me/album/add".into(),
                vec![("photo", "https://img.example.com/p.jpg".into())],
            ),
            by(
                &token,
                post.clone(),
                "/api/me/labels".into(),
                vec![("label_ids", label.clone())],
            ),
            by(
                &token,
                post.clone(),
                "/api/me/blocks/add".into(),
                vec![("user_id", other.clone())],
            ),
            by(
                &token,
                post.clone(),
                "/api/reports".into(),
                vec![("user_id", other.clone()), ("reason", "spam".into())],
            ),
            by(
                &token,
                Method::GET,
                format!("/api/users/{other}/show"),
                vec![],
            ),
        ];
        let theirs = [
            by(&peer, Method::GET, format!("/api/users/{id}/show"), vec![]),
            by(
                &peer,
                post.clone(),
                "/api/me/blocks/add".into(),
                vec![("user_id", id_str)],
            ),
        ];
        let mut answers = Vec::new();
        for (i, work) in own.into_iter().chain(theirs).enumerate() {
            answers.push(start(mix(round, i as u64 + 1), work));
        }
        let mut codes = Vec::new();
        for answer in answers {
            codes.push(answer.await.unwrap());
        }
        assert_eq!(codes[0], 0, "round {round}: the erasure");
        for (i, answer) in codes.iter().enumerate().skip(1) {
            // The account's own requests: done before the erasure, or a revoked token after
            // it; the others' requests about it: done before, or the account is not found.
            // A visit may also find a block between the two, made a moment before.
            let refusals: &[i64] = match i {
                7 => &[40105, 40401],
                1..7 => &[40105],
                _ => &[40401],
            };
            assert!(
                *answer == 0 || refusals.contains(answer),
                "round {round}: request {i} answered {answer}"
            );
            landed += u64::from(*answer == 0);
        }
        let db = &t.state.db;
        let row = user_info::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert!(row.deleted_at.is_some(), "round {round}");
        assert_eq!(
            (row.nickname.as_str(), row.email.as_deref()),
            ("deleted user", None),
            "round {round}: the tombstone got a profile back {codes:?}"
        );
        let counts = [
            left::<location::Entity>(db, location::Column::UserId.eq(id).into_condition()).await,
            left::<user_album::Entity>(db, user_album::Column::UserId.eq(id).into_condition())
                .await,
            left::<user_label::Entity>(db, user_label::Column::UserId.eq(id).into_condition())
                .await,
            left::<block::Entity>(
                db,
                sea_orm::Condition::any()
                    .add(block::Column::BlockerId.eq(id))
                    .add(block::Column::BlockedId.eq(id)),
            )
            .await,
            left::<report::Entity>(db, report::Column::ReporterId.eq(id).into_condition()).await,
            left::<visitor::Entity>(
                db,
                sea_orm::Condition::any()
                    .add(visitor::Column::ViewerId.eq(id))
                    .add(visitor::Column::ViewedId.eq(id)),
            )
            .await,
            left::<contacts::Entity>(db, contacts::Column::UserId.eq(id).into_condition()).await,
        ];
        assert_eq!(
            counts, [0; 7],
            "round {round}: rows left (location, album, labels, blocks, reports, visits, \
             conversations) after {codes:?}"
        );
    }
    eprintln!(
        "requests done before the erasure: {landed} of {}",
        ROUNDS * 9
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_outlives_an_erasure_on_sqlite() {
    let dir = common::TempDir::new("erasure-races");
    nothing_outlives_an_erasure(dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_outlives_an_erasure_on_mariadb() {
    common::on_database_server(
        common::MARIADB,
        "nothing_outlives_an_erasure_on_mariadb",
        nothing_outlives_an_erasure,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_outlives_an_erasure_on_postgres() {
    common::on_database_server(
        common::POSTGRES,
        "nothing_outlives_an_erasure_on_postgres",
        nothing_outlives_an_erasure,
    )
    .await;
}
