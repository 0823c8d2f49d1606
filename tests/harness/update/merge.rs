//! Every variant takes the new release by a three-way merge: the expected conflicts and
//! nothing else, each side's changes kept, a consistent lockfile, and an exact undo.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use super::{
    git, recorded_version,
    releases::{
        TEMPLATE_CHANGELOG_LINE, TEMPLATE_DEPENDENCY, TEMPLATE_DOCKERFILE_LINE, TEMPLATE_RUST_LOG,
        releases,
    },
    user::{
        USER_DEPENDENCY, USER_DOCKERFILE_LINE, USER_NOTES, USER_RUST_LOG, update, user_project,
    },
};
use crate::{
    helpers::{Project, cargo_for, run, succeeded, variants},
    report::Table,
};

/// The files whose changes overlap the user's: the conflicts an update must leave.
const CONFLICTS: [&str; 2] = [".env.example", "docs/deployment.md"];

#[test]
fn every_variant_takes_a_new_release_by_a_three_way_merge_and_undoes_it_exactly() {
    let mut table = Table::new(
        "template update",
        "variant | clean merge | conflicts | added | deleted | user-only | lockfile | undo",
    );
    for variant in variants() {
        let outcome = user_project(variant, "merge")
            .and_then(|project| check_update(&project))
            .map(|checked| format!(
                "Dockerfile, Cargo.toml | {} | docs/upgrading.md | scripts/restore.sh | NOTES.md kept | --locked, {} pins kept | exact",
                checked.conflicts.join(", "),
                checked.kept_pins
            ));
        table.outcome(&variant, outcome);
    }
    table.finish("template update");
}

/// Each outcome of one update, checked; the first that does not hold is the error.
struct Checked {
    conflicts: Vec<String>,
    kept_pins: usize,
}

fn check_update(project: &Project) -> Result<Checked, String> {
    let before = snapshot(project);
    let pins_before = pins(&project.read("Cargo.lock"));

    let output = update(project, &["--to", &releases().new]);

    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(format!("the update failed ({}):\n{printed}", output.status));
    }
    let conflicts = check_conflicts(project, &printed)?;
    check_merged_files(project)?;
    check_lockfile(project, &pins_before)?;
    let answers = project.read(".template/answers.toml");
    if recorded_version(&answers) != releases().new {
        return Err(format!(
            "the recorded version is not {}:\n{answers}",
            releases().new
        ));
    }
    let old_section = format!("## {}", releases().old);
    if !printed.contains(TEMPLATE_CHANGELOG_LINE) || printed.contains(&old_section) {
        return Err(format!(
            "the update did not print the new release's CHANGELOG section alone:\n{printed}"
        ));
    }
    if !printed.contains("git reset --hard HEAD") {
        return Err(format!(
            "the update did not print how to undo it:\n{printed}"
        ));
    }
    check_undo(project, &before)?;
    Ok(Checked {
        conflicts,
        kept_pins: pins_before.len(),
    })
}

/// Exactly `CONFLICTS` left unmerged and listed in what the script printed, with git's
/// markers around both `RUST_LOG` lines.
fn check_conflicts(project: &Project, printed: &str) -> Result<Vec<String>, String> {
    let unmerged = succeeded(
        &git(&project.dir, &["diff", "--name-only", "--diff-filter=U"]),
        "git diff",
    )?;
    let conflicts: Vec<String> = unmerged.lines().map(str::to_owned).collect();
    if conflicts != CONFLICTS {
        return Err(format!(
            "conflicts: expected {CONFLICTS:?}, saw {conflicts:?}\n{printed}"
        ));
    }
    for conflict in CONFLICTS {
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
    Ok(conflicts)
}

/// The files merged cleanly: both sides' lines, the release's added and deleted files,
/// the user's own file, both new dependencies.
fn check_merged_files(project: &Project) -> Result<(), String> {
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
    if project.read("NOTES.md") != USER_NOTES {
        return Err("the user's own file changed".into());
    }
    let manifest = project.read("Cargo.toml");
    if !(manifest.contains(USER_DEPENDENCY.1) && manifest.contains(TEMPLATE_DEPENDENCY.1)) {
        return Err(format!(
            "Cargo.toml lacks the user's or the template's new dependency:\n{manifest}"
        ));
    }
    Ok(())
}

/// `Cargo.lock` consistent with the manifest, both new dependencies the project's own,
/// and every pin of `pins_before` kept.
fn check_lockfile(project: &Project, pins_before: &BTreeSet<String>) -> Result<(), String> {
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
    Ok(())
}

/// `git reset --hard HEAD`, as the script says, gives back the tree of `before`.
fn check_undo(project: &Project, before: &BTreeMap<PathBuf, Vec<u8>>) -> Result<(), String> {
    succeeded(
        &git(&project.dir, &["reset", "--quiet", "--hard", "HEAD"]),
        "git reset --hard HEAD",
    )?;
    let status = succeeded(&git(&project.dir, &["status", "--porcelain"]), "git status")?;
    if !status.is_empty() || snapshot(project) != *before {
        return Err(format!(
            "`git reset --hard HEAD` did not restore the tree exactly:\n{status}"
        ));
    }
    Ok(())
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

/// The `package` entries of a Cargo.lock.
fn packages(lockfile: &str) -> Vec<toml::Value> {
    let parsed: toml::Table = lockfile.parse().unwrap_or_default();
    parsed
        .get("package")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// `name version` of every package in a Cargo.lock.
fn pins(lockfile: &str) -> BTreeSet<String> {
    packages(lockfile)
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
    let packages = packages(lockfile);
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
