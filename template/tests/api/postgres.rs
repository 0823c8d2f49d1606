use secrecy::ExposeSecret;
use {{crate_name}}::db;

use crate::helpers::test_config;

/// The server CI starts has TLS on, as managed Postgres services do.
#[tokio::test]
async fn connects_over_tls_when_the_url_requires_it() {
    let config = test_config(&[]).database;
    let url = config.database_url.expose_secret();
    let separator = if url.contains('?') { '&' } else { '?' };
    let tls_url = format!("{url}{separator}sslmode=require");
    let config = test_config(&["--database-url", &tls_url]).database;

    let pool = db::connect(&config).await.expect("a TLS connection to DATABASE_URL");
    let (tls,): (bool,) = sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .expect("pg_stat_ssl query");

    assert!(tls, "the connection is not encrypted");
}
