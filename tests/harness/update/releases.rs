//! A copy of this repository with two releases made by commits, and a checkout of the
//! old one to generate from; each made once per test process.

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use super::{clone, edit, git_steps, recorded_version, with_rust_log};
use crate::helpers::{copy_checkout, work_dir};

/// The line the new release gives the `RUST_LOG` of `.env.example`; the user changes it too.
pub(super) const TEMPLATE_RUST_LOG: &str = "RUST_LOG=info,tower_http=debug";
pub(super) const TEMPLATE_DOCKERFILE_LINE: &str = "# Added by the new release of the template.";
/// The line the new release's CHANGELOG section holds, which the update must print.
pub(super) const TEMPLATE_CHANGELOG_LINE: &str =
    "- Rename OLD_SETTING to NEW_SETTING in .env.production.";
/// The dependency the new release adds; the user adds another, elsewhere in the table.
pub(super) const TEMPLATE_DEPENDENCY: (&str, &str) = ("ryu", "ryu = \"1\"");

/// Where the template copy and its two releases live.
pub(super) struct Releases {
    pub repository: PathBuf,
    pub old: String,
    pub new: String,
}

/// The next minor version after `version`.
fn next_version(version: &str) -> String {
    let mut parts = version
        .split('.')
        .map(|part| part.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    format!("{major}.{}.0", minor + 1)
}

/// The copy of this repository with its two releases, made once per test process.
pub(super) fn releases() -> &'static Releases {
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
        git_steps(
            &repository,
            &[
                &["init", "--quiet"],
                &["add", "--all"],
                &["commit", "--quiet", "-m", "old release"],
                &["tag", &format!("v{old}")],
            ],
        )
        .expect("the old release");
        make_the_new_release(&template, &old, &new);
        git_steps(
            &repository,
            &[
                &["add", "--all"],
                &["commit", "--quiet", "-m", "new release"],
                &["tag", &format!("v{new}")],
            ],
        )
        .expect("the new release");
        Releases {
            repository,
            old,
            new,
        }
    })
}

/// The new release's changes to `template`: a line added to the Dockerfile, `RUST_LOG`
/// changed, a dependency added, the version moved, a file added and two deleted, and
/// a CHANGELOG section.
fn make_the_new_release(template: &Path, old: &str, new: &str) {
    let changelog = template
        .parent()
        .expect("the repository")
        .join("CHANGELOG.md");
    edit(&changelog, |text| {
        let section = format!("\n## {old}\n");
        assert!(
            text.contains(&section),
            "CHANGELOG.md has no section for {old}"
        );
        text.replacen(
            &section,
            &format!("\n## {new}\n\n{TEMPLATE_CHANGELOG_LINE}\n{section}"),
            1,
        )
    });
    edit(&template.join("Dockerfile"), |text| {
        format!("{text}{TEMPLATE_DOCKERFILE_LINE}\n")
    });
    edit(&template.join(".env.example"), |text| {
        with_rust_log(&text, TEMPLATE_RUST_LOG)
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
}

/// A checkout of the old release, cloned once per test process.
pub(super) fn old_release() -> PathBuf {
    let checkout = work_dir().join("update/old-release");
    static CHECKOUT: OnceLock<()> = OnceLock::new();
    CHECKOUT.get_or_init(|| {
        let releases = releases();
        clone(
            &releases.repository,
            Some(&format!("v{}", releases.old)),
            &checkout,
        )
        .expect("the old release checked out");
    });
    checkout
}
