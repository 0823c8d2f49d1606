//! The supply chain of every variant, as far as it can be proven offline:
//! - `cargo deny check licenses bans sources` passes on each variant's own lockfile
//!   with its `deny.toml`, and fails on the default variant with a `*` version planted
//!   (bans) and with a crate from a git repository planted (sources), naming the crate.
//!   The advisories check needs the advisory database from GitHub: the generated
//!   `dependencies.yml` runs it, not this harness;
//! - `.github/dependabot.yml` validates against its schema (check-jsonschema's copy)
//!   and updates crates, actions, the Dockerfile's and the compose files' images weekly,
//!   minor and patch updates grouped, with a cooldown;
//! - the release workflow attaches an SBOM and SLSA provenance to the image it pushes,
//!   and signs the pushed digest with cosign in a job of its own, the only one allowed
//!   an identity token (`id-token: write`), every action pinned by a commit.
//!
//! The image's binary listing its crates (`cargo auditable`) is the container tier's
//! `auditable` fact: only that tier builds the image.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use serde_yaml::Value;

use crate::helpers::{
    Failures, Project, Variant, all_projects, copy_of, generated, git, run, tail, variants,
    work_dir,
};

const DEPENDABOT: &str = ".github/dependabot.yml";
const RELEASE: &str = ".github/workflows/release.yml";

/// `cargo deny check` of the project's own tree, with `checks`.
fn cargo_deny(project: &Project, checks: &[&str]) -> Output {
    run(project
        .command("cargo")
        .args(["deny", "--log-level", "error", "check"])
        .args(checks))
}

#[test]
fn every_variants_tree_passes_cargo_deny_licenses_bans_and_sources() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let output = cargo_deny(&project, &["licenses", "bans", "sources"]);
        failures.check(
            output.status.success(),
            &project.variant,
            format!(
                "expected cargo deny to pass, it failed:\n{}",
                tail(&output, 40)
            ),
        );
    }
    failures.assert_none("cargo deny");
}

/// The default variant with `dependency` added to `[dependencies]`, in a copy.
fn with_dependency(name: &str, dependency: &str) -> Option<Project> {
    let default = Variant::default_choice();
    if !variants().contains(&default) {
        println!("skipped: VARIANTS leaves out {default}");
        return None;
    }
    let project = copy_of(&generated(default), name);
    let manifest = project.read("Cargo.toml");
    let manifest = manifest.replacen(
        "[dependencies]\n",
        &format!("[dependencies]\n{dependency}\n"),
        1,
    );
    std::fs::write(project.path("Cargo.toml"), manifest).expect("Cargo.toml written");
    Some(project)
}

/// Asserts that `check` fails on `project`, naming `crate_name` and `rule`.
fn assert_refused(project: &Project, check: &str, crate_name: &str, rule: &str) {
    let output = cargo_deny(project, &[check]);
    let printed = tail(&output, 40);
    assert!(
        !output.status.success() && printed.contains(crate_name) && printed.contains(rule),
        "expected `cargo deny check {check}` to fail naming {crate_name} and {rule}, it printed ({}):\n{printed}",
        output.status
    );
}

#[test]
fn a_wildcard_version_fails_the_bans_check() {
    // itoa is already in the tree, so the lockfile resolves without a new download.
    let Some(project) = with_dependency("deny-wildcard", "itoa = \"*\"") else {
        return;
    };
    assert_refused(&project, "bans", "itoa", "wildcard");
}

#[test]
fn a_crate_from_a_git_repository_fails_the_sources_check() {
    let repository = local_git_crate(&work_dir().join("planted-crate"));
    let dependency = format!("planted = {{ git = \"file://{}\" }}", repository.display());
    let Some(project) = with_dependency("deny-git", &dependency) else {
        return;
    };
    assert_refused(&project, "sources", "planted", "git");
}

/// A one-file crate `planted` committed in a git repository at `dir`: a git source
/// cargo can fetch with no network.
fn local_git_crate(dir: &Path) -> PathBuf {
    std::fs::remove_dir_all(dir).ok();
    std::fs::create_dir_all(dir.join("src")).expect("crate directory");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"planted\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n",
    )
    .expect("planted Cargo.toml");
    std::fs::write(dir.join("src/lib.rs"), "").expect("planted lib.rs");
    for args in [
        &["init", "--quiet"][..],
        &["add", "."],
        &["commit", "--quiet", "-m", "planted"],
    ] {
        let output = git(dir, args);
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            tail(&output, 5)
        );
    }
    dir.to_path_buf()
}

#[test]
fn dependabot_validates_and_updates_every_kind_of_dependency_weekly_grouped() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let schema = run(project.command("check-jsonschema").args([
            "--builtin-schema",
            "vendor.dependabot",
            DEPENDABOT,
        ]));
        failures.check(
            schema.status.success(),
            &project.variant,
            format!("check-jsonschema {DEPENDABOT}:\n{}", tail(&schema, 20)),
        );
        if let Err(error) = dependabot_covers_everything(&yaml(&project, DEPENDABOT)) {
            failures.add(&project.variant, format!("{DEPENDABOT}: {error}"));
        }
    }
    failures.assert_none("dependabot");
}

/// Every ecosystem the project has, weekly, its minor and patch updates in one group,
/// with a cooldown.
fn dependabot_covers_everything(config: &Value) -> Result<(), String> {
    let updates = config["updates"].as_sequence().ok_or("no `updates` list")?;
    let mut seen = Vec::new();
    for update in updates {
        let ecosystem = update["package-ecosystem"].as_str().unwrap_or_default();
        seen.push(ecosystem);
        let grouped = update["groups"].as_mapping().is_some_and(|groups| {
            groups.values().any(|group| {
                group["update-types"].as_sequence().is_some_and(|types| {
                    types
                        .iter()
                        .filter_map(Value::as_str)
                        .eq(["minor", "patch"])
                })
            })
        });
        let weekly = update["schedule"]["interval"].as_str() == Some("weekly");
        let cooldown = update["cooldown"]["default-days"].as_u64().unwrap_or(0);
        if !(grouped && weekly && cooldown >= 1) {
            return Err(format!(
                "expected {ecosystem} weekly, minor and patch grouped, a cooldown of a day or more; saw {update:?}"
            ));
        }
    }
    seen.sort_unstable();
    let expected = ["cargo", "docker", "docker-compose", "github-actions"];
    if seen != expected {
        return Err(format!("expected updates for {expected:?}, saw {seen:?}"));
    }
    Ok(())
}

#[test]
fn the_release_workflow_signs_the_pushed_digest_in_the_only_job_with_an_identity_token() {
    let mut failures = Failures::default();
    for project in all_projects() {
        if let Err(error) = release_is_attested_and_signed(&yaml(&project, RELEASE)) {
            failures.add(&project.variant, format!("{RELEASE}: {error}"));
        }
    }
    failures.assert_none("release signing");
}

/// The pushed image gets an SBOM and provenance; the digest is signed by cosign in a job
/// that alone may ask for an identity token; every action is pinned by a commit.
fn release_is_attested_and_signed(workflow: &Value) -> Result<(), String> {
    if workflow["permissions"]
        .as_mapping()
        .is_none_or(|granted| !granted.is_empty())
    {
        return Err("expected `permissions: {}` at the top: each job asks for its own".into());
    }
    let jobs = workflow["jobs"].as_mapping().ok_or("no jobs")?;
    let with_token: Vec<&Value> = jobs
        .iter()
        .filter(|(_, job)| job["permissions"]["id-token"].as_str() == Some("write"))
        .map(|(name, _)| name)
        .collect();
    let [signer] = with_token[..] else {
        return Err(format!(
            "expected one job with `id-token: write`, saw {with_token:?}"
        ));
    };
    let steps = |job: &Value| job["steps"].as_sequence().cloned().unwrap_or_default();
    let signs = steps(&jobs[signer]).iter().any(|step| {
        step["run"]
            .as_str()
            .is_some_and(|run| run.contains("cosign sign") && run.contains("@${DIGEST}"))
    });
    let installs = steps(&jobs[signer]).iter().any(|step| {
        step["uses"]
            .as_str()
            .is_some_and(|uses| uses.starts_with("sigstore/cosign-installer@"))
    });
    if !(signs && installs) {
        return Err(format!(
            "expected job {signer:?} to install cosign and sign the pushed digest"
        ));
    }
    let attested = jobs.values().flat_map(steps).any(|step| {
        step["uses"]
            .as_str()
            .is_some_and(|uses| uses.starts_with("docker/build-push-action@"))
            && step["with"]["sbom"] == Value::Bool(true)
            && step["with"]["provenance"].as_str() == Some("mode=max")
    });
    if !attested {
        return Err(
            "expected the build-push step to attach `sbom: true` and `provenance: mode=max`".into(),
        );
    }
    every_action_pinned(jobs.values().flat_map(steps))
}

/// Every `uses:` of `steps` names a full commit, never a movable tag.
fn every_action_pinned(steps: impl Iterator<Item = Value>) -> Result<(), String> {
    for step in steps {
        let Some(uses) = step["uses"].as_str() else {
            continue;
        };
        let pinned = uses.split_once('@').is_some_and(|(_, commit)| {
            commit.len() == 40 && commit.bytes().all(|byte| byte.is_ascii_hexdigit())
        });
        if !pinned {
            return Err(format!(
                "expected every action pinned by a commit, saw `{uses}`"
            ));
        }
    }
    Ok(())
}

fn yaml(project: &Project, relative: &str) -> Value {
    serde_yaml::from_str(&project.read(relative))
        .unwrap_or_else(|error| panic!("[{}] {relative} is not YAML: {error}", project.variant))
}
