//! Seed data: labels and the three VIP products. Idempotent: seeding twice changes nothing.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set};

use super::entity::commerce::product;
use super::entity::users::label;

/// (name, gender: 0 any / 1 male / 2 female, meaning)
const LABELS: &[(&str, i32, &str)] = &[
    ("outdoorsy", 0, "loves hiking, camping and the open air"),
    ("foodie", 0, "always knows the next place to eat"),
    ("bookworm", 0, "reads more than they scroll"),
    ("gamer", 0, "happiest with a controller in hand"),
    ("traveller", 0, "passport full of stamps"),
    ("music lover", 0, "concerts, vinyl, playlists"),
    ("fitness", 0, "gym, runs and early mornings"),
    ("pet person", 0, "comes with a cat or a dog"),
    ("gentleman", 1, "courteous and considerate"),
    ("sunshine boy", 1, "cheerful and outgoing"),
    ("elegant", 2, "refined taste and manners"),
    ("sweetheart", 2, "warm and caring"),
];

/// (name, description, VIP days, price in cents)
const PRODUCTS: &[(&str, &str, i32, i64)] = &[
    ("month", "VIP for 30 days", 30, 3_000),
    ("quarter", "VIP for 90 days", 90, 7_800),
    ("year", "VIP for 365 days", 365, 26_800),
];

/// Inserts the seed rows into empty tables.
pub async fn seed(db: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
    if label::Entity::find().count(db).await? == 0 {
        for (name, gender, meaning) in LABELS {
            label::ActiveModel {
                name: Set((*name).into()),
                gender: Set(*gender),
                meaning: Set((*meaning).into()),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    if product::Entity::find().count(db).await? == 0 {
        for (name, description, vip_days, price_cents) in PRODUCTS {
            product::ActiveModel {
                name: Set((*name).into()),
                description: Set((*description).into()),
                vip_days: Set(*vip_days),
                price_cents: Set(*price_cents),
                active: Set(true),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}
