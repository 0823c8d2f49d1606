//! The deployment files through the tools that judge them: hadolint on the
//! Dockerfile, promtool on the alert rules, shellcheck and `--help` on every script,
//! zizmor and the GitHub workflow schema on the workflows, and checkov's secret
//! scanner on every generated file.

use std::process::Command;

use super::{SCRIPTS, run_tool};
use crate::helpers::{Failures, Project, all_projects, tail};

#[test]
fn hadolint_passes_on_every_dockerfile() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let output = run_tool(&project, "hadolint", &["Dockerfile"]);
        failures.check(
            output.status.success(),
            &project.variant,
            format!("hadolint:\n{}", tail(&output, 20)),
        );
    }
    failures.assert_none("hadolint");
}

#[test]
fn the_alert_rules_pass_promtool() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let output = run_tool(
            &project,
            "promtool",
            &["check", "rules", "deploy/prometheus/alerts.yml"],
        );
        failures.check(
            output.status.success(),
            &project.variant,
            format!("promtool check rules:\n{}", tail(&output, 10)),
        );
    }
    failures.assert_none("alert rules");
}

#[test]
fn every_script_is_executable_shellcheck_clean_and_has_help() {
    use std::os::unix::fs::PermissionsExt;
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        for script in SCRIPTS {
            let mode = std::fs::metadata(project.path(script))
                .map(|m| m.permissions().mode())
                .unwrap_or_default();
            failures.check(
                mode & 0o111 != 0,
                v,
                format!("{script} is not executable (mode {mode:o})"),
            );
            failures.check(
                project.read(script).contains("set -euo pipefail"),
                v,
                format!("{script} lacks set -euo pipefail"),
            );
            let lint = run_tool(&project, "shellcheck", &["--external-sources", script]);
            failures.check(
                lint.status.success(),
                v,
                format!("shellcheck {script}:\n{}", tail(&lint, 20)),
            );
            let help = run_tool(&project, "bash", &[script, "--help"]);
            let text = String::from_utf8_lossy(&help.stdout);
            failures.check(
                help.status.success() && text.contains("Usage:"),
                v,
                format!("{script} --help: {}", tail(&help, 5)),
            );
        }
        // As a user runs it: every script, the shared one included, each on its own.
        let lint = run_tool(&project, "bash", &["-c", "shellcheck scripts/*.sh"]);
        failures.check(
            lint.status.success(),
            v,
            format!("shellcheck scripts/*.sh:\n{}", tail(&lint, 20)),
        );
    }
    failures.assert_none("scripts");
}

#[test]
fn the_workflows_pass_zizmor_and_the_github_workflow_schema() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let workflows = workflow_files(&project);
        let workflows: Vec<&str> = workflows.iter().map(String::as_str).collect();
        let mut args = vec!["--builtin-schema", "vendor.github-workflows"];
        args.extend(&workflows);
        let schema = run_tool(&project, "check-jsonschema", &args);
        failures.check(
            schema.status.success(),
            &project.variant,
            format!("check-jsonschema:\n{}", tail(&schema, 20)),
        );
        let mut args = vec!["--offline", "--no-progress"];
        args.extend(&workflows);
        let audit = run_tool(&project, "zizmor", &args);
        failures.check(
            audit.status.success(),
            &project.variant,
            format!("zizmor:\n{}", tail(&audit, 30)),
        );
    }
    failures.assert_none("workflows");
}

/// Every workflow of the project, relative to it.
fn workflow_files(project: &Project) -> Vec<String> {
    let mut workflows: Vec<String> = project
        .files()
        .into_iter()
        .filter(|path| path.starts_with(".github/workflows"))
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        workflows.len() >= 3,
        "[{}] expected ci, dependencies and release workflows, found {workflows:?}",
        project.variant
    );
    workflows.sort();
    workflows
}

/// checkov's secret scanner over every variant at once: no generated file may hold a
/// credential it flags (development passwords come from `.env`, made from `.env.example`).
#[test]
fn no_generated_file_holds_a_credential_a_secret_scanner_flags() {
    let projects = all_projects();
    let mut command = Command::new("checkov");
    command.args([
        "--framework",
        "secrets",
        "--skip-download",
        "--quiet",
        "--compact",
    ]);
    for project in &projects {
        command.arg("-d").arg(&project.dir);
    }
    let output = command.output().expect("checkov runs (see .ci/run)");
    assert!(
        output.status.success(),
        "checkov flagged secrets in generated files:\n{}",
        tail(&output, 60)
    );
}
