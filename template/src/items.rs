//! Items and their SQL, written once for every database engine.

{% if redis -%}
mod cached;

pub use cached::CachedItems;

{% endif -%}
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{Breaker, DbPool};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
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
        sqlx::query_as(
            "INSERT INTO items (name, description, created_at) VALUES ($1, $2, $3) \
             RETURNING id, name, description, created_at",
        )
        .bind(item.name)
        .bind(item.description)
        .bind(Utc::now())
        .fetch_one(&mut *connection)
        .await
    }

    /// Up to `limit` items with an id greater than `after`, oldest first.
    pub async fn list(&self, after: i64, limit: i64) -> sqlx::Result<Vec<Item>> {
        let mut connection = self.breaker.acquire(&self.db).await?;
        sqlx::query_as(
            "SELECT id, name, description, created_at FROM items \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *connection)
        .await
    }

    pub async fn get(&self, id: i64) -> sqlx::Result<Option<Item>> {
        let mut connection = self.breaker.acquire(&self.db).await?;
        sqlx::query_as("SELECT id, name, description, created_at FROM items WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *connection)
            .await
    }

    /// Whether an item was there to delete.
    pub async fn delete(&self, id: i64) -> sqlx::Result<bool> {
        let mut connection = self.breaker.acquire(&self.db).await?;
        let result = sqlx::query("DELETE FROM items WHERE id = $1")
            .bind(id)
            .execute(&mut *connection)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}
