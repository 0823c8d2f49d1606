//! Each variant as a standalone project with exactly its own features:
//! formatted, clippy-clean, its own tests passing against real Postgres and
//! Redis (`DATABASE_URL`, `REDIS_URL`); and the default variant's README
//! quickstart run as written.
//!
//! Every variant builds in its own directory with `--locked`, as a user's
//! checkout would, into one shared target directory: a dependency whose
//! features two variants share compiles once.

use std::{
    collections::BTreeMap,
    fs::File,
    net::TcpStream,
    path::Path,
    process::{Child, Command},
    time::{Duration, Instant},
};

use crate::helpers::{Failures, Project, Variant, all_projects, generated, tail, work_dir};

/// `program args` in the project's directory, as every command of this tier runs.
pub(crate) fn in_project(project: &Project, program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(&project.dir)
        // One target directory for every variant, so what they share compiles once.
        .env("CARGO_TARGET_DIR", work_dir().join("target"))
        // Many projects' test binaries: debug info and incremental state would only cost time.
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "0");
    // The SQLite variants use their own files, never the Postgres URL the harness has.
    if !project.variant.postgres {
        command.env_remove("DATABASE_URL");
    }
    command
}

pub(crate) fn cargo_for(project: &Project, args: &[&str]) -> Command {
    in_project(project, "cargo", args)
}

fn shell(project: &Project, line: &str) -> Command {
    in_project(project, "bash", &["-c", line])
}

#[test]
fn every_variant_is_formatted_and_clippy_clean_standalone() {
    let mut failures = Failures::default();
    let mut table = vec!["variant | fmt | clippy | seconds".to_owned()];
    for project in all_projects() {
        let started = Instant::now();
        let mut row = vec![project.variant.id()];
        for (step, args) in [
            ("fmt", &["fmt", "--check"][..]),
            ("clippy", &["clippy", "--locked", "--all-targets", "--", "-D", "warnings"][..]),
        ] {
            let output = cargo_for(&project, args).output().expect("cargo runs");
            row.push(if output.status.success() { "pass" } else { "FAIL" }.to_owned());
            failures.check(output.status.success(), &project.variant, format!("cargo {step} failed:\n{}", tail(&output, 40)));
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
        let output = cargo_for(&project, &["test", "--locked"]).output().expect("cargo runs");
        failures.check(output.status.success(), &project.variant, format!("cargo test failed:\n{}", tail(&output, 60)));
        let row = format!(
            "{} | {} | {}",
            project.variant,
            if output.status.success() { "pass" } else { "FAIL" },
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

/// The default variant's "Run it locally" section, run line by line as a reader
/// would: `cargo run` in one terminal, each `curl` in another.
#[test]
fn the_default_variants_readme_quickstart_works_as_written() {
    let default = Variant { postgres: false, redis: false, sentry: false, otel: false };
    if !Variant::all().contains(&default) {
        return println!("skipped: VARIANTS leaves out {default}");
    }
    let project = generated(default);
    let readme = project.read("README.md");
    let lines = readme_quickstart(&readme);
    assert!(lines.first().is_some_and(|line| line == "cargo run"), "the quickstart does not start with `cargo run`: {lines:?}");
    assert!(TcpStream::connect(("127.0.0.1", DEFAULT_PORT)).is_err(), "port {DEFAULT_PORT} is already taken; the quickstart needs it");

    let log = work_dir().join("quickstart.log");
    let server = QuickstartServer::start(&project, &lines[0], &log);
    let mut answers = BTreeMap::new();
    for line in &lines[1..] {
        let output = shell(&project, line).output().expect("bash runs");
        assert!(output.status.success(), "`{line}` failed:\n{}", tail(&output, 20));
        let answer: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|error| panic!("`{line}` did not answer JSON ({error}): {}", String::from_utf8_lossy(&output.stdout)));
        answers.insert(line.as_str(), answer);
    }
    let status = server.stop();
    let server_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "`cargo run` did not stop cleanly on SIGTERM ({status}):\n{server_log}");

    let answer = |command: fn(&str) -> bool, what: &str| {
        answers
            .iter()
            .find(|(line, _)| command(line))
            .map(|(_, answer)| answer)
            .unwrap_or_else(|| panic!("the quickstart has no command that {what}: {lines:?}"))
    };
    assert_eq!(answer(|line| line.ends_with("/health"), "checks /health")["status"], "ok", "GET /health");
    assert_eq!(answer(|line| line.contains("-X POST"), "creates an item")["name"], "first", "the created item");
    let listed = answer(|line| line.ends_with("/api/v1/items"), "lists the items");
    assert!(listed.to_string().contains(r#""name":"first""#), "the list lacks the created item: {listed}");
}

/// The shell lines of the README's "Run it locally" section, in order.
fn readme_quickstart(readme: &str) -> Vec<String> {
    let section = readme.split("\n## Run it locally\n").nth(1).and_then(|rest| rest.split("\n## ").next()).expect("a \"Run it locally\" section");
    section
        .split("```sh\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .flat_map(str::lines)
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `cargo run` in the background, its output in a file; killed if a check fails.
struct QuickstartServer(Child);

impl QuickstartServer {
    fn start(project: &Project, line: &str, log: &Path) -> Self {
        let output = File::create(log).expect("log file");
        // `exec`, so the signal that stops it reaches cargo, which runs the service in its place.
        let child = shell(project, &format!("exec {line}"))
            .stdout(output.try_clone().expect("log file"))
            .stderr(output)
            .spawn()
            .expect("bash runs");
        let mut server = Self(child);
        // A cold debug build of the service comes first.
        let deadline = Instant::now() + Duration::from_secs(1200);
        while TcpStream::connect(("127.0.0.1", DEFAULT_PORT)).is_err() {
            let log = || std::fs::read_to_string(log).unwrap_or_default();
            if let Ok(Some(status)) = server.0.try_wait() {
                panic!("`{line}` exited ({status}) before listening on {DEFAULT_PORT}:\n{}", log());
            }
            assert!(Instant::now() < deadline, "`{line}` did not listen on {DEFAULT_PORT} within 20 min:\n{}", log());
            std::thread::sleep(Duration::from_millis(500));
        }
        server
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let signalled = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status().expect("kill runs");
        assert!(signalled.success(), "could not signal `cargo run`");
        self.0.wait().expect("`cargo run` exits")
    }
}

impl Drop for QuickstartServer {
    fn drop(&mut self) {
        self.0.kill().ok();
    }
}
