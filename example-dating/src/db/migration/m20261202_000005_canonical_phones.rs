//! Phone numbers in their one form (E.164, `people::phone`): every phone identity and profile
//! phone written before is rewritten. Spellings of one number that had become separate accounts
//! (`8613380107582`, `+8613380107582`, `008613380107582`) cannot all keep it: the identity
//! already in E.164 keeps it, else the oldest; the others stay as `phone_legacy` identities
//! under their old spelling (no login finds them; nothing is deleted, an operator can still
//! find the accounts). A spelling that is no phone number at all is left as it was.

use std::collections::HashSet;

use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ColumnTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::*;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000005_canonical_phones"
    }
}

/// The login type of an identity whose number an older identity took.
const LEGACY: &str = "phone_legacy";

fn e164(phone: &str) -> Option<String> {
    crate::people::phone::canonical(phone).ok()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Identities, oldest first: the first to claim a number keeps it.
        let mut after = 0;
        loop {
            let batch = user_auth::Entity::find()
                .filter(user_auth::Column::LoginType.eq("phone"))
                .filter(user_auth::Column::Id.gt(after))
                .order_by_asc(user_auth::Column::Id)
                .limit(1000)
                .all(db)
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            let wanted: HashSet<String> = batch
                .iter()
                .filter_map(|row| e164(&row.identifier))
                .filter(|e164| batch.iter().all(|row| &row.identifier != e164))
                .collect();
            // Numbers already held in their final form, by rows of this batch or others.
            let mut held: HashSet<String> = user_auth::Entity::find()
                .filter(user_auth::Column::LoginType.eq("phone"))
                .filter(user_auth::Column::Identifier.is_in(wanted))
                .all(db)
                .await?
                .into_iter()
                .map(|row| row.identifier)
                .collect();
            held.extend(batch.iter().map(|row| row.identifier.clone()));
            for row in batch {
                let Some(e164) = e164(&row.identifier) else {
                    continue;
                };
                if e164 == row.identifier {
                    continue;
                }
                let mut changed = row.clone().into_active_model();
                if held.insert(e164.clone()) {
                    changed.identifier = Set(e164);
                } else {
                    changed.login_type = Set(LEGACY.to_owned());
                }
                changed.update(db).await?;
            }
        }
        // Profile phones (not unique: a legacy account shows the number it was given).
        let mut after = 0;
        loop {
            let batch = user_info::Entity::find()
                .filter(user_info::Column::UserId.gt(after))
                .filter(user_info::Column::Phone.ne(""))
                .order_by_asc(user_info::Column::UserId)
                .limit(1000)
                .all(db)
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.user_id;
            for row in batch {
                match e164(&row.phone) {
                    Some(e164) if e164 != row.phone => {
                        let mut changed = row.into_active_model();
                        changed.phone = Set(e164);
                        changed.update(db).await?;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
