//! The visibility rule is written twice — `people::may_see` in Rust, `people::visibility::
//! visible_to` in SQL — and this holds the two to the same answers over generated graphs of
//! people (hidden, contacts-only, blocked either way, banned, deleted, self) on SQLite, MariaDB
//! and PostgreSQL; `is_public` and `public` likewise, and the lists' kept copies
//! (`people::cache::shown_to`) give the same answers as the query.

mod common;

use std::collections::BTreeSet;

use example_dating::db::entity::chat::contacts;
use example_dating::db::entity::safety::block;
use example_dating::db::entity::users::user_info;
use example_dating::people::cache::PeopleCache;
use example_dating::people::visibility::{self, is_public};
use example_dating::people::{Authority, Card, Relation, may_see};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

const PEOPLE: i64 = 5;

#[derive(Clone, Debug)]
struct Person {
    authority: Authority,
    banned: bool,
    deleted: bool,
}

#[derive(Clone, Debug)]
struct Graph {
    people: Vec<Person>,
    /// Pairs who talked (the app writes a `contacts` row for each side: both are inserted),
    /// and directed (blocker, blocked) rows of `block`.
    contacts: BTreeSet<(i64, i64)>,
    blocks: BTreeSet<(i64, i64)>,
}

fn graph() -> impl Strategy<Value = Graph> {
    let person = (0..3i32, any::<bool>(), any::<bool>(), 0..4u8).prop_map(
        |(authority, banned, deleted, rare)| Person {
            authority: Authority::from_code(authority).unwrap(),
            // Bans and deletions are rarer than not, so live people meet each other too.
            banned: banned && rare == 0,
            deleted: deleted && rare == 1,
        },
    );
    let pair = (1..=PEOPLE, 1..=PEOPLE).prop_filter("two people", |(a, b)| a != b);
    (
        proptest::collection::vec(person, PEOPLE as usize),
        proptest::collection::btree_set(pair.clone(), 0..8),
        proptest::collection::btree_set(pair, 0..4),
    )
        .prop_map(|(people, contacts, blocks)| Graph {
            people,
            contacts,
            blocks,
        })
}

fn row(id: i64, p: &Person) -> user_info::Model {
    user_info::Model {
        user_id: id,
        nickname: format!("p{id}"),
        phone: String::new(),
        email: None,
        // Every other person fills the optional fields: cards read NULLs and values alike.
        gender: (id % 3) as i32,
        birthday: (id % 2 == 0).then(|| format!("1990-01-{:02}", id % 28 + 1)),
        avatar: (id % 2 == 0).then(|| format!("https://cdn.example/{id}.jpg")),
        height: (id % 2 == 0).then_some(150 + id as i32),
        emotion: (id % 2 == 1).then_some(1),
        sexual: (id % 2 == 0).then_some(2),
        education: (id % 2 == 1).then_some(3),
        salary: (id % 2 == 0).then_some(4),
        authority: p.authority,
        banned: p.banned,
        ban_reason: None,
        created_at: 0,
        updated_at: 0,
        deleted_at: p.deleted.then_some(1),
        search_key: None,
    }
}

/// The graph written to the database, replacing the one before.
async fn write(db: &DatabaseConnection, g: &Graph) {
    for table in ["contacts", "block", "user_info"] {
        db.execute_unprepared(&format!("DELETE FROM {table}"))
            .await
            .unwrap();
    }
    let users = g.people.iter().enumerate().map(|(i, p)| {
        let r = row(i as i64 + 1, p);
        user_info::ActiveModel {
            user_id: Set(r.user_id),
            nickname: Set(r.nickname),
            phone: Set(r.phone),
            gender: Set(0),
            authority: Set(r.authority),
            banned: Set(r.banned),
            created_at: Set(0),
            updated_at: Set(0),
            deleted_at: Set(r.deleted_at),
            ..Default::default()
        }
    });
    user_info::Entity::insert_many(users)
        .exec_without_returning(db)
        .await
        .unwrap();
    let sides: BTreeSet<(i64, i64)> = g
        .contacts
        .iter()
        .flat_map(|&(a, b)| [(a, b), (b, a)])
        .collect();
    for (user_id, peer_id) in sides {
        contacts::Entity::insert(contacts::ActiveModel {
            user_id: Set(user_id),
            peer_id: Set(peer_id),
            last_msg: Set(String::new()),
            unread: Set(0),
            update_time: Set(0),
            creator_id: Set(user_id),
            ..Default::default()
        })
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    for &(blocker_id, blocked_id) in &g.blocks {
        block::Entity::insert(block::ActiveModel {
            blocker_id: Set(blocker_id),
            blocked_id: Set(blocked_id),
            created_at: Set(0),
            ..Default::default()
        })
        .exec_without_returning(db)
        .await
        .unwrap();
    }
}

/// What the Rust rule says, the relation read from the generated graph (not the database).
fn by_rust(g: &Graph, viewer: i64) -> BTreeSet<i64> {
    (1..=PEOPLE)
        .filter(|&id| {
            let relation = Relation {
                contact: g.contacts.contains(&(viewer, id)) || g.contacts.contains(&(id, viewer)),
                blocked: g.blocks.contains(&(viewer, id)) || g.blocks.contains(&(id, viewer)),
            };
            may_see(viewer, &row(id, &g.people[id as usize - 1]), relation)
        })
        .collect()
}

async fn ids(db: &DatabaseConnection, condition: sea_orm::Condition) -> BTreeSet<i64> {
    let select = Query::select()
        .column(user_info::Column::UserId)
        .from(user_info::Entity)
        .cond_where(condition)
        .to_owned();
    let mut found = BTreeSet::new();
    for row in db.query_all(&select).await.unwrap() {
        found.insert(row.try_get::<i64>("", "user_id").unwrap());
    }
    found
}

async fn agree(db: &DatabaseConnection, g: &Graph) -> Result<(), TestCaseError> {
    write(db, g).await;
    // The lists' kept copies answer too: filled by the first viewer, read by the others.
    let cache = PeopleCache::default();
    for viewer in 1..=PEOPLE {
        let sql = ids(db, visibility::visible_to(viewer)).await;
        prop_assert_eq!(&sql, &by_rust(g, viewer), "viewer {}", viewer);
        // The loader's one-row form and the lists' batch form are the same rule.
        for id in 1..=PEOPLE {
            let one = visibility::seen_by(db, viewer, id).await.unwrap();
            prop_assert_eq!(one.is_some(), sql.contains(&id));
        }
        let rows = visibility::shown_to::<user_info::Model>(db, viewer, 1..=PEOPLE)
            .await
            .unwrap();
        let listed: BTreeSet<i64> = rows.keys().copied().collect();
        let mut others = sql.clone();
        others.remove(&viewer);
        prop_assert_eq!(&listed, &others, "lists never show the viewer");
        for round in ["read", "kept"] {
            let everyone: Vec<i64> = (1..=PEOPLE).collect();
            let kept = cache.shown_to(db, viewer, &everyone).await.unwrap();
            let kept_ids: BTreeSet<i64> = kept.iter().flatten().map(|c| c.user_id).collect();
            let in_order = kept.iter().zip(&everyone);
            prop_assert!(
                in_order
                    .clone()
                    .all(|(c, id)| c.as_ref().is_none_or(|c| c.user_id == *id))
            );
            prop_assert_eq!(&kept_ids, &others, "people::cache, {}", round);
            let counted = cache.count_shown(db, viewer, &everyone).await.unwrap();
            prop_assert_eq!(counted, others.len(), "count_shown, {}", round);
        }
        // Read narrow (by position, only some columns), the same people with the same fields.
        let cards = visibility::shown_to::<Card>(db, viewer, 1..=PEOPLE)
            .await
            .unwrap();
        let whole: std::collections::BTreeMap<i64, Card> =
            rows.values().map(|u| (u.user_id, Card::of(u))).collect();
        prop_assert_eq!(
            cards
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
            whole
        );
    }
    let public: BTreeSet<i64> = (1..=PEOPLE)
        .filter(|&id| is_public(&row(id, &g.people[id as usize - 1])))
        .collect();
    let loaded = user_info::Entity::find()
        .filter(visibility::public())
        .all(db)
        .await
        .unwrap();
    let sql_public: BTreeSet<i64> = loaded.iter().map(|u| u.user_id).collect();
    prop_assert_eq!(&sql_public, &public);
    prop_assert!(loaded.iter().all(is_public));
    prop_assert!(loaded.iter().map(Card::of).all(|card| is_public(&card)));
    Ok(())
}

fn rule_agrees_on(url: String, cases: u32) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(async {
        let db = example_dating::db::connect(&url).await.unwrap();
        example_dating::db::migrate(&db).await.unwrap();
        db
    });
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&graph(), |g| rt.block_on(agree(&db, &g)))
        .unwrap();
}

#[test]
fn the_rule_in_rust_and_in_sql_agree_on_sqlite() {
    rule_agrees_on("sqlite::memory:".into(), 128);
}

async fn on_server(var: &str, test: &str) {
    let Some(server) = common::service_url(var, test) else {
        return;
    };
    common::on_fresh_database(&server, |url| async move {
        tokio::task::spawn_blocking(move || rule_agrees_on(url, 48))
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rule_in_rust_and_in_sql_agree_on_mariadb() {
    on_server(
        "KOTORI_TEST_MYSQL_URL",
        "the_rule_in_rust_and_in_sql_agree_on_mariadb",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rule_in_rust_and_in_sql_agree_on_postgres() {
    on_server(
        "KOTORI_TEST_POSTGRES_URL",
        "the_rule_in_rust_and_in_sql_agree_on_postgres",
    )
    .await;
}
