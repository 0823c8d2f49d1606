//! This repository's own scripts, workflow, README and versions. The checks:
//! - its shell scripts (`.ci/run`, `.ci/services.sh`, `scripts/bench.sh`,
//!   `scripts/template-source.sh`, `scripts/update-lockfiles.sh`,
//!   `scripts/update-query-caches.sh`, `tests/container/stand-in-images.sh`) are
//!   shellcheck-clean;
//! - its workflows (`template.yml`, and `lockfiles.yml`, which updates every variant's
//!   lockfile weekly and opens a pull request once `template.yml` passes on it) pass the
//!   GitHub workflow schema (check-jsonschema) and zizmor; `.github/dependabot.yml`
//!   (actions, the harness's and bench/'s crates) passes its schema;
//! - the README's Quick start, run as written in a fresh repository made from this
//!   checkout, on a machine without cargo-generate (it installs one) and on one that
//!   has one already (it keeps it), generates `../my-service` as a git repository of
//!   its own, leaving the checkout clean;
//! - every option of `template/cargo-generate.toml` has a row in the README's options table;
//! - the benchmark's axum + sqlx baseline has the Postgres TLS features of the service's sqlx;
//! - the version in `Cargo.toml`, `template/.template/answers.toml` and the newest
//!   section of `CHANGELOG.md` is the same;
//! - once a version is tagged as released, `template/` and `hooks/` do not change.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use crate::helpers::{CARGO_GENERATE, copy_checkout, repo_root, shell_block, tail};

/// `program args` in this repository, run to completion.
fn in_repo(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .current_dir(repo_root())
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} runs (see .ci/run): {error}"))
}

/// `git args` in `dir`.
fn git_in(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs")
}

#[test]
fn the_repository_scripts_are_shellcheck_clean() {
    let scripts = [
        ".ci/run",
        ".ci/services.sh",
        "scripts/bench.sh",
        "scripts/template-source.sh",
        "scripts/update-lockfiles.sh",
        "scripts/update-query-caches.sh",
        "tests/container/stand-in-images.sh",
    ];

    let output = in_repo("shellcheck", &scripts);

    assert!(
        output.status.success(),
        "shellcheck:\n{}",
        tail(&output, 30)
    );
}

#[test]
fn every_workflow_passes_zizmor_and_the_github_workflow_schema() {
    let workflows = [
        ".github/workflows/template.yml",
        ".github/workflows/lockfiles.yml",
    ];
    let mut args = vec!["--builtin-schema", "vendor.github-workflows"];
    args.extend(workflows);
    let schema = in_repo("check-jsonschema", &args);
    let mut args = vec!["--offline", "--no-progress"];
    args.extend(workflows);
    let audit = in_repo("zizmor", &args);

    assert!(
        schema.status.success(),
        "check-jsonschema:\n{}",
        tail(&schema, 20)
    );
    assert!(audit.status.success(), "zizmor:\n{}", tail(&audit, 20));
}

#[test]
fn dependabot_validates_against_its_schema() {
    let schema = in_repo(
        "check-jsonschema",
        &[
            "--builtin-schema",
            "vendor.dependabot",
            ".github/dependabot.yml",
        ],
    );
    assert!(
        schema.status.success(),
        "check-jsonschema:\n{}",
        tail(&schema, 20)
    );
}

/// The README's Quick start, run as written in a fresh repository made from this
/// checkout's files: `cargo install` (into an install root of the test's own), then
/// generation beside it, which must make a git repository of its own.
#[test]
fn the_readme_quick_start_works_on_a_fresh_clone() {
    quick_start_generates_beside_the_clone(Preinstalled::No);
}

/// Most Rust developers' machines have a cargo-generate already: `cargo install` alone
/// would stop there, saying the binary exists.
#[test]
fn the_readme_quick_start_works_where_cargo_generate_is_already_installed() {
    quick_start_generates_beside_the_clone(Preinstalled::Yes);
}

#[derive(Clone, Copy, PartialEq)]
enum Preinstalled {
    No,
    Yes,
}

fn quick_start_generates_beside_the_clone(preinstalled: Preinstalled) {
    // Outside this checkout: a directory inside a git repository gets no `git init`.
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let work = scratch.path();
    let clone = work.join("template");
    fresh_repository(&clone);
    let block = shell_block(
        &std::fs::read_to_string(repo_root().join("README.md")).expect("README.md"),
        "Quick start",
    );
    assert!(
        block.contains("cargo install") && block.contains("cargo generate"),
        "the Quick start lacks its two commands:\n{block}"
    );

    let output = run_as_written(&block, &clone, &install_root(work, preinstalled));

    assert!(
        output.status.success(),
        "the Quick start failed ({}):\n{}",
        output.status,
        tail(&output, 40)
    );
    assert_generated_beside(&work.join("my-service"), &clone, &output);
}

/// Where the Quick start's `cargo install` goes: empty, or holding a `cargo-generate`
/// that cargo did not install there (as one from crates.io would be, to this package).
fn install_root(work: &Path, preinstalled: Preinstalled) -> PathBuf {
    let root = work.join("cargo-home");
    if preinstalled == Preinstalled::Yes {
        std::fs::create_dir_all(root.join("bin")).expect("the install root");
        std::fs::copy(CARGO_GENERATE, root.join("bin/cargo-generate"))
            .expect("cargo-generate copied into the install root");
    }
    root
}

fn assert_generated_beside(service: &Path, clone: &Path, output: &Output) {
    assert!(
        service.join("Cargo.toml").exists(),
        "no ../my-service/Cargo.toml:\n{}",
        tail(output, 20)
    );
    let top = git_in(service, &["rev-parse", "--show-toplevel"]);
    assert_eq!(
        String::from_utf8_lossy(&top.stdout).trim(),
        service
            .canonicalize()
            .expect("the service directory")
            .to_string_lossy(),
        "../my-service is not a git repository of its own"
    );
    let nested = git_in(clone, &["status", "--porcelain"]);
    assert!(
        nested.stdout.is_empty(),
        "generation left files in the template's checkout:\n{}",
        String::from_utf8_lossy(&nested.stdout)
    );
}

/// The Quick start `block` run by bash in `clone`, with `cargo install` going into
/// `install_root`, which is first on the PATH.
fn run_as_written(block: &str, clone: &Path, install_root: &Path) -> Output {
    Command::new("timeout")
        .args(["1800", "bash", "-e", "-c", block])
        .current_dir(clone)
        .env("CARGO_INSTALL_ROOT", install_root)
        // The harness's own build directory: its debug build of `cargo generate` is reused.
        .env("CARGO_TARGET_DIR", harness_target_dir())
        .env(
            "PATH",
            format!(
                "{}:{}",
                install_root.join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env(
            "USER",
            std::env::var("USER").unwrap_or_else(|_| "harness".into()),
        )
        .output()
        .expect("bash runs")
}

/// Where this harness was built, with `cargo generate` in its `debug/`.
fn harness_target_dir() -> &'static Path {
    Path::new(CARGO_GENERATE)
        .parent()
        .and_then(Path::parent)
        .expect("the binary sits in <target>/debug")
}

/// A git repository at `destination` holding this checkout's files as they are now
/// (tracked and untracked, not ignored), committed: what a fresh clone would hold.
fn fresh_repository(destination: &Path) {
    copy_checkout(destination);
    for args in [
        &["init", "--quiet", "--initial-branch", "main"][..],
        &["add", "--all"],
        &[
            "-c",
            "user.name=harness",
            "-c",
            "user.email=harness@localhost",
            "commit",
            "--quiet",
            "-m",
            "fresh clone",
        ],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(destination)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?} in the fresh repository");
    }
}

/// `version = "..."` of a TOML text's first such line.
fn version_in(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("version = \"")?.strip_suffix('"'))
        .map(str::to_owned)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

/// The template's version: what generated projects record, what this repository's
/// manifest says, and the newest section of the changelog.
#[test]
fn the_template_version_is_the_same_in_the_manifest_the_answers_file_and_the_changelog() {
    let manifest = version_in(&read("Cargo.toml"));
    let answers = version_in(&read("template/.template/answers.toml"));
    let changelog = read("CHANGELOG.md")
        .lines()
        .find_map(|line| line.strip_prefix("## "))
        .map(|heading| {
            heading
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned()
        });

    assert!(manifest.is_some(), "Cargo.toml has no version");
    assert_eq!(
        answers, manifest,
        "template/.template/answers.toml records another version than Cargo.toml"
    );
    assert_eq!(
        changelog, manifest,
        "CHANGELOG.md's newest section is not Cargo.toml's version"
    );
}

/// A release is the commit tagged `vVERSION`: once tagged, its template must not
/// change, or projects generated from it could not be rendered again for an update.
#[test]
fn the_template_of_a_released_version_never_changes() {
    let version = version_in(&read("Cargo.toml")).expect("a version in Cargo.toml");
    let tag = format!("v{version}");
    let tagged = in_repo(
        "git",
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/tags/{tag}"),
        ],
    );
    if !tagged.status.success() {
        return println!(
            "{version} is not released yet (no tag {tag}): its template may still change"
        );
    }

    // What a render reads: the template and the hooks, committed or not.
    let diff = in_repo(
        "git",
        &["diff", "--name-only", &tag, "--", "template", "hooks"],
    );
    let untracked = in_repo(
        "git",
        &[
            "ls-files",
            "--others",
            "--exclude-standard",
            "--",
            "template",
            "hooks",
        ],
    );

    assert!(
        diff.status.success() && untracked.status.success(),
        "git diff or ls-files failed:\n{}{}",
        tail(&diff, 5),
        tail(&untracked, 5)
    );
    let changed = format!(
        "{}{}",
        String::from_utf8_lossy(&diff.stdout),
        String::from_utf8_lossy(&untracked.stdout)
    );
    assert!(
        changed.trim().is_empty(),
        "template/ or hooks/ changed since {tag} was released: add a CHANGELOG.md section for the next version and set it in Cargo.toml and template/.template/answers.toml. Changed:\n{changed}"
    );
}

#[test]
fn every_option_has_a_row_in_the_readme_options_table() {
    let readme = read("README.md");
    let section = readme
        .split("\n### Options\n")
        .nth(1)
        .expect("README.md has an \"Options\" section");
    // The section's first table: its lines, up to the first that is not a row.
    let table: String = section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n");

    let missing: Vec<&str> = template_harness::options()
        .iter()
        .map(|option| option.name.as_str())
        .filter(|name| !table.contains(&format!("| `{name}` |")))
        .collect();

    assert!(
        missing.is_empty(),
        "expected a row in README.md's options table for every option of template/cargo-generate.toml, saw none for: {missing:?}"
    );
}

/// The benchmark compares item reads with axum + sqlx on the same database: with the
/// service's TLS stack, so that a `DATABASE_URL` that lets the service encrypt
/// (`sslmode=prefer`, Postgres's default) has the baseline encrypt too.
#[test]
fn the_item_baseline_has_the_services_postgres_tls_stack() {
    let postgres_sqlx_tls_features = |path: &str| -> Vec<String> {
        let manifest = read(path);
        manifest
            .lines()
            .filter(|line| line.starts_with("sqlx =") && line.contains("\"postgres\""))
            .flat_map(|line| line.split('"'))
            .filter(|word| word.starts_with("tls-"))
            .map(str::to_owned)
            .collect()
    };
    let service = postgres_sqlx_tls_features("template/Cargo.toml.liquid");
    let baseline = postgres_sqlx_tls_features("bench/Cargo.toml");
    assert!(
        !service.is_empty(),
        "expected a tls-* feature on the Postgres variants' sqlx in template/Cargo.toml.liquid, saw none"
    );
    assert_eq!(
        baseline, service,
        "expected bench/Cargo.toml's sqlx to have the TLS features of the service's (template/Cargo.toml.liquid), saw {baseline:?} against {service:?}"
    );
}
