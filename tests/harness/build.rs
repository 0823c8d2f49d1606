//! Each variant as a standalone project with exactly its own features:
//! formatted, clippy-clean, its own tests passing against real Postgres and
//! Redis (`DATABASE_URL`, `REDIS_URL`); and the default variant's README
//! quickstart run as written.
//!
//! Every variant builds in its own directory with `--locked`, as a user's
//! checkout would, into one shared target directory: a dependency whose
//! features two variants share compiles once.

use std::{net::TcpStream, process::Command, time::Instant};

use crate::helpers::{
    Failures, Project, Variant, all_projects, cargo_for, generated, in_project, shell_block, tail,
    variants, work_dir,
};

#[test]
fn every_variant_is_formatted_and_clippy_clean_standalone() {
    let mut failures = Failures::default();
    let mut table = vec!["variant | fmt | clippy | seconds".to_owned()];
    for project in all_projects() {
        let started = Instant::now();
        let mut row = vec![project.variant.id()];
        for (step, args) in [
            ("fmt", &["fmt", "--check"][..]),
            (
                "clippy",
                &[
                    "clippy",
                    "--locked",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ][..],
            ),
        ] {
            let output = cargo_for(&project, args).output().expect("cargo runs");
            row.push(
                if output.status.success() {
                    "pass"
                } else {
                    "FAIL"
                }
                .to_owned(),
            );
            failures.check(
                output.status.success(),
                &project.variant,
                format!("cargo {step} failed:\n{}", tail(&output, 40)),
            );
        }
        row.push(started.elapsed().as_secs().to_string());
        println!("{}", row.join(" | "));
        table.push(row.join(" | "));
    }
    println!("\n{}", table.join("\n"));
    failures.assert_none("fmt and clippy");
}

#[test]
fn every_variant_passes_its_own_tests() {
    let mut failures = Failures::default();
    let mut table = vec!["variant | tests | seconds".to_owned()];
    for project in all_projects() {
        let started = Instant::now();
        let output = cargo_for(&project, &["test", "--locked"])
            .output()
            .expect("cargo runs");
        failures.check(
            output.status.success(),
            &project.variant,
            format!("cargo test failed:\n{}", tail(&output, 60)),
        );
        let row = format!(
            "{} | {} | {}",
            project.variant,
            if output.status.success() {
                "pass"
            } else {
                "FAIL"
            },
            started.elapsed().as_secs()
        );
        println!("{row}");
        table.push(row);
    }
    println!("\n{}", table.join("\n"));
    failures.assert_none("tests");
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
    let copy = work_dir().join("quickstart");
    std::fs::remove_dir_all(&copy).ok();
    std::fs::create_dir_all(&copy).expect("quickstart directory");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", generated.dir.display()))
        .arg(&copy)
        .status()
        .expect("cp runs");
    assert!(copied.success(), "could not copy the project");
    let project = Project {
        variant: default,
        dir: copy,
    };

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
    // The service logs to the same terminal from its own thread, so a log line may land
    // between curl's body and the newline `-w '\n'` adds: read the value a line starts with.
    let answers: Vec<serde_json::Value> = printed
        .lines()
        .filter_map(|line| {
            serde_json::Deserializer::from_str(line)
                .into_iter()
                .next()?
                .ok()
        })
        .collect();
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
