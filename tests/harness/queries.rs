//! The service's SQL, checked against the schema at compile time (`sqlx::query!`), in
//! the first variant of each database that `VARIANTS` holds (the one with no other
//! option on):
//! - the committed query cache (`.sqlx/`) is current: the project's
//!   `scripts/query-cache.sh --check`, the generated CI's `query-cache` job (sqlx-cli's
//!   `cargo sqlx prepare --check` against a scratch database the migrations build),
//!   passes;
//! - a query changed without refreshing the cache fails the offline build with sqlx's
//!   message (the project's `.cargo/config.toml` sets `SQLX_OFFLINE=true`);
//! - the same change fails `scripts/query-cache.sh --check`;
//! - a query naming a column the migrations do not create fails against the database,
//!   naming the column;
//! - with the project's sqlx moved to another patch release of its minor series, as
//!   Dependabot moves it, the check passes with the sqlx-cli installed for the old one.
//!
//! That every variant builds with no database reachable is the `build` tier's: its
//! clippy build runs with `DATABASE_URL` naming a closed port.

use std::process::Output;

use crate::helpers::{
    Failures, Project, Variant, cargo_for, copy_of, generated, in_project, postgres::admin_url,
    run, succeeded, tail, variants,
};

/// What sqlx says when `SQLX_OFFLINE=true` and `.sqlx/` has no entry for a query.
const NO_CACHED_DATA: &str = "`SQLX_OFFLINE=true` but there is no cached data for this query";

/// The first variant of each database in `VARIANTS`.
fn one_per_database() -> Vec<Variant> {
    let mut chosen: Vec<Variant> = Vec::new();
    for variant in variants() {
        let database = variant.value("database");
        if !chosen.iter().any(|other| other.is("database", database)) {
            chosen.push(variant);
        }
    }
    chosen
}

/// `scripts/query-cache.sh --check` as CI runs it: on Postgres, against the shared
/// server, where it makes its scratch database.
fn query_cache_check(project: &Project) -> Output {
    let mut command = in_project(project, "scripts/query-cache.sh", &["--check"]);
    if project.variant.is("database", "postgres") {
        command.env("DATABASE_URL", admin_url());
    }
    run(&mut command)
}

/// A copy of the variant's project, named `name`, with `from` replaced by `to` once in
/// `src/items.rs`, where the queries are.
fn with_query_edited(variant: Variant, name: &str, from: &str, to: &str) -> Project {
    let project = copy_of(&generated(variant), name);
    let path = project.path("src/items.rs");
    let source = project.read("src/items.rs");
    assert!(
        source.contains(from),
        "[{variant}] no `{from}` in src/items.rs"
    );
    std::fs::write(&path, source.replacen(from, to, 1)).expect("src/items.rs written");
    project
}

fn stale_cache(variant: Variant) -> Project {
    with_query_edited(
        variant,
        "stale-query-cache",
        "ORDER BY id LIMIT",
        "ORDER BY id DESC LIMIT",
    )
}

#[test]
fn the_committed_query_cache_passes_the_ci_check() {
    let mut failures = Failures::default();
    for variant in one_per_database() {
        let output = query_cache_check(&generated(variant));
        failures.check(
            output.status.success(),
            &variant,
            format!(
                "expected scripts/query-cache.sh --check to pass (refresh the template's caches \
                 with scripts/update-query-caches.sh), it failed:\n{}",
                tail(&output, 30)
            ),
        );
    }
    failures.assert_none("query cache");
}

/// Records a failure unless `output` is a failure printing one of `messages`.
fn expect_refusal(
    failures: &mut Failures,
    variant: &Variant,
    output: &Output,
    what: &str,
    messages: &[&str],
) {
    // sqlx-cli prints its verdict on stdout, cargo its errors on stderr.
    let said = |message: &&str| {
        String::from_utf8_lossy(&output.stdout).contains(message)
            || String::from_utf8_lossy(&output.stderr).contains(message)
    };
    let refused = !output.status.success() && messages.iter().any(said);
    let printed = tail(output, 40);
    let outcome = if output.status.success() {
        "passed"
    } else {
        "failed otherwise"
    };
    failures.check(
        refused,
        variant,
        format!("expected {what} to fail with {messages:?}; it {outcome}:\n{printed}"),
    );
}

#[test]
fn a_changed_query_fails_the_offline_build_with_sqlxs_message() {
    let mut failures = Failures::default();
    for variant in one_per_database() {
        let build = ["build", "--locked", "--lib"];
        let output = run(&mut cargo_for(&stale_cache(variant), &build));
        expect_refusal(
            &mut failures,
            &variant,
            &output,
            "the build",
            &[NO_CACHED_DATA],
        );
    }
    failures.assert_none("offline build of a changed query");
}

#[test]
fn a_changed_query_fails_the_ci_check() {
    let mut failures = Failures::default();
    for variant in one_per_database() {
        let output = query_cache_check(&stale_cache(variant));
        let what = "scripts/query-cache.sh --check";
        expect_refusal(
            &mut failures,
            &variant,
            &output,
            what,
            &["re-run sqlx prepare"],
        );
    }
    failures.assert_none("query cache check of a changed query");
}

#[test]
fn a_query_naming_a_missing_column_fails_against_the_database() {
    let mut failures = Failures::default();
    for variant in one_per_database() {
        let project = with_query_edited(
            variant,
            "missing-column",
            "description AS \"description?\"",
            "summary AS \"description?\"",
        );
        let output = query_cache_check(&project);
        let (sqlite, postgres) = (
            "no such column: summary",
            "column \"summary\" does not exist",
        );
        let what = "the build against the database";
        expect_refusal(&mut failures, &variant, &output, what, &[sqlite, postgres]);
    }
    failures.assert_none("query naming a missing column");
}

/// Dependabot moves sqlx by patch releases, and sqlx-cli is not published for each of
/// them (none for sqlx 0.9.1): with the project's sqlx moved to another patch release of
/// its minor series, the check still runs, with the sqlx-cli installed for the old one.
#[test]
fn the_ci_check_passes_with_sqlx_at_another_patch_release_than_sqlx_cli() {
    let mut failures = Failures::default();
    for variant in one_per_database() {
        let project = copy_of(&generated(variant), "sqlx-patch-release");
        let moved = match move_sqlx_to_another_patch_release(&project) {
            Ok(Some(moved)) => moved,
            Ok(None) => {
                println!("skipped {variant}: its sqlx has no other patch release yet");
                continue;
            }
            Err(error) => {
                failures.add(&variant, error);
                continue;
            }
        };
        let output = query_cache_check(&project);
        failures.check(
            output.status.success(),
            &variant,
            format!(
                "expected scripts/query-cache.sh --check to pass with sqlx moved to {moved}, \
                 it failed:\n{}",
                tail(&output, 30)
            ),
        );
    }
    failures.assert_none("query cache check after a sqlx patch release");
}

/// Moves the project's sqlx to another patch release of its minor series: down to the
/// first, or from the first up to the newest. Gives the version it moved to, or `None`
/// when the series has one release.
fn move_sqlx_to_another_patch_release(project: &Project) -> Result<Option<String>, String> {
    let locked = locked_sqlx(project)?;
    let (series, patch) = locked
        .rsplit_once('.')
        .ok_or_else(|| format!("sqlx {locked} has no patch number"))?;
    let first = format!("{series}.0");
    let mut update = vec!["update", "--package", "sqlx"];
    if patch != "0" {
        update.extend(["--precise", &first]);
    }
    succeeded(
        &run(&mut cargo_for(project, &update)),
        "cargo update --package sqlx",
    )?;
    let moved = locked_sqlx(project)?;
    Ok((moved != locked).then_some(moved))
}

/// The version of sqlx in the project's Cargo.lock.
fn locked_sqlx(project: &Project) -> Result<String, String> {
    let lock = project.read("Cargo.lock");
    lock.lines()
        .skip_while(|line| *line != "name = \"sqlx\"")
        .nth(1)
        .and_then(|line| line.strip_prefix("version = \""))
        .and_then(|line| line.strip_suffix('"'))
        .map(str::to_owned)
        .ok_or_else(|| "Cargo.lock has no sqlx".to_owned())
}
