//! Variants, generation and the checks' plumbing.

use std::{
    collections::BTreeMap,
    fmt,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{Mutex, OnceLock},
};

mod http;
pub mod memory;
pub mod postgres;
pub mod settings;
mod tree;

pub use http::{Response, exchange, http};

pub const CARGO_GENERATE: &str = env!("CARGO_BIN_EXE_cargo-generate");

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where generated projects and their shared build output go
/// (`HARNESS_WORK_DIR`, or `target/harness`).
pub fn work_dir() -> PathBuf {
    std::env::var_os("HARNESS_WORK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/harness"))
}

pub use template_harness::Variant;

/// Every variant, or those named in `VARIANTS` (comma-separated ids).
pub fn variants() -> Vec<Variant> {
    let every = Variant::every();
    match std::env::var("VARIANTS") {
        Ok(wanted) if !wanted.trim().is_empty() => {
            let wanted: Vec<&str> = wanted.split(',').map(str::trim).collect();
            every
                .into_iter()
                .filter(|variant| wanted.contains(&variant.id().as_str()))
                .collect()
        }
        _ => every,
    }
}

/// The project name a variant is generated under: distinct per variant, so that
/// variants sharing a Redis or a build directory never collide.
pub fn project_name(variant: &Variant) -> String {
    format!("svc-{}", variant.id().replace('+', "-"))
}

/// A generated project on disk.
#[derive(Debug, Clone)]
pub struct Project {
    pub variant: Variant,
    pub dir: PathBuf,
}

impl Project {
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    pub fn exists(&self, relative: &str) -> bool {
        self.path(relative).exists()
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_else(|error| panic!("[{}] cannot read {relative}: {error}", self.variant))
    }

    /// Every file of the project, relative to it, without `.git`, `target` and the
    /// `.hypothesis` cache the `contract` tier's fuzzer leaves (all git-ignored).
    pub fn files(&self) -> Vec<PathBuf> {
        let skipped = |path: &Path| {
            path.file_name()
                .is_some_and(|name| name == ".git" || name == "target" || name == ".hypothesis")
        };
        let mut files: Vec<PathBuf> = files_under(&self.dir, &skipped)
            .into_iter()
            .filter_map(|path| path.strip_prefix(&self.dir).ok().map(Path::to_path_buf))
            .collect();
        files.sort();
        files
    }

    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.dir);
        command
    }
}

/// Keeps only what a shell on a host has: Docker Compose reads settings from the
/// environment before the env file, so this process's DATABASE_URL would win.
pub fn clean_env(command: &mut Command) -> &mut Command {
    command.env_clear();
    for kept in ["PATH", "HOME", "USER", "DOCKER_HOST", "DOCKER_CONFIG"] {
        if let Ok(value) = std::env::var(kept) {
            command.env(kept, value);
        }
    }
    command
}

/// `git args` in `dir`, as a harness user on a `main` branch.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    run(Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=harness",
            "-c",
            "user.email=harness@localhost",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args))
}

/// A copy of `project` in the work directory's `name`, replacing an earlier one, for a
/// check that changes files.
pub fn copy_of(project: &Project, name: &str) -> Project {
    let copy = work_dir().join(name);
    std::fs::remove_dir_all(&copy).ok();
    std::fs::create_dir_all(&copy).expect("copy's directory");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", project.dir.display()))
        .arg(&copy)
        .status()
        .expect("cp runs");
    assert!(copied.success(), "could not copy the project");
    Project {
        variant: project.variant,
        dir: copy,
    }
}

/// This checkout's files as a fresh clone holds them ([`copy_checkout`]), copied once
/// per test process: the template every generation reads. Given the checkout itself,
/// cargo-generate would copy all of it, build output included (seconds a generation),
/// and expand the first `cargo-generate.toml` in path order, which can be a copy under
/// `target/` of an older tree.
pub fn template_source() -> &'static Path {
    static SOURCE: OnceLock<PathBuf> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let source = work_dir()
            .join("source")
            .join(std::process::id().to_string());
        std::fs::remove_dir_all(&source).ok();
        copy_checkout(&source);
        source
    })
}

/// Runs `cargo generate --path <this checkout's files>` with extra arguments.
pub fn run_cargo_generate(name: &str, args: &[String], destination: &Path) -> Output {
    std::fs::create_dir_all(destination).expect("destination directory");
    let mut command = Command::new(CARGO_GENERATE);
    command
        .args(["generate", "--path"])
        .arg(template_source())
        .args(["--name", name, "--silent", "--destination"])
        .arg(destination)
        .env(
            "USER",
            std::env::var("USER").unwrap_or_else(|_| "harness".into()),
        );
    command.args(args).output().expect("cargo-generate runs")
}

/// The variant generated once per test process, from a clean directory, then mirrored
/// into its place: what an earlier tier built from the same files stays built.
pub fn generated(variant: Variant) -> Project {
    static PROJECTS: OnceLock<Mutex<BTreeMap<Variant, Project>>> = OnceLock::new();
    let projects = PROJECTS.get_or_init(Default::default);
    let mut projects = projects
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    projects
        .entry(variant)
        .or_insert_with(|| {
            let destination = work_dir().join("generated").join(variant.id());
            // Of this process's own: the tiers that run beside each other generate the
            // same variants.
            let fresh = work_dir().join("generating").join(format!(
                "{}-{}",
                std::process::id(),
                variant.id()
            ));
            std::fs::remove_dir_all(&fresh).ok();
            let name = project_name(&variant);
            let defines: Vec<String> = variant
                .defines()
                .into_iter()
                .flat_map(|define| ["-d".to_owned(), define])
                .collect();
            let output = run_cargo_generate(&name, &defines, &fresh);
            assert!(
                output.status.success(),
                "[{variant}] cargo generate failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            tree::mirror(&fresh, &destination)
                .unwrap_or_else(|error| panic!("[{variant}] generated files not placed: {error}"));
            std::fs::remove_dir_all(&fresh).ok();
            Project {
                variant,
                dir: destination.join(name),
            }
        })
        .clone()
}

/// The secret settings of a variant, as the service names them.
pub fn secrets_of(variant: &Variant) -> Vec<&'static str> {
    let mut secrets = Vec::new();
    if variant.is("database", "postgres") {
        secrets.push("DATABASE_URL");
    }
    if variant.on("redis") {
        secrets.push("REDIS_URL");
    }
    if variant.on("sentry") {
        secrets.push("SENTRY_DSN");
    }
    secrets.push("AUTH_HMAC_SECRET");
    secrets
}

/// The port the service listens on in its image: the Dockerfile's `PORT`.
pub fn container_port(project: &Project) -> u16 {
    let dockerfile = project.read("Dockerfile");
    let port = dockerfile
        .split("PORT=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| port.parse().ok());
    port.unwrap_or_else(|| panic!("[{}] the Dockerfile sets no PORT", project.variant))
}

/// Every selected variant, generated.
pub fn all_projects() -> Vec<Project> {
    variants().into_iter().map(generated).collect()
}

/// Collects failures across variants, so one run reports all of them.
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    pub fn add(&mut self, variant: &Variant, what: impl fmt::Display) {
        self.0.push(format!("[{variant}] {what}"));
    }

    /// Checks `ok`, recording `what` when it does not hold.
    pub fn check(&mut self, ok: bool, variant: &Variant, what: impl fmt::Display) {
        if !ok {
            self.add(variant, what);
        }
    }

    pub fn assert_none(self, check: &str) {
        assert!(
            self.0.is_empty(),
            "{check}: {} failure(s)\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// Runs `command` to completion; only a program that cannot start at all panics.
pub fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"))
}

/// The standard output of a command that succeeded, or `what` failed with its last lines.
pub fn succeeded(output: &Output, what: &str) -> Result<String, String> {
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!("{what} failed:\n{}", tail(output, 30)))
    }
}

/// The last `lines` lines of a command's output, for failure reports.
pub fn tail(output: &Output, lines: usize) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    last_lines(&text, lines)
}

/// The last `count` lines of `text`.
pub fn last_lines(text: &str, count: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(count)..].join("\n")
}

/// Every file under `dir`, at any depth, leaving out the directories `skip` matches.
pub fn files_under(dir: &Path, skip: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !skip(&path) {
                files.extend(files_under(&path, skip));
            }
        } else {
            files.push(path);
        }
    }
    files
}

/// A port free on loopback now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port on loopback")
}

/// `-- -D warnings` as cargo-clippy hands its arguments to clippy-driver.
const CLIPPY_DENY_WARNINGS: &str = "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__";

/// `cargo clippy --all-targets -- -D warnings`, as a variant's CI runs it, done by
/// building every target: every harness build runs clippy-driver with `-D warnings` on
/// the project's own crates (`in_project`), so this build is the clippy run,
/// and the tests that follow run what it built.
pub const CLIPPY: &[&str] = &["test", "--locked", "--no-run", "--all-targets"];

/// `program args` in the project's directory, with the build settings every tier shares.
pub fn in_project(project: &Project, program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(&project.dir)
        // One target directory for every variant, so what they share compiles once.
        .env("CARGO_TARGET_DIR", work_dir().join("target"))
        // Many projects' test binaries: debug info and incremental state would only cost time.
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        // Every build lints the project's own crates as `cargo clippy -- -D warnings` does
        // (it is `cargo check` with these two variables), so the `build` tier's test build
        // is its clippy run too, and each dependency compiles once instead of being
        // checked for clippy and then built for the tests. Dependencies are never wrapped.
        .env("RUSTC_WORKSPACE_WRAPPER", "clippy-driver")
        .env("CLIPPY_ARGS", CLIPPY_DENY_WARNINGS);
    // The SQLite variants use their own files, never the Postgres URL the harness has.
    if !project.variant.is("database", "postgres") {
        command.env_remove("DATABASE_URL");
    }
    command
}

pub fn cargo_for(project: &Project, args: &[&str]) -> Command {
    in_project(project, "cargo", args)
}

/// The shell lines of a README section's ```sh blocks, in order, as one script.
pub fn shell_block(readme: &str, section: &str) -> String {
    let body = readme
        .split(&format!("\n## {section}\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_else(|| panic!("no \"{section}\" section"));
    body.split("```sh\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .collect::<Vec<_>>()
        .concat()
}

/// The files of this checkout as they are, committed or not (tracked, and untracked but
/// not ignored), copied into `to` by `scripts/template-source.sh`, as the maintainer
/// scripts copy them: what a fresh clone of the work in progress holds.
pub fn copy_checkout(to: &Path) {
    let copied = run(Command::new(repo_root().join("scripts/template-source.sh")).arg(to));
    assert!(
        copied.status.success(),
        "scripts/template-source.sh failed:\n{}",
        tail(&copied, 20)
    );
}
