//! Template updates: a project generated from one release takes the next through its
//! own `scripts/update-template.sh`, by a three-way merge.
//!
//! A copy of this repository gets two releases made by commits (`releases`): the current
//! tree as the old one, and a new one that changes template files (a line the user also
//! changes, a line the user does not touch, a file added, a file deleted, a file deleted
//! that the user edited, the manifest). Each project is generated at the old release,
//! committed, and changed as a user would (`user`). The checks:
//! - `merge`, for every variant: the update succeeds; exactly `.env.example` and
//!   `docs/deployment.md` conflict, are listed by the script, and `.env.example` holds
//!   git's markers around both `RUST_LOG` lines; the Dockerfile keeps the user's line and
//!   gains the template's; the added file appears, the deleted one goes, the user's own
//!   file is untouched; `Cargo.toml` holds both new dependencies, `Cargo.lock` is
//!   consistent (`cargo metadata --locked`), records both as the project's and keeps
//!   every other pin; the recorded version moves to the new release; the script prints
//!   the new release's CHANGELOG section (and not the old one's) and
//!   `git reset --hard HEAD`, which restores the tree byte for byte.
//! - `answers`: on every variant, `--set OPTION=VALUE` switching each option to its
//!   other value (one after another on one user project, each undone by
//!   `git reset --hard HEAD`) succeeds, records the answer, leaves conflicts only in
//!   files the user changed, every other file byte for byte as the switched variant
//!   generates it, no file missing or left over, the user's file and lines kept, and a
//!   consistent `Cargo.lock`; a value the template does not offer (a choice, a flag, an
//!   unknown option, a port the hook refuses) is refused in one line, exit 2, the
//!   project untouched.
//! - `pull_request`: the generated `template-update.yml`'s shell steps, run in order on
//!   the default variant with the template's source recorded and a local `origin`: the
//!   check finds the new release and names its branch; the update step commits the
//!   update on that branch with the conflicts' markers and writes a pull-request body
//!   listing the conflicted files and the new release's CHANGELOG section; the push
//!   step puts the branch on `origin`; run again, the check finds the branch and stops.
//!   Not run here: the toolchain step (rustup, and cargo-generate installed from the
//!   template's source; the harness's is on PATH) and `gh pr create`, GitHub's API.
//! - `markers`: the generated CI's conflict-marker step passes on every variant as
//!   generated, and fails on a committed marker, naming the file and line.
//! - `rebuilt`: the default and maximal variants updated to the new release and switched
//!   to the other database in one run (`--to` with `--set database=...`: SQLite to
//!   Postgres, and back), their conflicts resolved on the template's side, pass
//!   `cargo fmt --check`, `cargo clippy --all-targets -- -D warnings` and `cargo test`
//!   against the database they now use.
//! - `script`: the update refuses a tree with uncommitted changes in one line naming
//!   them, without touching it; `--check` exits 1 while a newer release exists and 0
//!   after the update; a source that looks like a git option (`--upload-pack=...`)
//!   reaches git as a repository and runs nothing.
//! - `first_release`: once this repository has a release older than its version, the
//!   default variant generated at it updates to this tree with no conflict, a consistent
//!   `Cargo.lock` and the version recorded.

use std::{
    path::Path,
    process::{Command, Output},
};

use crate::helpers::{CARGO_GENERATE, Project, git, repo_root, run, succeeded};

mod answers;
mod first_release;
mod markers;
mod merge;
mod pull_request;
mod rebuilt;
mod releases;
mod script;
mod user;

/// The `run` script of the step named `step` in `job` of the project's workflow `file`.
fn workflow_step(project: &Project, file: &str, job: &str, step: &str) -> String {
    let path = format!(".github/workflows/{file}");
    let workflow: serde_yaml::Value =
        serde_yaml::from_str(&project.read(&path)).expect("the workflow parses");
    workflow["jobs"][job]["steps"]
        .as_sequence()
        .and_then(|steps| {
            steps
                .iter()
                .find(|each| each["name"].as_str() == Some(step))
        })
        .and_then(|found| found["run"].as_str())
        .unwrap_or_else(|| panic!("[{}] {path} has no step \"{step}\"", project.variant))
        .to_owned()
}

/// `git clone` of `from` (at tag or branch `at`, when given) into `to`, replacing it.
fn clone(from: &Path, at: Option<&str>, to: &Path) -> Result<(), String> {
    std::fs::remove_dir_all(to).ok();
    let mut args = vec!["clone", "--quiet"];
    if let Some(at) = at {
        args.extend(["--branch", at]);
    }
    let (from, to) = (from.to_string_lossy(), to.to_string_lossy());
    args.extend([&*from, &*to]);
    succeeded(&git(repo_root(), &args), "git clone").map(drop)
}

/// Runs each git command in `dir` in turn; the first that fails is the error.
fn git_steps(dir: &Path, steps: &[&[&str]]) -> Result<(), String> {
    for args in steps {
        succeeded(&git(dir, args), &format!("git {}", args[0]))?;
    }
    Ok(())
}

fn edit(path: &Path, change: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    std::fs::write(path, change(text))
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}

/// `text` with its `RUST_LOG=` line replaced by `line`.
fn with_rust_log(text: &str, line: &str) -> String {
    text.lines()
        .map(|old| {
            if old.starts_with("RUST_LOG=") {
                line
            } else {
                old
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The template's version a project or template records in `.template/answers.toml`.
fn recorded_version(answers: &str) -> String {
    answers
        .lines()
        .find_map(|line| line.strip_prefix("version = \"")?.strip_suffix('"'))
        .expect("a version line in .template/answers.toml")
        .to_owned()
}

/// `command` with the harness's `cargo generate` on its PATH, as a user has it.
fn as_user(command: &mut Command) -> &mut Command {
    let bin = Path::new(CARGO_GENERATE)
        .parent()
        .expect("the binary's directory");
    command
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env(
            "USER",
            std::env::var("USER").unwrap_or_else(|_| "harness".into()),
        )
}

/// `cargo generate` of the template at `checkout`, silently, without git, as `name`
/// into `destination` with each of `defines`; the project it made.
fn generate_at(
    checkout: &Path,
    name: &str,
    destination: &Path,
    defines: &[String],
    what: &str,
) -> Result<std::path::PathBuf, String> {
    let mut generate = Command::new(CARGO_GENERATE);
    generate
        .args([
            "generate", "--silent", "--vcs", "none", "--name", name, "--path",
        ])
        .arg(checkout)
        .arg("--destination")
        .arg(destination);
    for define in defines {
        generate.args(["-d", define]);
    }
    succeeded(&run(as_user(&mut generate)), what)?;
    Ok(destination.join(name))
}

/// The project's own `scripts/update-template.sh`, run as its user would, taking the
/// template from `from`.
fn update_from(project: &Project, from: &Path, args: &[&str]) -> Output {
    run(&mut update_command(project, from, args))
}

/// `update_from`'s command, for a caller that sets more of its environment.
fn update_command(project: &Project, from: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(project.path("scripts/update-template.sh"));
    command
        .current_dir(&project.dir)
        .args(["--from", &from.to_string_lossy()])
        .args(args);
    as_user(&mut command);
    command
}

/// The conflicts of the update resolved as a user taking the template's side would.
fn take_the_templates_side(project: &Project) -> Result<(), String> {
    git_steps(
        &project.dir,
        &[
            &["checkout", "--theirs", ".env.example"],
            &["add", ".env.example"],
            &["rm", "--quiet", "docs/deployment.md"],
        ],
    )
}
