//! This repository's own scripts and workflow.

use std::process::Command;

use crate::helpers::{repo_root, tail};

#[test]
fn the_repository_scripts_are_shellcheck_clean() {
    let scripts = [".ci/run", ".ci/services.sh", "scripts/update-lockfiles.sh", "tests/container/stand-in-images.sh"];

    let output = Command::new("shellcheck").current_dir(repo_root()).args(scripts).output().expect("shellcheck runs (see .ci/run)");

    assert!(output.status.success(), "shellcheck:\n{}", tail(&output, 30));
}

#[test]
fn the_template_workflow_passes_zizmor_and_the_github_workflow_schema() {
    let workflow = ".github/workflows/template.yml";

    let schema = Command::new("check-jsonschema")
        .current_dir(repo_root())
        .args(["--builtin-schema", "vendor.github-workflows", workflow])
        .output()
        .expect("check-jsonschema runs (see .ci/run)");
    let audit = Command::new("zizmor").current_dir(repo_root()).args(["--offline", "--no-progress", workflow]).output().expect("zizmor runs (see .ci/run)");

    assert!(schema.status.success(), "check-jsonschema:\n{}", tail(&schema, 20));
    assert!(audit.status.success(), "zizmor:\n{}", tail(&audit, 20));
}
