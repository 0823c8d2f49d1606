//! Items and their SQL, written once for every database engine. The queries are checked
//! against the schema at compile time: the column overrides (`"id!"`, `"created_at!: …"`)
//! give SQLite and Postgres, which infer types and nullability differently, one `Item`.

{% if redis -%}
mod cached;

pub use cached::CachedItems;

{% endif -%}
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{Breaker, DbPool};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    pub id: i64,
    pub name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct NewItem {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Clone)]
pub struct Items {
    db: DbPool,
    breaker: Breaker,
}

impl Items {
    pub fn new(db: DbPool, breaker: Breaker) -> Self {
        Self { db, breaker }
    }

    pub async fn create(&self, item: NewItem) -> sqlx::Result<Item> {
        let mut connection = self.breaker.acquire(&self.db).await?;
        sqlx::query_as!(
            Item,
            r#"INSERT INTO items (name, description, created_at) VALUES ($1, $2, $3)
               RETURNING id AS "id!", name AS "name!", description AS "description?",
                         created_at AS "created_at!: DateTime<Utc>""#,
            item.name,
            item.description,
            Utc::now(),
        )
        .fetch_one(&mut *connection)
        .await
    }

    /// Up to `limit` items with an id greater than `after`, oldest first.
    pub async fn list(&self, after: i64, limit: i64) -> sqlx::Result<Vec<Item>> {
        let mut connection = self.breaker.acquire(&self.db).await?;
        sqlx::query_as!(
            Item,
            r#"SELECT id AS "id!", name AS "name!", description AS "description?",
                      created_at AS "created_at!: DateTime<Utc>"
               FROM items WHERE id > $1 ORDER BY id LIMIT $2"#,
            after,
            limit,
        )
        .fetch_all(&mut *connection)
        .await
    }

    pub async fn get(&self, id: i64) -> sqlx::Result<Option<Item>> {
        let mut connection = self.breaker.acquire(&self.db).await?;
        sqlx::query_as!(
            Item,
            r#"SELECT id AS "id!", name AS "name!", description AS "description?",
                      created_at AS "created_at!: DateTime<Utc>"
               FROM items WHERE id = $1"#,
            id,
        )
        .fetch_optional(&mut *connection)
        .await
    }

    /// Whether an item was there to delete.
    pub async fn delete(&self, id: i64) -> sqlx::Result<bool> {
        let mut connection = self.breaker.acquire(&self.db).await?;
        let result = sqlx::query!("DELETE FROM items WHERE id = $1", id)
            .execute(&mut *connection)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}
