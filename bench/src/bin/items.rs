//! axum and sqlx, nothing else: `GET /api/v1/items/{id}` with the generated service's
//! query, pool size, SQLite settings and Postgres TLS stack, on the database named by
//! `DATABASE_URL`: a URL that lets the service encrypt (`sslmode=prefer`, Postgres's
//! default) encrypts here too.

use std::str::FromStr;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{
    PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

const SELECT_ITEM: &str = "SELECT id, name, description, created_at FROM items WHERE id = $1";

/// The generated service's default `DATABASE_MAX_CONNECTIONS`.
const MAX_CONNECTIONS: u32 = 10;

#[derive(Serialize, sqlx::FromRow)]
struct Item {
    id: i64,
    name: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

async fn fetch(State(db): State<Db>, Path(id): Path<i64>) -> Result<Json<Item>, StatusCode> {
    let item = match &db {
        Db::Sqlite(pool) => {
            sqlx::query_as(SELECT_ITEM)
                .bind(id)
                .fetch_optional(pool)
                .await
        }
        Db::Postgres(pool) => {
            sqlx::query_as(SELECT_ITEM)
                .bind(id)
                .fetch_optional(pool)
                .await
        }
    };
    match item {
        Ok(Some(item)) => Ok(Json(item)),
        Ok(None) => Err(StatusCode::NOT_FOUND),
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

async fn connect(url: &str) -> sqlx::Result<Db> {
    if url.starts_with("postgres") {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect(url)
            .await?;
        return Ok(Db::Postgres(pool));
    }
    let options = SqliteConnectOptions::from_str(url)?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect_with(options)
        .await?;
    Ok(Db::Sqlite(pool))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let db = connect(&url).await?;
    let router = Router::new()
        .route("/api/v1/items/{id}", get(fetch))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind(bench_baselines::address()).await?;
    axum::serve(listener, router).await?;
    Ok(())
}
