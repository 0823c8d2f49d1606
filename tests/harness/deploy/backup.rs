//! The backup and restore scripts, drilled on a real database of each variant:
//! what was backed up comes back after the data changed.

use std::{path::Path, process::Output};

use super::run_tool;
use crate::helpers::{Failures, Project, all_projects, postgres, project_name, tail};

/// Runs `sql` against a database: `psql` for a Postgres URL, `sqlite3` for a file.
fn sql(project: &Project, database: &str, sql: &str) -> Output {
    let program = if database.starts_with("postgres") {
        "psql"
    } else {
        "sqlite3"
    };
    let mut args = vec![database];
    if program == "psql" {
        args.extend(["-qtA", "-c"]);
    }
    args.push(sql);
    run_tool(project, program, &args)
}

/// The database a drill runs on: a fresh Postgres database, or a SQLite file under
/// `drill`; and the arguments that point the scripts at it.
fn drill_database(project: &Project, admin: &str, drill: &Path) -> (String, Vec<String>) {
    let v = &project.variant;
    if v.is("database", "postgres") {
        let name = format!("drill_{}", project_name(v).replace('-', "_"));
        let url = postgres::fresh_database(admin, &name, None)
            .unwrap_or_else(|error| panic!("[{v}] {error}"));
        (url, vec![])
    } else {
        let file = drill.join("live.db").to_string_lossy().into_owned();
        (file.clone(), vec!["--db".to_owned(), file])
    }
}

/// Runs one of the scripts on `database` with `args`.
fn script(project: &Project, script: &str, args: &[String], database: &str) -> Output {
    project
        .command(script)
        .args(args)
        .env("DATABASE_URL", database)
        .output()
        .unwrap_or_else(|error| panic!("{script} cannot run: {error}"))
}

#[test]
fn backup_and_restore_bring_the_data_back() {
    let mut failures = Failures::default();
    let admin = postgres::admin_url();
    for project in all_projects() {
        let v = &project.variant;
        let drill = project.path("target/drill");
        std::fs::remove_dir_all(&drill).ok();
        std::fs::create_dir_all(&drill).expect("drill directory");
        let (database, database_args) = drill_database(&project, &admin, &drill);
        let note = |sql_text: &str| sql(&project, &database, sql_text);
        note("CREATE TABLE drill (note TEXT); INSERT INTO drill VALUES ('before');");

        let mut backup_args = database_args.clone();
        backup_args.extend([
            "--dir".to_owned(),
            drill.join("backups").to_string_lossy().into_owned(),
        ]);
        let backup = script(&project, "scripts/backup.sh", &backup_args, &database);
        let file = String::from_utf8_lossy(&backup.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned();
        note("DELETE FROM drill; INSERT INTO drill VALUES ('after');");
        let mut restore_args = database_args;
        restore_args.extend(["--yes".to_owned(), file.clone()]);
        let restore = script(&project, "scripts/restore.sh", &restore_args, &database);
        let seen = String::from_utf8_lossy(&note("SELECT note FROM drill").stdout)
            .trim()
            .to_owned();

        failures.check(
            backup.status.success(),
            v,
            format!("backup.sh failed:\n{}", tail(&backup, 10)),
        );
        failures.check(
            restore.status.success(),
            v,
            format!("restore.sh {file} failed:\n{}", tail(&restore, 10)),
        );
        failures.check(
            seen == "before",
            v,
            format!("after restore: expected the row `before`, saw `{seen}`"),
        );
    }
    failures.assert_none("backup and restore");
}
