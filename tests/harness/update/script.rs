//! What `scripts/update-template.sh` says before it changes anything: it refuses a dirty
//! tree, and `--check` tells whether a newer release exists.

use super::{
    git,
    releases::releases,
    take_the_templates_side,
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
