//! The service's settings on Kubernetes: the ConfigMap holds every setting the service
//! reads, as `.env.production.example` (or `production/config.env`) has it, the overlay
//! runs the image the compose file runs, migrations run in an init container with the
//! same image and settings, and every connection holding a full header buffer, with the
//! whole request-body budget, fits in half the pod's memory limit.

use std::collections::{BTreeMap, BTreeSet};

use super::{Rendered, each_rendered};
use crate::helpers::{
    Failures, Variant,
    memory::{self, ClientBuffers},
    secrets_of,
    settings::variables_read_by_the_service,
};

#[test]
fn migrations_run_in_an_init_container_of_the_same_image() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let init = &rendered.pod()["initContainers"][0];
        failures.check(
            init["args"] == serde_json::json!(["migrate"]),
            v,
            format!("the init container runs `migrate`: {init}"),
        );
        failures.check(
            init["image"] == rendered.app()["image"],
            v,
            format!(
                "the same image as the service: {} vs {}",
                init["image"],
                rendered.app()["image"]
            ),
        );
        failures.check(
            init["envFrom"] == rendered.app()["envFrom"] && init["env"] == rendered.app()["env"],
            v,
            "the same settings as the service",
        );
        failures.check(
            rendered
                .settings()
                .get("RUN_MIGRATIONS_ON_START")
                .map(String::as_str)
                == Some("false"),
            v,
            "RUN_MIGRATIONS_ON_START=false: the init container applies them",
        );
    }
    failures.assert_none("migrations");
}

/// `NAME=value` lines of an env file.
fn env_values(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            line.split_once('=')
                .map(|(name, value)| (name.trim().to_owned(), value.to_owned()))
        })
        .collect()
}

/// Each setting the service reads is in the ConfigMap or mounted as a secret file (HOST
/// and PORT are the image's own: Dockerfile ENV); the ConfigMap holds nothing else, each
/// value as `production/config.env`, or else `.env.production.example`, has it.
fn config_map_matches_the_env_templates(
    failures: &mut Failures,
    v: &Variant,
    rendered: &Rendered,
    example: &BTreeMap<String, String>,
    overridden: &BTreeMap<String, String>,
) {
    let read = variables_read_by_the_service(&rendered.project);
    let settings = rendered.settings();
    let files: BTreeSet<String> = secrets_of(v).into_iter().map(str::to_owned).collect();
    for variable in &read {
        let set = settings.contains_key(variable)
            || files.contains(variable)
            || ["HOST", "PORT"].contains(&variable.as_str());
        failures.check(
            set,
            v,
            format!(
                "{variable} is read by the service but the manifests neither set it nor mount it"
            ),
        );
    }
    for (name, value) in &settings {
        failures.check(
            read.contains(name),
            v,
            format!("the ConfigMap sets {name}, which the service does not read"),
        );
        match (example.get(name), overridden.get(name)) {
            (_, Some(production)) => failures.check(
                value == production,
                v,
                format!("{name}: expected production/config.env's {production:?}, saw {value:?}"),
            ),
            (Some(expected), None) => failures.check(
                value == expected,
                v,
                format!(
                    "{name}: .env.production.example has {expected:?}, the ConfigMap {value:?}"
                ),
            ),
            (None, None) => {}
        }
    }
}

#[test]
fn the_manifests_set_every_setting_as_the_production_env_template_does() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let project = &rendered.project;
        let example = env_values(&project.read(".env.production.example"));
        let overridden = env_values(&project.read("deploy/kubernetes/production/config.env"));
        config_map_matches_the_env_templates(&mut failures, v, rendered, &example, &overridden);
        let docs = project.read("docs/deployment.md");
        let section = docs
            .split("\n## Kubernetes\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap_or_default();
        for overridden in overridden.keys() {
            failures.check(section.contains(&format!("`{overridden}`")), v, format!("production/config.env changes {overridden}, which the Kubernetes section of docs/deployment.md does not explain"));
        }
        // The image the compose file runs by default, by the same name and tag.
        let image = format!(
            "{}:{}",
            example.get("IMAGE").cloned().unwrap_or_default(),
            example.get("IMAGE_TAG").cloned().unwrap_or_default()
        );
        for container in rendered.containers() {
            failures.check(
                container["image"] == image.as_str(),
                v,
                format!(
                    "{}: expected image {image}, saw {}",
                    container["name"], container["image"]
                ),
            );
        }
    }
    failures.assert_none("settings");
}

#[test]
fn the_connection_and_body_limits_fit_the_pods_memory_limit() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let limit = rendered.app()["resources"]["limits"]["memory"]
            .as_str()
            .and_then(memory::bytes);
        match (ClientBuffers::from_settings(|name| rendered.setting(name)), limit) {
            (Some(buffers), Some(limit)) => {
                if let Err(account) = memory::buffers_fit(&buffers, limit) {
                    let v = rendered.variant();
                    failures.add(v, format!("expected the client buffers to fit: {account}"));
                }
            }
            found => failures.add(
                rendered.variant(),
                format!("expected MAX_CONNECTIONS, MAX_HEADER_BYTES, MAX_BUFFERED_BODY_BYTES and a memory limit, saw {found:?}"),
            ),
        }
    }
    failures.assert_none("client buffers against the pod's memory");
}
