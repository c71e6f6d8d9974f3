//! Blocks: `POST /api/me/blocks/add`, `GET /api/me/blocks`, `POST /api/me/blocks/{id}/delete`.
//! What a block does — hide each side from the other everywhere — is `people::visibility`'s.

use kotori::{Json, Path, Res, State};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::clock;
use crate::codes::{self, AppError};
use crate::db;
use crate::db::entity::safety::block;
use crate::envelope::ok;
use crate::paging::Page;
use crate::params::Params;
use crate::people::account::{self, Take};
use crate::people::{self, Change, graph};
use crate::state::AppState;
use crate::users::public_profile;

/// The most people one user may block (40901 past it). The lists that leave blocked people
/// out read a person's blocks whole (and keep them): without a cap, one account blocking
/// everyone would make each of its requests read a row per user.
pub const MAX_BLOCKS: u64 = 1_000;

/// Blocks `user_id`: yourself is 40002, an unknown user 40401; blocking twice is still `{}`;
/// past [`MAX_BLOCKS`] 40901.
pub async fn add(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let user_id = graph::someone_else(caller.user_id, params.parse_required("user_id")?, "block")?;
    let me = caller.user_id;
    // Counted and written under both rows' locks: concurrent blocks cannot all see one place
    // left, and a block never lands after the blocker's or the blocked's erasure (which
    // deletes blocks both ways). Below the cap a block already made is the insert's no-op; at
    // the cap it is looked for, so that blocking again is `{}` there too.
    db::in_transaction(&state.db, |txn| {
        Box::pin(async move {
            let both = account::take(txn, &[me, user_id], Take::Update).await?;
            both.live(me)?;
            // A banned user may be blocked (people block, then report); an erased one is gone.
            both.existing(user_id)?;
            let mine = block::Entity::find().filter(block::Column::BlockerId.eq(me));
            if mine.clone().count(txn).await? >= MAX_BLOCKS {
                let again = mine.filter(block::Column::BlockedId.eq(user_id));
                return match again.one(txn).await? {
                    Some(_) => Ok(()),
                    None => Err(codes::conflict(format!(
                        "at most {MAX_BLOCKS} blocks: lift one first"
                    ))),
                };
            }
            let row = block::ActiveModel {
                blocker_id: Set(me),
                blocked_id: Set(user_id),
                created_at: Set(clock::now()),
                ..Default::default()
            };
            // The unique pair stays the last word: a second block is a no-op, never an error.
            block::Entity::insert(row)
                .on_conflict(
                    sea_orm::sea_query::OnConflict::columns([
                        block::Column::BlockerId,
                        block::Column::BlockedId,
                    ])
                    // MySQL has no DO NOTHING: its polyfill updates a column to itself.
                    .do_nothing_on([block::Column::BlockerId])
                    .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
            Ok(())
        })
    })
    .await?;
    // Open connections of both stop passing each other's events at once.
    people::changed(&state, Change::Blocked(caller.user_id, user_id)).await;
    Ok(ok(json!({})))
}

/// The caller's block of the user the path names.
#[derive(Clone, Debug)]
pub struct OwnBlock(pub block::Model);

/// The block of `{user_id}` by the caller; not blocked is 40401.
#[kotori::loader]
pub async fn load_own_block(
    Path(user_id): Path<i64>,
    caller: Res<Caller>,
    State(state): State<AppState>,
) -> Result<OwnBlock, AppError> {
    block::Entity::find()
        .filter(block::Column::BlockerId.eq(caller.user_id))
        .filter(block::Column::BlockedId.eq(user_id))
        .one(&state.db)
        .await?
        .map(OwnBlock)
        .ok_or_else(codes::not_found)
}

/// Lifts the loaded block.
pub async fn delete(
    own: Res<OwnBlock>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    block::Entity::delete_by_id(own.0.id)
        .exec(&state.db)
        .await?;
    people::changed(
        &state,
        Change::Unblocked(own.0.blocker_id, own.0.blocked_id),
    )
    .await;
    Ok(ok(json!({})))
}

/// The users the caller blocked, newest block first, as public profiles.
pub async fn list(
    caller: Res<Caller>,
    params: Res<Params>,
    State(state): State<AppState>,
) -> Result<Json<Value>, AppError> {
    let page = Page::from_params(&params)?;
    let mine = block::Entity::find()
        .filter(block::Column::BlockerId.eq(caller.user_id))
        .order_by_desc(block::Column::Id);
    let (total, rows) = page.load(state.lists(), mine).await?;
    let users = crate::users::by_id(&state.db, rows.iter().map(|b| b.blocked_id)).await?;
    let list = rows
        .iter()
        .filter_map(|b| users.get(&b.blocked_id))
        .map(public_profile)
        .collect();
    Ok(ok(page.answer(total, list)))
}

/// What load_own_block reads and answers, for `/openapi.json`.
pub fn load_own_block_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    Declares::new()
        .param(id("user_id"))
        .refuses(404, 40401, "not blocked")
}

/// What add reads and answers, for `/openapi.json`.
pub fn add_doc() -> kotori::openapi::Declares {
    use crate::openapi::*;
    answers(empty())
        .param(required(
            "user_id",
            json!({"type": "integer", "minimum": 1}),
        ))
        .refuses(404, 40401, "no such user")
        .refuses(409, 40901, "at most 1,000 blocks")
}

/// What list reads and answers, for `/openapi.json`: the public profiles of those blocked.
pub fn list_doc() -> kotori::openapi::Declares {
    crate::openapi::paged_of(crate::people::Card::schema())
}

/// What delete answers, for `/openapi.json`.
pub fn delete_doc() -> kotori::openapi::Declares {
    crate::openapi::answers(crate::openapi::empty())
}
