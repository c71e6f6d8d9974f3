//! A message racing what ends a conversation (docs/src/dating/api/safety.md): a block between
//! the two, or an erasure of either. The message lands before it or is refused; never after.
//!
//! The block's order is made deterministic (the send held at its conversation's turn, past its
//! loaders, while the block commits). The erasure is raced for real, 200 rounds on SQLite,
//! MariaDB and PostgreSQL: whatever the order, the erased account is left without a
//! conversation of its own.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::races::{mix, start};
use common::{TestApp, code};
use example_dating::db::entity::chat::{contacts, message};
use example_dating::limits;
use http::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// Messages stored from `from` to `to`.
async fn stored(t: &TestApp, from: i64, to: i64) -> u64 {
    message::Entity::find()
        .filter(message::Column::FromUid.eq(from))
        .filter(message::Column::ToUid.eq(to))
        .count(&t.state.db)
        .await
        .unwrap()
}

/// A send that passed its loaders (the recipient was visible) and then found the recipient's
/// block committed is refused, and writes nothing: the test holds the conversation's turn,
/// which a send takes after its loaders and its message limit, blocks, then lets it go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_committed_while_a_message_is_on_its_way_stops_it() {
    let t = Arc::new(TestApp::new().await);
    let (alice, alice_id) = t.user("18900000201").await;
    let (bob, bob_id) = t.user("18900000202").await;
    t.lift_message_limit(alice_id).await;
    let turn = format!(
        "chat:turn:{}:{}",
        alice_id.min(bob_id),
        alice_id.max(bob_id)
    );
    let store = &t.state.store;
    store
        .set(&turn, "held by the test", Duration::from_secs(30))
        .await
        .unwrap();
    // The send counts against the sender's limit once its loaders passed, before its turn.
    let counter = limits::MESSAGES.key(&alice_id.to_string(), "minute");
    let lifted = store.get(&counter).await.unwrap();
    let sent = {
        let (t, alice) = (Arc::clone(&t), alice.clone());
        tokio::spawn(async move { code(&t.message(&alice, bob_id, "are you there?").await) })
    };
    while store.get(&counter).await.unwrap() == lifted {
        tokio::task::yield_now().await;
    }
    let blocked = t
        .call(
            Method::POST,
            "/api/me/blocks/add",
            &[("user_id", &alice_id.to_string())],
            Some(&bob),
        )
        .await;
    assert_eq!(code(&blocked), 0);
    store.del(&turn).await.unwrap();
    assert_eq!(sent.await.unwrap(), 40401, "the message passed a block");
    assert_eq!(stored(&t, alice_id, bob_id).await, 0);
    let conversations = contacts::Entity::find()
        .filter(contacts::Column::UserId.is_in([alice_id, bob_id]))
        .count(&t.state.db)
        .await
        .unwrap();
    assert_eq!(conversations, 0, "no conversation was started");
}

const ROUNDS: u64 = 200;

/// Each round: a user erases their account while a message goes from them (another device)
/// and one comes to them, each started a few scheduler turns, or up to 20 ms, apart. Whatever
/// lands first, the erased account keeps no conversation (its own contact rows are gone), a
/// message that got code 0 is stored, and one refused is not.
async fn messages_race_an_erasure(url: String) {
    let t = Arc::new(TestApp::on(&url).await);
    let (peer, peer_id) = t.user("18900000300").await;
    t.lift_message_limit(peer_id).await;
    let (mut landed, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let (token, user_id) = t.user(&format!("189{:08}", 10_000 + round)).await;
        let erase = {
            let (t, token) = (Arc::clone(&t), token.clone());
            start(mix(round, 1), async move {
                code(
                    &t.call(Method::POST, "/api/me/delete", &[], Some(&token))
                        .await,
                )
            })
        };
        let outgoing = {
            let (t, token) = (Arc::clone(&t), token.clone());
            start(mix(round, 2), async move {
                code(&t.message(&token, peer_id, "bye").await)
            })
        };
        let incoming = {
            let (t, peer) = (Arc::clone(&t), peer.clone());
            start(mix(round, 3), async move {
                code(&t.message(&peer, user_id, "hello?").await)
            })
        };
        assert_eq!(erase.await.unwrap(), 0, "round {round}: the erasure");
        let (outgoing, incoming) = (outgoing.await.unwrap(), incoming.await.unwrap());
        let own = contacts::Entity::find()
            .filter(contacts::Column::UserId.eq(user_id))
            .count(&t.state.db)
            .await
            .unwrap();
        assert_eq!(
            own, 0,
            "round {round}: a conversation outlived the erasure (out {outgoing}, in {incoming})"
        );
        // The erased account's own message: its token revoked (40105); the peer's to it: the
        // recipient is gone (40401).
        for (answer, from, to, refusal) in [
            (outgoing, user_id, peer_id, 40105),
            (incoming, peer_id, user_id, 40401),
        ] {
            if answer == 0 {
                landed += 1;
                assert_eq!(stored(&t, from, to).await, 1, "round {round}: lost");
            } else {
                refused += 1;
                assert_eq!(answer, refusal, "round {round}");
                assert_eq!(stored(&t, from, to).await, 0, "round {round}: stored");
            }
        }
    }
    eprintln!("messages landed before the erasure: {landed}, refused after it: {refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_race_an_erasure_on_sqlite() {
    let dir = common::TempDir::new("message-races");
    messages_race_an_erasure(dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_race_an_erasure_on_mariadb() {
    common::on_database_server(
        common::MARIADB,
        "messages_race_an_erasure_on_mariadb",
        messages_race_an_erasure,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_race_an_erasure_on_postgres() {
    common::on_database_server(
        common::POSTGRES,
        "messages_race_an_erasure_on_postgres",
        messages_race_an_erasure,
    )
    .await;
}
