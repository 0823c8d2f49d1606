//! The default variant, generated at this repository's first release, updates to this
//! tree: what every project generated so far will do next.

use std::path::PathBuf;

use super::{clone, generate_at, git, git_steps, recorded_version, update_from};
use crate::helpers::{
    Project, Variant, cargo_for, copy_checkout, repo_root, run, succeeded, tail, work_dir,
};

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
    let source = this_tree_tagged(&current);
    let project = generated_at_the_first_release(&source, &first);

    let output = update_from(&project, &source, &["--to", &current]);

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

/// This repository's history and tags, with the tree as it is now committed and tagged
/// as its version `current`.
fn this_tree_tagged(current: &str) -> PathBuf {
    let source = work_dir().join("update/this-tree");
    clone(repo_root(), None, &source).expect("a clone");
    copy_checkout(&source);
    git_steps(
        &source,
        &[
            &["add", "--all"],
            &["commit", "--quiet", "--allow-empty", "-m", "this tree"],
            &["tag", "--force", &format!("v{current}")],
        ],
    )
    .expect("the tree committed and tagged");
    source
}

/// The default variant generated from `source` at release `first`, committed.
fn generated_at_the_first_release(source: &std::path::Path, first: &str) -> Project {
    let old_checkout = work_dir().join("update/first-release");
    clone(source, Some(&format!("v{first}")), &old_checkout).expect("the first release");
    let destination = work_dir().join("update/from-first-release");
    std::fs::remove_dir_all(&destination).ok();
    std::fs::create_dir_all(&destination).expect("destination");
    let dir = generate_at(
        &old_checkout,
        "first-release",
        &destination,
        &[],
        &format!("generating at v{first}"),
    )
    .expect("generated");
    let project = Project {
        variant: Variant::default_choice(),
        dir,
    };
    git_steps(
        &project.dir,
        &[
            &["init", "--quiet"],
            &["add", "--all"],
            &["commit", "--quiet", "-m", "generated"],
        ],
    )
    .expect("committed");
    project
}
