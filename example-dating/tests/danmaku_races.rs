//! A danmaku racing what stops it (docs/src/dating/api/live.md): a mute of its poster, or the
//! live's finish. The danmaku lands before the change or is refused; never after it.
//!
//! The race is made deterministic on PostgreSQL, whose `pg_stat_activity` tells who waits for a
//! lock: a side connection holds the `danmaku` table, so the post waits at its insert — past
//! every check — while the change is made. The change then either completes (it did not wait
//! for the post, which would then land after it) or waits for the post; only then is the table
//! let go. On SQLite one transaction runs at a time, and on MariaDB the same row locks decide;
//! neither says who waits as simply, so the race is run here on PostgreSQL only.

mod common;

use std::sync::Arc;

use common::{TestApp, code};
use example_dating::db::entity::rooms::danmaku;
use http::Method;
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};

const SHOPS: &str = "/manage/dating/shops/api";

/// Sessions of this database that wait for a lock.
async fn waiting(side: &DatabaseConnection) -> i64 {
    let row = side
        .query_one_raw(sea_orm::Statement::from_string(
            side.get_database_backend(),
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn a_danmaku_never_lands_after_what_stopped_it(url: String) {
    let t = Arc::new(TestApp::on(&url).await);
    let side = Database::connect(&url).await.unwrap();
    for (round, change) in ["mute", "finish"].into_iter().enumerate() {
        let host = t.operator(&format!("host{round}"), "host", &[]).await;
        let live = t.create_live(&host, "racing").await;
        let (viewer, viewer_id) = t.user(&format!("1890000060{round}")).await;
        let stored = async || {
            danmaku::Entity::find()
                .filter(danmaku::Column::LiveId.eq(live))
                .count(&t.state.db)
                .await
                .unwrap()
        };

        let held = side.begin().await.unwrap();
        held.execute_unprepared("LOCK TABLE danmaku IN SHARE MODE")
            .await
            .unwrap();
        let post = {
            let (t, viewer) = (Arc::clone(&t), viewer.clone());
            let path = format!("/api/live/{live}/danmaku");
            tokio::spawn(async move {
                code(
                    &t.call(Method::POST, &path, &[("content", "first!")], Some(&viewer))
                        .await,
                )
            })
        };
        // The post waits at its insert, past its checks.
        while waiting(&side).await < 1 {
            assert!(
                !post.is_finished(),
                "the post answered without reaching its insert"
            );
            tokio::task::yield_now().await;
        }
        let made = {
            let (t, host) = (Arc::clone(&t), host.clone());
            let console = format!("{SHOPS}/live/{live}");
            let viewer_id = viewer_id.to_string();
            tokio::spawn(async move {
                let res = match change {
                    "mute" => {
                        let path = format!("{console}/forbid_send_msg.json");
                        let params = [("user_id", viewer_id.as_str())];
                        t.manage(Method::POST, &path, &params, Some(&host)).await
                    }
                    _ => {
                        let path = format!("{console}/finish.json");
                        t.manage(Method::POST, &path, &[], Some(&host)).await
                    }
                };
                code(&res)
            })
        };
        // The change completes without the post, or waits for it.
        while !made.is_finished() && waiting(&side).await < 2 {
            tokio::task::yield_now().await;
        }
        let made_first = made.is_finished();
        held.rollback().await.unwrap();
        let (posted, made) = (post.await.unwrap(), made.await.unwrap());
        assert_eq!(made, 0, "the {change}");
        assert!(
            !(made_first && posted == 0),
            "a danmaku landed after the {change} that committed while it was on its way"
        );
        assert_eq!(
            stored().await,
            u64::from(posted == 0),
            "the {change}: a danmaku is stored exactly when it was answered 0 ({posted})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_danmaku_never_lands_after_a_mute_or_a_finish_on_postgres() {
    common::on_database_server(
        common::POSTGRES,
        "a_danmaku_never_lands_after_a_mute_or_a_finish_on_postgres",
        a_danmaku_never_lands_after_what_stopped_it,
    )
    .await;
}
