use {{crate_name}}::db;

use crate::support::app::test_config;

fn config_in(directory: &std::path::Path) -> {{crate_name}}::config::DatabaseConfig {
    let url = format!("sqlite:{}/data/app.db", directory.display());
    test_config(&["--database-url", &url]).database
}

#[tokio::test]
async fn connect_creates_the_database_file_and_its_directory() {
    let directory = tempfile::tempdir().expect("temp dir");

    db::connect(&config_in(directory.path())).await.expect("database opened");

    assert!(directory.path().join("data/app.db").is_file());
}

#[tokio::test]
async fn connect_turns_on_wal_and_foreign_keys() {
    let directory = tempfile::tempdir().expect("temp dir");
    let pool = db::connect(&config_in(directory.path())).await.expect("database opened");

    let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&pool).await.expect("pragma");
    let (foreign_keys,): (i64,) = sqlx::query_as("PRAGMA foreign_keys").fetch_one(&pool).await.expect("pragma");

    assert_eq!(journal, "wal");
    assert_eq!(foreign_keys, 1);
}
