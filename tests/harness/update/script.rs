//! What `scripts/update-template.sh` says before it changes anything: it refuses a dirty
//! tree, `--check` tells whether a newer release exists, and a source that looks like an
//! option of git's is taken as a repository all the same.

use std::path::Path;

use super::{
    git,
    releases::releases,
    take_the_templates_side, update_from,
    user::{update, user_project},
};
use crate::helpers::{Variant, succeeded, tail};

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
    take_the_templates_side(&project).expect("resolved");
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

/// `git ls-remote --upload-pack=COMMAND` runs COMMAND: a source read from the answers
/// file or `--from` must reach git after `--`, as a repository.
#[test]
fn a_source_that_looks_like_a_git_option_runs_nothing() {
    let project = user_project(Variant::default_choice(), "dash").expect("a user's project");
    let marker = project.path("ran");
    let source = format!("--upload-pack=touch {}", marker.display());

    let output = update_from(&project, Path::new(&source), &["--check"]);

    assert!(
        !marker.exists(),
        "the source was taken as an option and ran `touch`:\n{}",
        tail(&output, 5)
    );
    assert!(
        !output.status.success(),
        "--check passed with no repository at the source:\n{}",
        tail(&output, 5)
    );
}
