//! Template updates: a project generated from one release takes the next through its
//! own `scripts/update-template.sh`, by a three-way merge.
//!
//! A copy of this repository gets two releases made by commits: the current tree as
//! the old one, and a new one that changes template files (a line the user also
//! changes, a line the user does not touch, a file added, a file deleted, a file
//! deleted that the user edited, the manifest). For every variant: generate at the
//! old release, commit, make the user's edits, update, and check each outcome; then
//! undo with the command the script prints and check the tree is back byte for byte.
//! The default and maximal variants are also built, linted and tested after the update.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

use crate::helpers::{
    CARGO_GENERATE, Failures, Project, Variant, cargo_for, project_name, repo_root, run, succeeded,
    tail, variants, work_dir,
};

/// Where the template copy and its two releases live.
struct Releases {
    repository: PathBuf,
    old: String,
    new: String,
}

/// The line the new release gives the `RUST_LOG` of `.env.example`; the user changes it too.
const TEMPLATE_RUST_LOG: &str = "RUST_LOG=info,tower_http=debug";
const USER_RUST_LOG: &str = "RUST_LOG=debug";
const TEMPLATE_DOCKERFILE_LINE: &str = "# Added by the new release of the template.";
const USER_DOCKERFILE_LINE: &str = "# The user's own note.";
/// The dependency the new release adds; the user adds another, elsewhere in the table.
const TEMPLATE_DEPENDENCY: (&str, &str) = ("ryu", "ryu = \"1\"");
const USER_DEPENDENCY: (&str, &str) = ("itoa", "itoa = \"1\"");

fn git(dir: &Path, args: &[&str]) -> Output {
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

fn edit(path: &Path, change: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    std::fs::write(path, change(text))
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}

/// The template's current version, as generated projects record it.
fn recorded_version(answers: &str) -> String {
    answers
        .lines()
        .find_map(|line| line.strip_prefix("version = \"")?.strip_suffix('"'))
        .expect("a version line in .template/answers.toml")
        .to_owned()
}

/// The next minor version after `version`.
fn next_version(version: &str) -> String {
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    format!("{major}.{}.0", minor + 1)
}

/// The files of this checkout as they are, committed or not, copied into `to`.
fn copy_checkout(to: &Path) {
    let listed = run(Command::new("git").current_dir(repo_root()).args([
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
    ]));
    for file in String::from_utf8_lossy(&listed.stdout)
        .split('\0')
        .filter(|file| !file.is_empty())
    {
        let (source, copy) = (repo_root().join(file), to.join(file));
        if source.is_file() {
            std::fs::create_dir_all(copy.parent().expect("a parent")).expect("directories");
            std::fs::copy(&source, &copy)
                .unwrap_or_else(|error| panic!("cannot copy {file}: {error}"));
        }
    }
}

/// The copy of this repository with its two releases, made once per test process.
fn releases() -> &'static Releases {
    static RELEASES: OnceLock<Releases> = OnceLock::new();
    RELEASES.get_or_init(|| {
        let repository = work_dir().join("update/template");
        std::fs::remove_dir_all(&repository).ok();
        copy_checkout(&repository);
        let template = repository.join("template");
        let old = recorded_version(
            &std::fs::read_to_string(template.join(".template/answers.toml"))
                .expect("answers template"),
        );
        let new = next_version(&old);
        for (args, what) in [
            (&["init", "--quiet"][..], "git init"),
            (&["add", "--all"][..], "git add"),
            (
                &["commit", "--quiet", "-m", "old release"][..],
                "git commit",
            ),
            (&["tag", &format!("v{old}")][..], "git tag"),
        ] {
            succeeded(&git(&repository, args), what).expect("the old release");
        }

        edit(&template.join("Dockerfile"), |text| {
            format!("{text}{TEMPLATE_DOCKERFILE_LINE}\n")
        });
        edit(&template.join(".env.example"), |text| {
            text.lines()
                .map(|line| {
                    if line.starts_with("RUST_LOG=") {
                        TEMPLATE_RUST_LOG
                    } else {
                        line
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        });
        edit(&template.join("Cargo.toml.liquid"), |text| {
            let anchor = "\nuuid = ";
            assert!(
                text.contains(anchor),
                "Cargo.toml.liquid has no uuid dependency to add one after"
            );
            text.replacen(anchor, &format!("\n{}{anchor}", TEMPLATE_DEPENDENCY.1), 1)
        });
        edit(&template.join(".template/answers.toml"), |text| {
            text.replace(
                &format!("version = \"{old}\""),
                &format!("version = \"{new}\""),
            )
        });
        std::fs::write(
            template.join("docs/upgrading.md"),
            "# Upgrading\n\nAdded by the new release.\n",
        )
        .expect("a new file");
        for removed in ["scripts/restore.sh", "docs/deployment.md"] {
            std::fs::remove_file(template.join(removed)).expect("a removed file");
        }
        for (args, what) in [
            (&["add", "--all"][..], "git add"),
            (
                &["commit", "--quiet", "-m", "new release"][..],
                "git commit",
            ),
            (&["tag", &format!("v{new}")][..], "git tag"),
        ] {
            succeeded(&git(&repository, args), what).expect("the new release");
        }
        Releases {
            repository,
            old,
            new,
        }
    })
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

/// `variant` generated from the old release, committed, then changed as a user would,
/// committed again; in a directory of `case`'s own, so tests never share one.
fn user_project(variant: Variant, case: &str) -> Result<Project, String> {
    let releases = releases();
    let old_checkout = work_dir().join("update/old-release");
    static CHECKOUT: OnceLock<()> = OnceLock::new();
    CHECKOUT.get_or_init(|| {
        std::fs::remove_dir_all(&old_checkout).ok();
        let clone = git(
            repo_root(),
            &[
                "clone",
                "--quiet",
                "--branch",
                &format!("v{}", releases.old),
                &releases.repository.to_string_lossy(),
                &old_checkout.to_string_lossy(),
            ],
        );
        succeeded(&clone, "cloning the old release").expect("the old release checked out");
    });
    let destination = work_dir()
        .join("update/projects")
        .join(case)
        .join(variant.id());
    std::fs::remove_dir_all(&destination).ok();
    std::fs::create_dir_all(&destination).map_err(|e| e.to_string())?;
    // A name of its own: its binaries must not replace the `build` tier's, which `faults` runs.
    let name = format!("updated-{}", project_name(&variant));
    let mut generate = Command::new(CARGO_GENERATE);
    generate
        .args([
            "generate", "--silent", "--vcs", "none", "--name", &name, "--path",
        ])
        .arg(&old_checkout)
        .arg("--destination")
        .arg(&destination);
    for define in variant.defines() {
        generate.args(["-d", &define]);
    }
    succeeded(
        &run(as_user(&mut generate)),
        "generating at the old release",
    )?;
    let project = Project {
        variant,
        dir: destination.join(&name),
    };
    let dir = &project.dir;
    succeeded(&git(dir, &["init", "--quiet"]), "git init")?;
    succeeded(&git(dir, &["add", "--all"]), "git add")?;
    succeeded(
        &git(dir, &["commit", "--quiet", "-m", "generated"]),
        "git commit",
    )?;

    edit(&dir.join("Dockerfile"), |text| {
        format!("{USER_DOCKERFILE_LINE}\n{text}")
    });
    edit(&dir.join(".env.example"), |text| {
        text.lines()
            .map(|line| {
                if line.starts_with("RUST_LOG=") {
                    USER_RUST_LOG
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    });
    edit(&dir.join("docs/deployment.md"), |text| {
        format!("{text}\nOur own deployment notes.\n")
    });
    std::fs::write(dir.join("NOTES.md"), "The user's own file.\n").map_err(|e| e.to_string())?;
    edit(&dir.join("Cargo.toml"), |text| {
        text.replacen(
            "anyhow = \"1\"\n",
            &format!("anyhow = \"1\"\n{}\n", USER_DEPENDENCY.1),
            1,
        )
    });
    succeeded(
        &run(&mut cargo_for(
            &project,
            &["update", "--workspace", "--quiet"],
        )),
        "cargo update after the user's new dependency",
    )?;
    succeeded(&git(dir, &["add", "--all"]), "git add")?;
    succeeded(
        &git(dir, &["commit", "--quiet", "-m", "the user's changes"]),
        "git commit",
    )?;
    Ok(project)
}

fn update(project: &Project, args: &[&str]) -> Output {
    let releases = releases();
    let script = project.path("scripts/update-template.sh");
    run(as_user(
        Command::new(script)
            .current_dir(&project.dir)
            .args(["--from", &releases.repository.to_string_lossy()])
            .args(args),
    ))
}

/// Every file of the project but `.git` and `target`, with its content.
fn snapshot(project: &Project) -> BTreeMap<PathBuf, Vec<u8>> {
    project
        .files()
        .into_iter()
        .map(|file| {
            (
                file.clone(),
                std::fs::read(project.path(&file.to_string_lossy())).unwrap_or_default(),
            )
        })
        .collect()
}

/// `name version` of every package in a Cargo.lock.
fn pins(lockfile: &str) -> BTreeSet<String> {
    let parsed: toml::Table = lockfile.parse().unwrap_or_default();
    let packages = parsed
        .get("package")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    packages
        .iter()
        .map(|package| {
            format!(
                "{} {}",
                package["name"].as_str().unwrap_or(""),
                package["version"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// The project's package name, as its Cargo.toml gives it.
fn project_name_of(project: &Project) -> String {
    let manifest: toml::Table = project.read("Cargo.toml").parse().unwrap_or_default();
    manifest["package"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The names the lockfile lists as `package`'s dependencies.
fn root_dependencies(lockfile: &str, package: &str) -> BTreeSet<String> {
    let parsed: toml::Table = lockfile.parse().unwrap_or_default();
    let packages = parsed
        .get("package")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let root = packages
        .iter()
        .find(|entry| entry["name"].as_str() == Some(package));
    let dependencies = root
        .and_then(|entry| entry.get("dependencies"))
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    dependencies
        .iter()
        .filter_map(|dependency| {
            dependency
                .as_str()?
                .split_whitespace()
                .next()
                .map(str::to_owned)
        })
        .collect()
}

/// Each outcome of one update, checked; the first that does not hold is the error.
struct Checked {
    conflicts: Vec<String>,
    kept_pins: usize,
}

fn check_update(project: &Project) -> Result<Checked, String> {
    let releases = releases();
    let before = snapshot(project);
    let pins_before = pins(&project.read("Cargo.lock"));

    let output = update(project, &["--to", &releases.new]);

    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(format!("the update failed ({}):\n{printed}", output.status));
    }
    let unmerged = succeeded(
        &git(&project.dir, &["diff", "--name-only", "--diff-filter=U"]),
        "git diff",
    )?;
    let conflicts: Vec<String> = unmerged.lines().map(str::to_owned).collect();
    let expected = [".env.example", "docs/deployment.md"];
    if conflicts != expected {
        return Err(format!(
            "conflicts: expected {expected:?}, saw {conflicts:?}\n{printed}"
        ));
    }
    for conflict in expected {
        if !printed.contains(&format!("  {conflict}")) {
            return Err(format!(
                "the update did not list the conflict {conflict}:\n{printed}"
            ));
        }
    }
    let env = project.read(".env.example");
    if !(env.contains("<<<<<<< ")
        && env.contains(USER_RUST_LOG)
        && env.contains(TEMPLATE_RUST_LOG)
        && env.contains(">>>>>>> "))
    {
        return Err(format!(
            ".env.example lacks git's conflict markers around both RUST_LOG lines:\n{env}"
        ));
    }
    let dockerfile = project.read("Dockerfile");
    if !(dockerfile.starts_with(USER_DOCKERFILE_LINE)
        && dockerfile.trim_end().ends_with(TEMPLATE_DOCKERFILE_LINE))
    {
        return Err("the Dockerfile lost the user's line or did not gain the template's".into());
    }
    if !project.exists("docs/upgrading.md") {
        return Err("the file the new release adds did not appear".into());
    }
    if project.exists("scripts/restore.sh") {
        return Err("the file the new release deletes is still there".into());
    }
    if project.read("NOTES.md") != "The user's own file.\n" {
        return Err("the user's own file changed".into());
    }
    let manifest = project.read("Cargo.toml");
    if !(manifest.contains(USER_DEPENDENCY.1) && manifest.contains(TEMPLATE_DEPENDENCY.1)) {
        return Err(format!(
            "Cargo.toml lacks the user's or the template's new dependency:\n{manifest}"
        ));
    }
    let locked = run(&mut cargo_for(
        project,
        &["metadata", "--locked", "--format-version", "1"],
    ));
    succeeded(&locked, "cargo metadata --locked after the update")?;
    let lockfile = project.read("Cargo.lock");
    for (dependency, _) in [USER_DEPENDENCY, TEMPLATE_DEPENDENCY] {
        if !root_dependencies(&lockfile, &project_name_of(project)).contains(dependency) {
            return Err(format!(
                "Cargo.lock does not record {dependency} as a dependency of the project"
            ));
        }
    }
    let pins_after = pins(&lockfile);
    let moved: Vec<&String> = pins_before.difference(&pins_after).collect();
    if !moved.is_empty() {
        return Err(format!(
            "dependency pins the template did not change moved: {moved:?}"
        ));
    }
    let answers = project.read(".template/answers.toml");
    if recorded_version(&answers) != releases.new {
        return Err(format!(
            "the recorded version is not {}:\n{answers}",
            releases.new
        ));
    }
    if !printed.contains("git reset --hard HEAD") {
        return Err(format!(
            "the update did not print how to undo it:\n{printed}"
        ));
    }

    succeeded(
        &git(&project.dir, &["reset", "--quiet", "--hard", "HEAD"]),
        "git reset --hard HEAD",
    )?;
    let status = succeeded(&git(&project.dir, &["status", "--porcelain"]), "git status")?;
    if !status.is_empty() || snapshot(project) != before {
        return Err(format!(
            "`git reset --hard HEAD` did not restore the tree exactly:\n{status}"
        ));
    }
    Ok(Checked {
        conflicts,
        kept_pins: pins_before.len(),
    })
}

#[test]
fn every_variant_takes_a_new_release_by_a_three_way_merge_and_undoes_it_exactly() {
    let mut failures = Failures::default();
    let mut table = vec![
        "variant | clean merge | conflicts | added | deleted | user-only | lockfile | undo"
            .to_owned(),
    ];
    for variant in variants() {
        let outcome = user_project(variant, "merge").and_then(|project| check_update(&project));
        match outcome {
            Ok(checked) => table.push(format!(
                "{variant} | Dockerfile, Cargo.toml | {} | docs/upgrading.md | scripts/restore.sh | NOTES.md kept | --locked, {} pins kept | exact",
                checked.conflicts.join(", "),
                checked.kept_pins
            )),
            Err(error) => {
                table.push(format!("{variant} | FAILED"));
                failures.add(&variant, error);
            }
        }
    }
    println!("\n{}", table.join("\n"));
    failures.assert_none("template update");
}

#[test]
fn the_extreme_variants_build_lint_and_pass_their_tests_after_an_update() {
    let mut failures = Failures::default();
    for variant in [Variant::default_choice(), Variant::maximal()] {
        if !variants().contains(&variant) {
            println!("skipped {variant}: VARIANTS leaves it out");
            continue;
        }
        let outcome = user_project(variant, "build").and_then(|project| {
            let output = update(&project, &["--to", &releases().new]);
            succeeded(&output, "the update")?;
            // The conflicts resolved as a user taking the template's side would.
            succeeded(
                &git(&project.dir, &["checkout", "--theirs", ".env.example"]),
                "taking the template's .env.example",
            )?;
            succeeded(&git(&project.dir, &["add", ".env.example"]), "git add")?;
            succeeded(
                &git(&project.dir, &["rm", "--quiet", "docs/deployment.md"]),
                "git rm",
            )?;
            for args in [
                &[
                    "clippy",
                    "--locked",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ][..],
                &["test", "--locked"][..],
            ] {
                succeeded(
                    &run(&mut cargo_for(&project, args)),
                    &format!("cargo {}", args[0]),
                )?;
            }
            Ok(())
        });
        if let Err(error) = outcome {
            failures.add(&variant, error);
        }
    }
    failures.assert_none("building after an update");
}

#[test]
fn an_update_refuses_a_tree_with_uncommitted_changes_in_one_line() {
    let project = user_project(Variant::default_choice(), "dirty").expect("a user's project");
    std::fs::write(project.path("NOTES.md"), "changed and not committed\n")
        .expect("an uncommitted change");

    let output = update(&project, &["--to", &releases().new]);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the update ran on a dirty tree");
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "expected one line, saw:\n{stderr}"
    );
    assert!(
        stderr.contains("uncommitted changes"),
        "the refusal does not say why: {stderr}"
    );
    assert_eq!(
        project.read("NOTES.md"),
        "changed and not committed\n",
        "the refusal touched the tree"
    );
}

#[test]
fn check_exits_1_while_a_newer_release_exists_and_0_after_the_update() {
    let project = user_project(Variant::default_choice(), "check").expect("a user's project");

    let behind = update(&project, &["--check"]);
    let updated = update(&project, &["--to", &releases().new]);
    succeeded(
        &git(&project.dir, &["checkout", "--theirs", ".env.example"]),
        "resolve",
    )
    .expect("resolved");
    succeeded(&git(&project.dir, &["add", ".env.example"]), "git add").expect("resolved");
    succeeded(
        &git(&project.dir, &["rm", "--quiet", "docs/deployment.md"]),
        "git rm",
    )
    .expect("resolved");
    succeeded(
        &git(
            &project.dir,
            &["commit", "--quiet", "-m", "Update from the template"],
        ),
        "git commit",
    )
    .expect("committed");
    let current = update(&project, &["--check"]);

    assert_eq!(
        behind.status.code(),
        Some(1),
        "--check behind the newest release:\n{}",
        tail(&behind, 5)
    );
    assert!(
        updated.status.success(),
        "the update failed:\n{}",
        tail(&updated, 10)
    );
    assert_eq!(
        current.status.code(),
        Some(0),
        "--check at the newest release:\n{}",
        tail(&current, 5)
    );
}

/// The first release of this repository (its oldest `vVERSION` tag), if there is one.
fn first_release() -> Option<String> {
    let tags = git(repo_root(), &["tag", "--list", "v*", "--sort=v:refname"]);
    String::from_utf8_lossy(&tags.stdout)
        .lines()
        .next()
        .map(|tag| tag.trim_start_matches('v').to_owned())
}

#[test]
fn the_default_variant_updates_from_the_first_release_to_this_tree() {
    let current = recorded_version(
        &std::fs::read_to_string(repo_root().join("template/.template/answers.toml"))
            .expect("answers template"),
    );
    let Some(first) = first_release().filter(|first| *first != current) else {
        return println!("skipped: no release before {current} (no older vVERSION tag)");
    };
    // This repository's history and tags, with the tree as it is now tagged as its version.
    let source = work_dir().join("update/this-tree");
    std::fs::remove_dir_all(&source).ok();
    succeeded(
        &git(
            repo_root(),
            &[
                "clone",
                "--quiet",
                &repo_root().to_string_lossy(),
                &source.to_string_lossy(),
            ],
        ),
        "clone",
    )
    .expect("a clone");
    copy_checkout(&source);
    succeeded(&git(&source, &["add", "--all"]), "git add").expect("the tree staged");
    succeeded(
        &git(
            &source,
            &["commit", "--quiet", "--allow-empty", "-m", "this tree"],
        ),
        "git commit",
    )
    .expect("the tree committed");
    succeeded(
        &git(&source, &["tag", "--force", &format!("v{current}")]),
        "git tag",
    )
    .expect("the tree tagged");
    let old_checkout = work_dir().join("update/first-release");
    std::fs::remove_dir_all(&old_checkout).ok();
    succeeded(
        &git(
            repo_root(),
            &[
                "clone",
                "--quiet",
                "--branch",
                &format!("v{first}"),
                &source.to_string_lossy(),
                &old_checkout.to_string_lossy(),
            ],
        ),
        "clone",
    )
    .expect("the first release");
    let destination = work_dir().join("update/from-first-release");
    std::fs::remove_dir_all(&destination).ok();
    std::fs::create_dir_all(&destination).expect("destination");
    let mut generate = Command::new(CARGO_GENERATE);
    generate
        .args([
            "generate",
            "--silent",
            "--vcs",
            "none",
            "--name",
            "first-release",
            "--path",
        ])
        .arg(&old_checkout)
        .arg("--destination")
        .arg(&destination);
    succeeded(
        &run(as_user(&mut generate)),
        &format!("generating at v{first}"),
    )
    .expect("generated");
    let project = Project {
        variant: Variant::default_choice(),
        dir: destination.join("first-release"),
    };
    for args in [
        &["init", "--quiet"][..],
        &["add", "--all"][..],
        &["commit", "--quiet", "-m", "generated"][..],
    ] {
        succeeded(&git(&project.dir, args), "git").expect("committed");
    }

    let output = run(as_user(
        Command::new(project.path("scripts/update-template.sh"))
            .current_dir(&project.dir)
            .args(["--from", &source.to_string_lossy(), "--to", &current]),
    ));

    assert!(
        output.status.success(),
        "the update from v{first} to {current} failed:\n{}",
        tail(&output, 20)
    );
    let conflicts = succeeded(
        &git(&project.dir, &["diff", "--name-only", "--diff-filter=U"]),
        "git diff",
    )
    .expect("git diff");
    assert!(
        conflicts.is_empty(),
        "an unchanged project got conflicts: {conflicts}"
    );
    succeeded(
        &run(&mut cargo_for(
            &project,
            &["metadata", "--locked", "--format-version", "1"],
        )),
        "cargo metadata --locked",
    )
    .expect("a consistent Cargo.lock");
    assert_eq!(
        recorded_version(&project.read(".template/answers.toml")),
        current,
        "the recorded version"
    );
}
