//! Databases of their own on the shared Postgres (`DATABASE_URL`, which `.ci/services.sh`
//! starts), for the tiers that run a service or a script against a real server.

use std::process::Command;

use super::{run, succeeded};

/// The shared server's administrative URL: `DATABASE_URL`, or the one `.ci/services.sh` starts.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

/// An empty database `name` on the server of `admin`, in place of any of that name,
/// owned by `owner` (the admin user when `None`); its URL as the admin user.
pub fn fresh_database(admin: &str, name: &str, owner: Option<&str>) -> Result<String, String> {
    drop_database(admin, name);
    let owned_by = owner
        .map(|owner| format!(" OWNER {owner}"))
        .unwrap_or_default();
    let create = format!("CREATE DATABASE {name}{owned_by}");
    succeeded(&psql(admin, &create), &create)?;
    let base = admin.split('?').next().unwrap_or(admin);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    Ok(format!("{server}/{name}"))
}

/// Drops database `name`, closing its connections; nothing happens when there is none.
pub fn drop_database(admin: &str, name: &str) {
    psql(
        admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
}

fn psql(url: &str, sql: &str) -> std::process::Output {
    run(Command::new("psql").arg(url).args(["-q", "-c", sql]))
}
