//! How many people one person may block (docs/src/dating/api/safety.md): at most
//! `MAX_BLOCKS`, 40901 past it, counted under the blocker's row lock — on SQLite, MariaDB and
//! PostgreSQL, with blocks racing for the last places.

mod common;

use common::{TestApp, code};
use http::Method as M;

/// A person blocks at most `MAX_BLOCKS` people (40901 past it): the lists that leave blocked
/// people out read a person's blocks whole. Blocking again is `{}` at the cap too, and lifting
/// one makes room.
#[tokio::test]
async fn blocks_stop_at_their_cap() {
    use example_dating::db::entity::safety::block;
    use example_dating::safety::blocks::MAX_BLOCKS;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let t = TestApp::new().await;
    let (me, _) = t.user("18900000201").await;
    // MAX_BLOCKS + 1 other people, registered in one go.
    let phones: Vec<String> = (0..=MAX_BLOCKS).map(|i| format!("+86137{i:08}")).collect();
    let phones: Vec<&str> = phones.iter().map(String::as_str).collect();
    let others: Vec<i64> = example_dating::auth::logins::write(&t.state.db, 3600, &phones)
        .await
        .unwrap()
        .into_iter()
        .map(|login| login.unwrap().user_id)
        .collect();
    let block = |whom: i64| {
        let (t, me) = (&t, &me);
        async move {
            let params = [("user_id", whom.to_string())];
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            code(
                &t.call(M::POST, "/api/me/blocks/add", &params, Some(me))
                    .await,
            )
        }
    };
    for &other in &others[..MAX_BLOCKS as usize] {
        assert_eq!(block(other).await, 0);
    }
    let last = others[MAX_BLOCKS as usize];
    assert_eq!(block(last).await, 40901, "one past the cap");
    assert_eq!(block(others[0]).await, 0, "blocking again is still {{}}");
    let held = block::Entity::find().count(&t.state.db).await.unwrap();
    assert_eq!(held, MAX_BLOCKS);
    let lift = format!("/api/me/blocks/{}/delete", others[0]);
    assert_eq!(code(&t.call(M::POST, &lift, &[], Some(&me)).await), 0);
    assert_eq!(block(last).await, 0, "room again");
}

/// Twenty blocks at once with five places left, 50 rounds: exactly five are made, the others
/// are 40901, and the cap holds.
async fn concurrent_blocks_stop_at_the_cap(url: String) {
    use example_dating::db::entity::safety::block;
    use example_dating::safety::blocks::MAX_BLOCKS;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
    let t = std::sync::Arc::new(
        TestApp::with(
            common::config(),
            &url,
            std::sync::Arc::new(example_dating::store::MemoryStore::new()),
        )
        .await,
    );
    let (me, my_id) = t.user("18900000301").await;
    let mut others = Vec::new();
    for i in 0..20 {
        others.push(t.user(&format!("1890000{:04}", 400 + i)).await.1);
    }
    for round in 0..50 {
        block::Entity::delete_many()
            .filter(block::Column::BlockerId.eq(my_id))
            .exec(&t.state.db)
            .await
            .unwrap();
        // Blocks of people who are not there: only the count matters here.
        let held = (0..MAX_BLOCKS as i64 - 5).map(|i| block::ActiveModel {
            blocker_id: Set(my_id),
            blocked_id: Set(1_000_000_000 + i),
            created_at: Set(0),
            ..Default::default()
        });
        for chunk in held.collect::<Vec<_>>().chunks(200) {
            block::Entity::insert_many(chunk.to_vec())
                .exec(&t.state.db)
                .await
                .unwrap();
        }
        let racing = others.iter().map(|&whom| {
            let (t, me) = (std::sync::Arc::clone(&t), me.clone());
            tokio::spawn(async move {
                let params = [("user_id", whom.to_string())];
                let params: Vec<(&str, &str)> =
                    params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                code(
                    &t.call(M::POST, "/api/me/blocks/add", &params, Some(&me))
                        .await,
                )
            })
        });
        let mut codes = Vec::new();
        for answer in racing.collect::<Vec<_>>() {
            codes.push(answer.await.unwrap());
        }
        let made = codes.iter().filter(|&&c| c == 0).count();
        assert_eq!(made, 5, "round {round}: {codes:?}");
        assert!(codes.iter().all(|&c| c == 0 || c == 40901), "{codes:?}");
        let held = block::Entity::find()
            .filter(block::Column::BlockerId.eq(my_id))
            .count(&t.state.db)
            .await
            .unwrap();
        assert_eq!(held, MAX_BLOCKS, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_blocks_stop_at_the_cap_on_sqlite() {
    let dir = common::TempDir::new("block-cap");
    concurrent_blocks_stop_at_the_cap(dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_blocks_stop_at_the_cap_on_mariadb() {
    let test = "concurrent_blocks_stop_at_the_cap_on_mariadb";
    common::on_database_server(common::MARIADB, test, concurrent_blocks_stop_at_the_cap).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_blocks_stop_at_the_cap_on_postgres() {
    let test = "concurrent_blocks_stop_at_the_cap_on_postgres";
    common::on_database_server(common::POSTGRES, test, concurrent_blocks_stop_at_the_cap).await;
}
