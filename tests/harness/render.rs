//! Generation and the files of every variant.

use std::path::Path;

use crate::helpers::{Failures, Project, all_projects};

/// Files every variant has.
const ALWAYS: &[&str] = &[
    ".gitignore",
    "Cargo.lock",
    "Caddyfile",
    "Cargo.toml",
    "README.md",
    "build.rs",
    "migrations/20260101000000_create_items.sql",
    "src/main.rs",
    "src/config.rs",
    "src/db.rs",
    "src/startup.rs",
    "tests/api/main.rs",
    "tests/cli.rs",
];

/// Files of the template repository that must never reach a generated project.
const NEVER: &[&str] = &["cargo-generate.toml", "lockfiles", "hooks", "Cargo.toml.liquid"];

/// Files present exactly when the condition holds.
fn optional_files(project: &Project) -> Vec<(&'static str, bool)> {
    let v = project.variant;
    vec![
        ("src/cache.rs", v.redis),
        ("tests/api/cache.rs", v.redis),
        ("src/telemetry/sentry.rs", v.sentry),
        ("tests/sentry.rs", v.sentry),
        ("src/telemetry/otel.rs", v.otel),
        ("tests/otel.rs", v.otel),
        ("tests/support/receiver.rs", v.sentry || v.otel),
        ("tests/api/postgres.rs", v.postgres),
        ("tests/support/postgres.rs", v.postgres),
        ("tests/api/sqlite.rs", !v.postgres),
        ("tests/support/sqlite.rs", !v.postgres),
    ]
}

#[test]
fn every_variant_has_its_files_and_none_of_the_others() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let variant = &project.variant;
        for file in ALWAYS {
            failures.check(project.exists(file), variant, format!("{file} is missing"));
        }
        for file in NEVER {
            failures.check(!project.exists(file), variant, format!("{file} should not be generated"));
        }
        for (file, expected) in optional_files(&project) {
            let present = project.exists(file);
            failures.check(present == expected, variant, format!("{file}: expected present={expected}, saw present={present}"));
        }
    }
    failures.assert_none("files per variant");
}

#[test]
fn every_variant_depends_on_exactly_the_crates_its_options_need() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let variant = &project.variant;
        let manifest: toml::Table = project.read("Cargo.toml").parse().expect("Cargo.toml parses");
        let dependencies = manifest["dependencies"].as_table().expect("[dependencies]");
        for (krate, expected) in [
            ("redis", variant.redis),
            ("sentry", variant.sentry),
            ("opentelemetry", variant.otel),
            ("tracing-opentelemetry", variant.otel),
        ] {
            let present = dependencies.contains_key(krate);
            failures.check(present == expected, variant, format!("dependency {krate}: expected {expected}, saw {present}"));
        }
        let sqlx_features = dependencies["sqlx"]["features"].as_array().expect("sqlx features");
        for (feature, expected) in [("postgres", variant.postgres), ("sqlite", !variant.postgres)] {
            let present = sqlx_features.iter().any(|f| f.as_str() == Some(feature));
            failures.check(present == expected, variant, format!("sqlx feature {feature}: expected {expected}, saw {present}"));
        }
    }
    failures.assert_none("dependencies per variant");
}

fn is_text(path: &Path) -> bool {
    !matches!(path.extension().and_then(|e| e.to_str()), Some("png" | "ico" | "db"))
}

/// `{{` that belongs to GitHub Actions (`${{ }}`) or docker/metadata-action
/// (`{{version}}`), written verbatim on purpose.
fn is_workflow_syntax(line: &str, at: usize) -> bool {
    let rest = &line[at..];
    line[..at].ends_with('$')
        || ["{{version}}", "{{major}}", "{{minor}}"].iter().any(|pattern| rest.starts_with(pattern))
}

#[test]
fn no_template_syntax_is_left_in_any_file() {
    let mut failures = Failures::default();
    for project in all_projects() {
        for file in project.files().into_iter().filter(|file| is_text(file)) {
            let text = project.read(&file.to_string_lossy());
            for (number, line) in text.lines().enumerate() {
                let liquid_output = line.match_indices("{{").any(|(at, _)| !is_workflow_syntax(line, at));
                if liquid_output || line.contains("{%") || line.contains("%}") {
                    failures.add(&project.variant, format!("{}:{}: {line}", file.display(), number + 1));
                }
            }
        }
    }
    failures.assert_none("leftover template syntax");
}

#[test]
fn no_file_has_blank_line_clutter() {
    let mut failures = Failures::default();
    for project in all_projects() {
        for file in project.files().into_iter().filter(|file| is_text(file)) {
            let text = project.read(&file.to_string_lossy());
            let file = file.display();
            failures.check(!text.contains("\n\n\n"), &project.variant, format!("{file}: two blank lines in a row"));
            failures.check(!text.starts_with('\n'), &project.variant, format!("{file}: starts with a blank line"));
            failures.check(text.is_empty() || (text.ends_with('\n') && !text.ends_with("\n\n")), &project.variant, format!("{file}: does not end with exactly one newline"));
        }
    }
    failures.assert_none("blank-line clutter");
}

#[test]
fn every_toml_yaml_and_json_file_parses() {
    let mut failures = Failures::default();
    for project in all_projects() {
        for file in project.files() {
            let name = file.to_string_lossy().into_owned();
            let extension = file.extension().and_then(|e| e.to_str()).unwrap_or_default();
            let parsed: Result<(), String> = match extension {
                "toml" | "lock" => project.read(&name).parse::<toml::Table>().map(drop).map_err(|e| e.to_string()),
                "yml" | "yaml" => serde_yaml::from_str::<serde_yaml::Value>(&project.read(&name)).map(drop).map_err(|e| e.to_string()),
                "json" => serde_json::from_str::<serde_json::Value>(&project.read(&name)).map(drop).map_err(|e| e.to_string()),
                _ => Ok(()),
            };
            if let Err(error) = parsed {
                failures.add(&project.variant, format!("{name} does not parse: {error}"));
            }
        }
    }
    failures.assert_none("parsing");
}

#[test]
fn every_lockfile_matches_its_manifest() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let output = project
            .command("cargo")
            .args(["metadata", "--locked", "--format-version", "1"])
            .output()
            .expect("cargo metadata runs");
        failures.check(
            output.status.success(),
            &project.variant,
            format!(
                "Cargo.lock is stale (run scripts/update-lockfiles.sh):\n{}",
                crate::helpers::tail(&output, 5)
            ),
        );
    }
    failures.assert_none("lockfiles");
}
