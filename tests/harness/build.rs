//! Each variant as a standalone project with exactly its own features. The checks:
//! - `cargo fmt --check` and `cargo clippy --all-targets -- -D warnings` pass, with
//!   `DATABASE_URL` naming a port nothing listens on: the query macros read the
//!   committed `.sqlx/`, and the build needs no database;
//! - `cargo test --locked` passes against real Postgres and Redis (`DATABASE_URL`,
//!   `REDIS_URL`);
//! - the default variant's README "Run it locally" block, pasted into one shell as
//!   written (it starts the service in the background, on port 8080, which must be
//!   free), succeeds: `/health` answers `ok`, the item it creates is answered and
//!   listed, nothing listens after its `kill %1`, and it has written `.env`.
//!
//! Every variant builds in its own directory with `--locked`, as a user's
//! checkout would, into one shared target directory: a dependency whose
//! features two variants share compiles once.

use std::net::TcpStream;

use crate::{
    helpers::{
        CLIPPY, Variant, all_projects, cargo_for, copy_of, generated, in_project, shell_block,
        tail, variants,
    },
    report::{Table, verdict},
};

/// A database URL on a port nothing listens on: a build that connects fails.
const NO_DATABASE: &str = "postgres://postgres@127.0.0.1:9/nothing_listens_here";

#[test]
fn every_variant_is_formatted_and_clippy_clean_standalone() {
    let mut table = Table::new("fmt and clippy", "variant | fmt | clippy | seconds");
    for project in all_projects() {
        table.timed(&project.variant, |failures| {
            let mut cells = Vec::new();
            for (step, args) in [("fmt", &["fmt", "--check"][..]), ("clippy", CLIPPY)] {
                let output = cargo_for(&project, args)
                    .env("DATABASE_URL", NO_DATABASE)
                    .output()
                    .expect("cargo runs");
                cells.push(verdict(output.status.success()));
                failures.check(
                    output.status.success(),
                    &project.variant,
                    format!("cargo {step} failed:\n{}", tail(&output, 40)),
                );
            }
            cells.join(" | ")
        });
    }
    table.finish("fmt and clippy");
}

#[test]
fn every_variant_passes_its_own_tests() {
    let mut table = Table::new("cargo test", "variant | tests | seconds");
    for project in all_projects() {
        table.timed(&project.variant, |failures| {
            let output = cargo_for(&project, &["test", "--locked"])
                .output()
                .expect("cargo runs");
            failures.check(
                output.status.success(),
                &project.variant,
                format!("cargo test failed:\n{}", tail(&output, 60)),
            );
            verdict(output.status.success()).to_owned()
        });
    }
    table.finish("tests");
}

/// The port the default variant's README sends its `curl` commands to.
const DEFAULT_PORT: u16 = 8080;

/// The default variant's "Run it locally" block, pasted into one shell as a reader
/// would, in a copy of the project (it writes `.env` there).
#[test]
fn the_default_variants_readme_quickstart_works_as_written() {
    let default = Variant::default_choice();
    if !variants().contains(&default) {
        return println!("skipped: VARIANTS leaves out {default}");
    }
    let generated = generated(default);
    let block = shell_block(&generated.read("README.md"), "Run it locally");
    assert!(
        block.lines().any(|line| line.trim_end().ends_with('&')),
        "the quickstart starts nothing in the background:\n{block}"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", DEFAULT_PORT)).is_err(),
        "port {DEFAULT_PORT} is already taken; the quickstart needs it"
    );
    // A copy: the quickstart writes `.env` in the project.
    let project = copy_of(&generated, "quickstart");

    // A cold debug build of the service comes first.
    let output = in_project(&project, "timeout", &["1200", "bash", "-e", "-c", &block])
        .output()
        .expect("bash runs");

    let printed = String::from_utf8_lossy(&output.stdout);
    let transcript = format!("{printed}\n{}", tail(&output, 30));
    assert!(
        output.status.success(),
        "the quickstart failed ({}):\n{transcript}",
        output.status
    );
    let answers = json_answers(&printed);
    let answered = |what: &str, holds: &dyn Fn(&serde_json::Value) -> bool| {
        assert!(
            answers.iter().any(holds),
            "no answer {what} in:\n{transcript}"
        );
    };
    answered("from /health", &|answer| answer["status"] == "ok");
    answered("with the created item", &|answer| answer["name"] == "first");
    answered("listing the created item", &|answer| {
        answer["items"][0]["name"] == "first"
    });
    assert!(
        TcpStream::connect(("127.0.0.1", DEFAULT_PORT)).is_err(),
        "the service still listens after `kill %1`:\n{transcript}"
    );
    assert!(project.exists(".env"), "the quickstart did not create .env");
}

/// The JSON values the lines of `printed` start with: the service logs to the same
/// terminal from its own thread, so a log line may land between curl's body and the
/// newline `-w '\n'` adds.
fn json_answers(printed: &str) -> Vec<serde_json::Value> {
    printed
        .lines()
        .filter_map(|line| {
            serde_json::Deserializer::from_str(line)
                .into_iter()
                .next()?
                .ok()
        })
        .collect()
}
