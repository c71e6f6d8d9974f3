//! What a profile shows besides its own row — the labels a user wears and their album — read
//! in one statement, since every profile answer (`GET /api/me`, a user's page, the export)
//! shows both.

use sea_orm::sea_query::{Expr, ExprTrait, Query, UnionType};
use sea_orm::{ConnectionTrait, Value as DbValue};
use serde_json::{Value, json};

use crate::codes::AppError;
use crate::db::entity::users::{label, user_album, user_label};

/// A user's labels (by id) and photos (oldest first), as the API shows them.
#[derive(Debug, serde::Serialize)]
pub struct Showcase {
    /// `{label_id, name, gender, meaning}` each.
    pub labels: Vec<Value>,
    /// `{photo_id, photo}` each.
    pub album: Vec<Value>,
}

/// A label as the API shows it.
pub fn label_json(l: &label::Model) -> Value {
    json!({ "label_id": l.id, "name": l.name, "gender": l.gender, "meaning": l.meaning })
}

/// A photo as the API shows it.
pub fn photo_json(photo_id: i64, photo: &str) -> Value {
    json!({ "photo_id": photo_id, "photo": photo })
}

/// A label's schema, for `/openapi.json`.
pub fn label_schema() -> Value {
    use crate::openapi::{integer, shape, string};
    shape([
        ("label_id", integer()),
        ("name", string()),
        ("gender", integer()),
        ("meaning", string()),
    ])
}

/// A photo's schema, for `/openapi.json`.
pub fn photo_schema() -> Value {
    use crate::openapi::{integer, shape, string};
    shape([("photo_id", integer()), ("photo", string())])
}

/// `user_id`'s labels and album in one statement: the labels' rows `UNION ALL` the photos',
/// told apart by `meaning` (a label always has one, a photo never). The columns are the
/// labels', so every backend types them the same; the order is set here, not in SQL, so the
/// statement stays one that all three accept.
pub async fn of(db: &impl ConnectionTrait, user_id: i64) -> Result<Showcase, AppError> {
    let worn = Query::select()
        .column(user_label::Column::LabelId)
        .from(user_label::Entity)
        .and_where(Expr::col(user_label::Column::UserId).eq(user_id))
        .to_owned();
    let photos = Query::select()
        .expr_as(Expr::col(user_album::Column::Id), "id")
        .expr_as(Expr::col(user_album::Column::Photo), "text")
        .expr_as(Expr::val(DbValue::Int(None)), "gender")
        .expr_as(Expr::val(DbValue::String(None)), "meaning")
        .from(user_album::Entity)
        .and_where(Expr::col(user_album::Column::UserId).eq(user_id))
        .to_owned();
    let both = Query::select()
        .expr_as(Expr::col(label::Column::Id), "id")
        .expr_as(Expr::col(label::Column::Name), "text")
        .expr_as(Expr::col(label::Column::Gender), "gender")
        .expr_as(Expr::col(label::Column::Meaning), "meaning")
        .from(label::Entity)
        .and_where(Expr::col(label::Column::Id).in_subquery(worn))
        .union(UnionType::All, photos)
        .to_owned();
    let mut labels = Vec::new();
    let mut album = Vec::new();
    for row in db.query_all(&both).await? {
        let id: i64 = row.try_get("", "id")?;
        let text: String = row.try_get("", "text")?;
        match row.try_get::<Option<String>>("", "meaning")? {
            Some(meaning) => labels.push(label::Model {
                id,
                name: text,
                gender: row.try_get::<Option<i32>>("", "gender")?.unwrap_or(0),
                meaning,
            }),
            None => album.push((id, text)),
        }
    }
    labels.sort_by_key(|l| l.id);
    album.sort_by_key(|(id, _)| *id);
    Ok(Showcase {
        labels: labels.iter().map(label_json).collect(),
        album: album
            .into_iter()
            .map(|(id, photo)| photo_json(id, &photo))
            .collect(),
    })
}
