//! The reverse of `settings`: every setting the service reads and
//! `.env.production.example` documents reaches the app in every deployment path, as the
//! tools themselves resolve it: compose (`docker compose config` of
//! `compose.production.yml`), compose with secrets (`compose.secrets.yml` over it) and
//! Kubernetes (the production overlay rendered by `kubectl kustomize`). Where secrets
//! are files, a secret arrives as `NAME_FILE` naming a file of a mounted secret; every
//! other setting arrives in the app's environment.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{
    config_of, example_with, secrets::secrets_file_present_as_needed, settings::FIXED_IN_PRODUCTION,
};
use crate::helpers::{
    Failures, Project, all_projects, run, secrets_of,
    settings::{variables_in_env_file, variables_read_by_the_service},
    succeeded,
};

/// What a deployment path hands the app's container.
struct Delivered {
    /// The container's environment: each variable's value, empty when it has none.
    environment: BTreeMap<String, String>,
    /// Where secrets are mounted: each a file (compose) or a directory (Kubernetes).
    secret_mounts: Vec<String>,
    /// Whether this path gives secrets as files (`NAME_FILE`) rather than values.
    secrets_as_files: bool,
}

impl Delivered {
    /// Why `variable` does not reach the app, if it does not.
    fn lacks(&self, variable: &str, secret: bool) -> Option<String> {
        if !(secret && self.secrets_as_files) {
            return (!self.environment.contains_key(variable))
                .then(|| "the app's environment lacks it".to_owned());
        }
        let file = format!("{variable}_FILE");
        let Some(path) = self.environment.get(&file) else {
            return Some(format!("a secret, but the app's environment lacks {file}"));
        };
        let mounted = self
            .secret_mounts
            .iter()
            .any(|mount| path == mount || path.starts_with(&format!("{mount}/")));
        (!mounted).then(|| {
            format!(
                "{file}={path:?} names no mounted secret (the app mounts {:?})",
                self.secret_mounts
            )
        })
    }
}

/// One way to deploy: its name, where a missing setting and a missing secret go, and
/// what it gives the app.
struct DeploymentPath {
    name: &'static str,
    setting_goes_in: &'static str,
    secret_goes_in: &'static str,
    delivered: Result<Delivered, String>,
}

/// The app of the resolved compose `files` with the settings of `env_file`.
fn compose_app(project: &Project, files: &[&str], env_file: &str) -> Result<Delivered, String> {
    let config = config_of(project, files, env_file, &[])
        .map_err(|error| format!("docker compose config failed:\n{error}"))?;
    let app = &config["services"]["app"];
    let secret_mounts = app["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|secret| secret["target"].as_str().map(str::to_owned))
        .collect();
    Ok(Delivered {
        environment: entries(&app["environment"]),
        secret_mounts,
        secrets_as_files: files.contains(&"compose.secrets.yml"),
    })
}

/// The entries of a JSON object whose values are text (or null, read as empty).
fn entries(object: &Value) -> BTreeMap<String, String> {
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    object
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(name, value)| (name.clone(), text(value)))
                .collect()
        })
        .unwrap_or_default()
}

/// The objects of the production overlay, as `kubectl kustomize` renders them.
fn production_overlay(project: &Project) -> Result<Vec<Value>, String> {
    let what = "kubectl kustomize deploy/kubernetes/production";
    let output = run(project
        .command("kubectl")
        .args(["kustomize", "deploy/kubernetes/production"]));
    let yaml = succeeded(&output, what)?;
    yaml.split("\n---\n")
        .map(|document| {
            serde_yaml::from_str::<Value>(document)
                .map_err(|error| format!("{what}: the YAML does not parse: {error}"))
        })
        .collect()
}

/// The app container of the production overlay: its `env`, the ConfigMaps of its
/// `envFrom`, and its mounts of a Secret volume.
fn kubernetes_app(project: &Project) -> Result<Delivered, String> {
    let objects = production_overlay(project)?;
    let of_kind = |kind: &'static str| objects.iter().filter(move |object| object["kind"] == kind);
    let pod = of_kind("Deployment")
        .next()
        .map(|deployment| &deployment["spec"]["template"]["spec"])
        .ok_or("the overlay has no Deployment")?;
    let app = pod["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|container| container["name"] == "app")
        .ok_or("the Deployment has no container named app")?;
    let listed = |value: &Value| value.as_array().cloned().unwrap_or_default();
    let mut environment: BTreeMap<String, String> = listed(&app["env"])
        .iter()
        .filter_map(|variable| {
            let value = variable["value"].as_str().unwrap_or_default().to_owned();
            Some((variable["name"].as_str()?.to_owned(), value))
        })
        .collect();
    for source in listed(&app["envFrom"]) {
        let name = &source["configMapRef"]["name"];
        for config_map in of_kind("ConfigMap").filter(|map| map["metadata"]["name"] == *name) {
            environment.extend(entries(&config_map["data"]));
        }
    }
    let secret_volume = |mount: &Value| {
        listed(&pod["volumes"])
            .iter()
            .any(|volume| volume["name"] == mount["name"] && volume["secret"].is_object())
    };
    let secret_mounts = listed(&app["volumeMounts"])
        .iter()
        .filter(|mount| secret_volume(mount))
        .filter_map(|mount| mount["mountPath"].as_str().map(str::to_owned))
        .collect();
    Ok(Delivered {
        environment,
        secret_mounts,
        secrets_as_files: true,
    })
}

/// Every way the variant deploys: compose, compose with secrets when it has a secret,
/// and Kubernetes.
fn deployment_paths(project: &Project, secrets: &[&str]) -> Vec<DeploymentPath> {
    let example = ".env.production.example";
    let mut paths = vec![DeploymentPath {
        name: "compose (compose.production.yml)",
        setting_goes_in: "the `environment:` of x-service in compose.production.yml",
        secret_goes_in: "the `environment:` of x-service in compose.production.yml",
        delivered: compose_app(project, &["compose.production.yml"], example),
    }];
    if !secrets.is_empty() {
        // As compose.secrets.yml has users do: each secret's variable left empty.
        let emptied: Vec<(&str, &str)> = secrets.iter().map(|secret| (*secret, "")).collect();
        let env_file = example_with(project, "secrets-paths", &emptied);
        let files = ["compose.production.yml", "compose.secrets.yml"];
        paths.push(DeploymentPath {
            name: "compose with secrets (compose.production.yml + compose.secrets.yml)",
            setting_goes_in: "the `environment:` of x-service in compose.production.yml",
            secret_goes_in: "compose.secrets.yml: NAME_FILE and the secret, for app and migrate",
            delivered: secrets_file_present_as_needed(project, secrets)
                .and_then(|()| compose_app(project, &files, &env_file)),
        });
    }
    paths.push(DeploymentPath {
        name: "Kubernetes (deploy/kubernetes/production)",
        setting_goes_in: "deploy/kubernetes/base/config.env",
        secret_goes_in: "deploy/kubernetes/base/deployment.yaml: NAME_FILE and the Secret volume",
        delivered: kubernetes_app(project),
    });
    paths
}

#[test]
fn every_documented_setting_reaches_the_app_in_every_deployment_path() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let documented = variables_in_env_file(&project.read(".env.production.example"));
        let settings: BTreeSet<String> = variables_read_by_the_service(&project)
            .intersection(&documented)
            .filter(|variable| !FIXED_IN_PRODUCTION.contains(&variable.as_str()))
            .cloned()
            .collect();
        let secrets = secrets_of(v);
        for path in deployment_paths(&project, &secrets) {
            let delivered = match path.delivered {
                Ok(delivered) => delivered,
                Err(error) => {
                    failures.add(v, format!("{}: {error}", path.name));
                    continue;
                }
            };
            for variable in &settings {
                let secret = secrets.contains(&variable.as_str());
                let Some(why) = delivered.lacks(variable, secret) else {
                    continue;
                };
                let goes_in = if secret {
                    path.secret_goes_in
                } else {
                    path.setting_goes_in
                };
                failures.add(
                    v,
                    format!(
                        "{}: {variable} is read by the service and documented in \
                         .env.production.example, but never reaches the app: {why} (it goes in \
                         {goes_in})",
                        path.name
                    ),
                );
            }
        }
    }
    failures.assert_none("settings in every deployment path");
}

#[test]
fn a_setting_is_missing_when_absent_or_a_secret_file_outside_every_secret_mount() {
    let environment = [
        ("RUST_LOG", "info"),
        ("DATABASE_URL_FILE", "/run/secrets/database_url"),
        ("REDIS_URL_FILE", "/etc/redis_url"),
    ];
    let delivered = Delivered {
        environment: environment
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        secret_mounts: vec!["/run/secrets".to_owned()],
        secrets_as_files: true,
    };

    let seen = [
        delivered.lacks("RUST_LOG", false),
        delivered.lacks("DATABASE_URL", true),
        delivered.lacks("MAX_CONNECTIONS", false),
        delivered.lacks("REDIS_URL", true),
        delivered.lacks("SENTRY_DSN", true),
    ];

    let missing: Vec<bool> = seen.iter().map(Option::is_some).collect();
    assert_eq!(
        missing,
        [false, false, true, true, true],
        "expected only MAX_CONNECTIONS, REDIS_URL (outside /run/secrets) and SENTRY_DSN \
         (no SENTRY_DSN_FILE) missing, saw {seen:?}"
    );
}
