use sqlx::{Connection, PgConnection};

/// An empty database of the test's own on the server at `DATABASE_URL`.
pub struct TestDatabase {
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let server = std::env::var("DATABASE_URL").expect("DATABASE_URL names a Postgres server for the tests");
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut connection = PgConnection::connect(&server).await.expect("Postgres is reachable at DATABASE_URL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut connection)
            .await
            .expect("test database created");
        let (base, query) = server.split_once('?').map_or((server.as_str(), None), |(base, query)| (base, Some(query)));
        let base = base.rsplit_once('/').map_or(base, |(host, _)| host);
        let url = match query {
            Some(query) => format!("{base}/{name}?{query}"),
            None => format!("{base}/{name}"),
        };
        Self { url }
    }
}
