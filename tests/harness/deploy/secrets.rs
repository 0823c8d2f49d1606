//! `compose.secrets.yml`, the way to give secrets as files: present exactly when the
//! variant has a secret (its `[conditional]` in `template/cargo-generate.toml`), each
//! secret a mounted file named by `NAME_FILE`, never an environment variable; and
//! `scripts/deploy.sh`, which uses it by default, stops naming a secret file missing.

use serde_json::Value;

use super::{config_of, example_with};
use crate::helpers::{Failures, Project, Variant, all_projects, clean_env, secrets_of};

/// The condition of `template/cargo-generate.toml` that drops the file without a secret.
pub const SECRETS_FILE_CONDITION: &str =
    r#"[conditional.'database == "sqlite" && !redis && !sentry'] of template/cargo-generate.toml"#;

/// Whether `compose.secrets.yml` is there exactly when the variant has `secrets`.
pub fn secrets_file_present_as_needed(project: &Project, secrets: &[&str]) -> Result<(), String> {
    match (project.exists("compose.secrets.yml"), secrets.is_empty()) {
        (true, true) => Err("no compose.secrets.yml without a secret setting".into()),
        (false, false) => Err(format!(
            "compose.secrets.yml is missing though {secrets:?} are secrets: the \
             {SECRETS_FILE_CONDITION} must name every option that brings a secret"
        )),
        _ => Ok(()),
    }
}

/// Each of `secrets` given to `service` as a mounted file, and not in its environment.
fn gives_secrets_as_files(
    failures: &mut Failures,
    v: &Variant,
    service: &str,
    config: &Value,
    secrets: &[&str],
) {
    let service_config = &config["services"][service];
    for secret in secrets {
        let file = secret.to_ascii_lowercase();
        let environment = &service_config["environment"];
        failures.check(
            environment.get(*secret).is_none(),
            v,
            format!("{service}: {secret} left in the environment: {environment}"),
        );
        failures.check(
            environment[format!("{secret}_FILE")] == format!("/run/secrets/{file}"),
            v,
            format!("{service}: {secret}_FILE names /run/secrets/{file}: {environment}"),
        );
        failures.check(
            service_config["secrets"]
                .to_string()
                .contains(&format!("\"{file}\"")),
            v,
            format!(
                "{service}: the {file} secret is mounted: {}",
                service_config["secrets"]
            ),
        );
    }
}

#[test]
fn the_secrets_file_gives_every_secret_as_a_file_and_none_in_the_environment() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let secrets = secrets_of(v);
        if let Err(error) = secrets_file_present_as_needed(&project, &secrets) {
            failures.add(v, error);
            continue;
        }
        if secrets.is_empty() {
            continue;
        }
        // As compose.secrets.yml has users do: each secret's variable left empty.
        let emptied: Vec<(&str, &str)> = secrets.iter().map(|secret| (*secret, "")).collect();
        let env_file = example_with(&project, "secrets", &emptied);
        let files = ["compose.production.yml", "compose.secrets.yml"];
        let config = match config_of(&project, &files, &env_file, &["--profile", "migrate"]) {
            Ok(config) => config,
            Err(error) => {
                failures.add(v, format!("compose.secrets.yml config failed:\n{error}"));
                continue;
            }
        };
        for service in ["app", "migrate"] {
            gives_secrets_as_files(&mut failures, v, service, &config, &secrets);
        }
    }
    failures.assert_none("compose.secrets.yml");
}

/// Secrets as files are deploy.sh's default: with a secret's file missing it stops at
/// once, naming the file and the way back to environment variables, before it fetches,
/// builds or starts anything.
#[test]
fn deploy_sh_stops_naming_a_missing_secret_file_before_changing_anything() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let Some(secret) = secrets_of(v).first().map(|name| name.to_ascii_lowercase()) else {
            continue;
        };
        let output = clean_env(&mut project.command("scripts/deploy.sh"))
            .args(["--env-file", ".env.production.example"])
            .output()
            .expect("deploy.sh runs");
        let said = String::from_utf8_lossy(&output.stderr);
        failures.check(
            output.status.code() == Some(1)
                && said.contains(&format!("secrets/{secret} not found"))
                && said.contains("--env-secrets")
                && output.stdout.is_empty(),
            v,
            format!(
                "expected exit 1 naming secrets/{secret} and --env-secrets, with nothing done; saw {:?}, stderr `{}`, stdout `{}`",
                output.status.code(),
                said.trim(),
                String::from_utf8_lossy(&output.stdout).trim()
            ),
        );
    }
    failures.assert_none("deploy.sh without its secret files");
}
