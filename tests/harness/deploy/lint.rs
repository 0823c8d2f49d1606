//! The production stack through an independent compose linter (compose-lint), resolved
//! as the docs deploy it: `docker compose config` of compose.production.yml with
//! compose.secrets.yml where there is one, both profiles, and the images pinned by
//! digest. Nothing at medium or above but the design: the proxy publishing 80 and 443
//! on every interface, justified by a comment on each of those lines.

use serde_json::Value;

use super::{config_of, example_with, run_tool};
use crate::helpers::{Failures, Project, Variant, all_projects, project_name, work_dir};

/// What the design publishes to the internet: compose-lint's rule and the port lines.
const BY_DESIGN: &str = "CL-0005";
const PUBLIC_PORTS: [&str; 2] = [r#"- "80:80""#, r#"- "443:443""#];

/// The production stack resolved as scripts/deploy.sh runs it, written out as YAML.
fn resolved_stack(project: &Project) -> Result<String, String> {
    let env_file = example_with(
        project,
        "lint",
        &[
            ("IMAGE_TAG", &format!("1.2.3@sha256:{}", "0".repeat(64))),
            (
                "PROXY_IMAGE",
                &format!("caddy:2.10.2@sha256:{}", "1".repeat(64)),
            ),
        ],
    );
    let mut files = vec!["compose.production.yml"];
    if project.exists("compose.secrets.yml") {
        files.push("compose.secrets.yml");
    }
    let config = config_of(
        project,
        &files,
        &env_file,
        &["--profile", "proxy", "--profile", "migrate"],
    )?;
    let yaml = serde_yaml::to_string(&config).map_err(|error| error.to_string())?;
    // Outside the project, whose every file the secret scanner reads.
    let dir = work_dir().join("compose-lint");
    std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
    let path = dir.join(format!("{}.yml", project_name(&project.variant)));
    std::fs::write(&path, yaml).map_err(|error| error.to_string())?;
    Ok(path.to_string_lossy().into_owned())
}

/// compose-lint's JSON report on the resolved stack of `project`.
fn lint(project: &Project) -> Result<Value, String> {
    let resolved = resolved_stack(project)
        .map_err(|error| format!("the production stack does not resolve:\n{error}"))?;
    let output = run_tool(
        project,
        "compose-lint",
        &[
            "check",
            "--format",
            "json",
            "--fail-on",
            "medium",
            &resolved,
        ],
    );
    serde_json::from_slice(&output.stdout).map_err(|_| {
        format!(
            "compose-lint gave no JSON report:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Each finding at medium or above is the design's, and the linter read everything.
fn only_the_design(failures: &mut Failures, v: &Variant, report: &Value) {
    for finding in report["findings"].as_array().into_iter().flatten() {
        let by_design = finding["rule_id"] == BY_DESIGN && finding["service"] == "proxy";
        let serious = finding["severity"] != "low" && finding["severity"] != "info";
        failures.check(
            by_design || !serious,
            v,
            format!(
                "compose-lint: {} {} on {}: {}",
                finding["severity"], finding["rule_id"], finding["service"], finding["message"]
            ),
        );
    }
    for errors in ["errors", "warnings"] {
        let listed = &report[errors];
        failures.check(
            listed.as_array().is_none_or(Vec::is_empty),
            v,
            format!("compose-lint {errors}: {listed}"),
        );
    }
}

#[test]
fn compose_lint_finds_nothing_at_medium_or_above_but_the_public_proxy() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        match lint(&project) {
            Ok(report) => only_the_design(&mut failures, v, &report),
            Err(error) => failures.add(v, error),
        }
        let source = project.read("compose.production.yml");
        for port in PUBLIC_PORTS {
            let justified = source.lines().any(|line| {
                line.trim_start().starts_with(port)
                    && line.contains("# every interface, by design:")
            });
            failures.check(justified, v, format!("the proxy's `{port}` in compose.production.yml: expected a comment on its line saying why it is public"));
        }
    }
    failures.assert_none("compose-lint");
}
