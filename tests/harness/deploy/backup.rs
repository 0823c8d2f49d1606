//! The backup and restore scripts, drilled once on a real database of each variant,
//! with the database tools they start recorded on their way (`RecordedTools`). The
//! checks, one test each:
//! - what was backed up comes back after the data changed;
//! - no password reaches a command line (`ps` shows those to every user of the host),
//!   although the drill's URL holds one, percent-encoded as a URL may have it;
//! - a backup, and the directory the script makes for it, are its owner's only.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Output,
    sync::OnceLock,
};

use super::run_tool;
use crate::helpers::{Failures, Project, Variant, all_projects, postgres, project_name, tail};

/// The drill's database role and its password (`.ci/services.sh` creates it), the
/// password percent-encoded in the URL (`%2D` is `-`), as a URL may have it.
const ROLE_PASSWORD: &str = "e2e-s3cret";
const ROLE_IN_URL: &str = "e2e:e2e%2Ds3cret";

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

/// The database a drill runs on: a fresh Postgres database owned by the drill's role,
/// or a SQLite file under `drill`; and the arguments that point the scripts at it.
fn drill_database(project: &Project, drill: &Path) -> (String, Vec<String>) {
    let v = &project.variant;
    if v.is("database", "postgres") {
        let name = format!("drill_{}", project_name(v).replace('-', "_"));
        let as_admin = postgres::fresh_database(&postgres::admin_url(), &name, Some("e2e"))
            .unwrap_or_else(|error| panic!("[{v}] {error}"));
        let server_and_database = as_admin.rsplit_once('@').map_or("", |(_, rest)| rest);
        let url = format!("postgres://{ROLE_IN_URL}@{server_and_database}");
        (url, vec![])
    } else {
        let file = drill.join("live.db").to_string_lossy().into_owned();
        (file.clone(), vec!["--db".to_owned(), file])
    }
}

/// A directory of stand-ins, first on the scripts' `PATH`, for the database tools they
/// start: each appends its command line to a log, then runs the real tool.
struct RecordedTools {
    dir: PathBuf,
    log: PathBuf,
}

impl RecordedTools {
    fn new(drill: &Path) -> Self {
        let dir = drill.join("bin");
        let log = drill.join("command-lines.log");
        std::fs::create_dir_all(&dir).expect("tools directory");
        for tool in ["pg_dump", "pg_restore", "psql", "sqlite3"] {
            let Ok(real) = which(tool) else { continue };
            let script = format!(
                "#!/bin/sh\nprintf '%s\\n' \"$0 $*\" >>'{}'\nexec '{}' \"$@\"\n",
                log.display(),
                real.display()
            );
            let path = dir.join(tool);
            std::fs::write(&path, script).expect("recording tool written");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .expect("recording tool made executable");
        }
        Self { dir, log }
    }

    fn path(&self) -> String {
        format!(
            "{}:{}",
            self.dir.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn command_lines(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn which(tool: &str) -> Result<PathBuf, String> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
        .ok_or_else(|| format!("{tool} is not installed"))
}

/// What one variant's drill saw.
struct Drill {
    variant: Variant,
    backup: Output,
    restore: Output,
    /// The backup's path, as backup.sh printed it.
    file: String,
    /// The directory backup.sh was told to make.
    backups: PathBuf,
    /// The row read back after the restore.
    seen: String,
    command_lines: String,
}

/// Runs one of the scripts on `database` with `args`, its tools recorded.
fn script(
    project: &Project,
    script: &str,
    args: &[String],
    database: &str,
    tools: &RecordedTools,
) -> Output {
    project
        .command(script)
        .args(args)
        .env("DATABASE_URL", database)
        .env("PATH", tools.path())
        .output()
        .unwrap_or_else(|error| panic!("{script} cannot run: {error}"))
}

/// A note written, backed up, overwritten, then restored.
fn drill(project: &Project) -> Drill {
    let drill = project.path("target/drill");
    std::fs::remove_dir_all(&drill).ok();
    std::fs::create_dir_all(&drill).expect("drill directory");
    let tools = RecordedTools::new(&drill);
    let (database, database_args) = drill_database(project, &drill);
    let note = |sql_text: &str| sql(project, &database, sql_text);
    note("CREATE TABLE drill (note TEXT); INSERT INTO drill VALUES ('before');");

    let backups = drill.join("backups");
    let mut backup_args = database_args.clone();
    backup_args.extend(["--dir".to_owned(), backups.to_string_lossy().into_owned()]);
    let backup = script(
        project,
        "scripts/backup.sh",
        &backup_args,
        &database,
        &tools,
    );
    let file = String::from_utf8_lossy(&backup.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    note("DELETE FROM drill; INSERT INTO drill VALUES ('after');");
    let mut restore_args = database_args;
    restore_args.extend(["--yes".to_owned(), file.clone()]);
    let restore = script(
        project,
        "scripts/restore.sh",
        &restore_args,
        &database,
        &tools,
    );
    let seen = String::from_utf8_lossy(&note("SELECT note FROM drill").stdout)
        .trim()
        .to_owned();
    Drill {
        variant: project.variant,
        backup,
        restore,
        file,
        backups,
        seen,
        command_lines: tools.command_lines(),
    }
}

/// Every variant's drill, run once for the tests below.
fn drills() -> &'static [Drill] {
    static DRILLS: OnceLock<Vec<Drill>> = OnceLock::new();
    DRILLS.get_or_init(|| all_projects().iter().map(drill).collect())
}

#[test]
fn backup_and_restore_bring_the_data_back() {
    let mut failures = Failures::default();
    for drill in drills() {
        let v = &drill.variant;
        failures.check(
            drill.backup.status.success(),
            v,
            format!("backup.sh failed:\n{}", tail(&drill.backup, 10)),
        );
        failures.check(
            drill.restore.status.success(),
            v,
            format!(
                "restore.sh {} failed:\n{}",
                drill.file,
                tail(&drill.restore, 10)
            ),
        );
        failures.check(
            drill.seen == "before",
            v,
            format!(
                "after restore: expected the row `before`, saw `{}`",
                drill.seen
            ),
        );
    }
    failures.assert_none("backup and restore");
}

#[test]
fn no_password_reaches_a_command_line_in_a_backup_or_a_restore() {
    let mut failures = Failures::default();
    for drill in drills() {
        let lines = &drill.command_lines;
        failures.check(
            !lines.trim().is_empty(),
            &drill.variant,
            "the scripts started no database tool",
        );
        failures.check(
            !lines.contains(ROLE_PASSWORD) && !lines.contains(ROLE_IN_URL),
            &drill.variant,
            format!("expected no password on a command line, saw:\n{lines}"),
        );
    }
    failures.assert_none("passwords on command lines");
}

#[test]
fn a_backup_and_its_directory_are_readable_by_their_owner_only() {
    let mut failures = Failures::default();
    for drill in drills() {
        for path in [Path::new(&drill.file), drill.backups.as_path()] {
            let mode = std::fs::metadata(path).map(|meta| meta.permissions().mode() & 0o777);
            failures.check(
                mode.as_ref().is_ok_and(|mode| mode & 0o077 == 0),
                &drill.variant,
                format!(
                    "expected {} to be its owner's only (mode 600 or 700), saw {}",
                    path.display(),
                    mode.map_or_else(|error| error.to_string(), |mode| format!("mode {mode:o}"))
                ),
            );
        }
    }
    failures.assert_none("backup permissions");
}
