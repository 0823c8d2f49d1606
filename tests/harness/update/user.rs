//! A user's project: a variant generated from the old release, committed, then changed
//! as a user would and committed again.

use std::path::Path;

use super::{
    edit, generate_at, git_steps,
    releases::{old_release, releases},
    update_from, with_rust_log,
};
use crate::helpers::{Project, Variant, cargo_for, project_name, run, succeeded, work_dir};

pub(super) const USER_RUST_LOG: &str = "RUST_LOG=debug";
pub(super) const USER_DOCKERFILE_LINE: &str = "# The user's own note.";
pub(super) const USER_DEPENDENCY: (&str, &str) = ("itoa", "itoa = \"1\"");
/// What the user's own file, which no release has, holds.
pub(super) const USER_NOTES: &str = "The user's own file.\n";

/// `variant` generated from the old release, committed, then changed as a user would,
/// committed again; in a directory of `case`'s own, so tests never share one.
pub(super) fn user_project(variant: Variant, case: &str) -> Result<Project, String> {
    // A name of its own: its binaries must not replace the `build` tier's, which `faults` runs.
    user_project_named(
        variant,
        case,
        &format!("updated-{}", project_name(&variant)),
    )
}

/// `user_project`, named `name` whatever its variant: projects that are never built
/// can share one name, and so one fresh generation of each variant to compare with.
pub(super) fn user_project_named(
    variant: Variant,
    case: &str,
    name: &str,
) -> Result<Project, String> {
    let destination = work_dir()
        .join("update/projects")
        .join(case)
        .join(variant.id());
    std::fs::remove_dir_all(&destination).ok();
    std::fs::create_dir_all(&destination).map_err(|e| e.to_string())?;
    let dir = generate_at(
        &old_release(),
        name,
        &destination,
        &variant.defines(),
        "generating at the old release",
    )?;
    let project = Project { variant, dir };
    git_steps(
        &project.dir,
        &[
            &["init", "--quiet"],
            &["add", "--all"],
            &["commit", "--quiet", "-m", "generated"],
        ],
    )?;
    make_the_users_changes(&project.dir)?;
    succeeded(
        &run(&mut cargo_for(
            &project,
            &["update", "--workspace", "--quiet"],
        )),
        "cargo update after the user's new dependency",
    )?;
    git_steps(
        &project.dir,
        &[
            &["add", "--all"],
            &["commit", "--quiet", "-m", "the user's changes"],
        ],
    )?;
    Ok(project)
}

/// The user's changes: a line the release changes too, a line in a file it changes
/// elsewhere, an edit to a file it deletes, a file of the user's own, a dependency.
fn make_the_users_changes(dir: &Path) -> Result<(), String> {
    edit(&dir.join("Dockerfile"), |text| {
        format!("{USER_DOCKERFILE_LINE}\n{text}")
    });
    edit(&dir.join(".env.example"), |text| {
        with_rust_log(&text, USER_RUST_LOG)
    });
    edit(&dir.join("docs/deployment.md"), |text| {
        format!("{text}\nOur own deployment notes.\n")
    });
    std::fs::write(dir.join("NOTES.md"), USER_NOTES).map_err(|e| e.to_string())?;
    edit(&dir.join("Cargo.toml"), |text| {
        text.replacen(
            "anyhow = \"1\"\n",
            &format!("anyhow = \"1\"\n{}\n", USER_DEPENDENCY.1),
            1,
        )
    });
    Ok(())
}

/// The user's project updated by its own script from the copy with the two releases.
pub(super) fn update(project: &Project, args: &[&str]) -> std::process::Output {
    update_from(project, &releases().repository, args)
}
