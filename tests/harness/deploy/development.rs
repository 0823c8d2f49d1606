//! `compose.yml`, the development stack: the app built from source with the
//! dependencies its variant chose, each health-checked, the otel profile's
//! trace viewer, and every port published on loopback only.

use serde_json::Value;

use super::config_of;
use crate::helpers::{Failures, Project, Variant, all_projects};

/// The app built from source, waiting for each dependency its variant has, and no other.
fn has_its_dependencies(failures: &mut Failures, v: &Variant, services: &Value) {
    failures.check(
        services["app"]["build"].is_object(),
        v,
        "the development app is built from source",
    );
    for (dependency, expected) in [
        ("postgres", v.is("database", "postgres")),
        ("redis", v.on("redis")),
    ] {
        let present = services.get(dependency).is_some();
        failures.check(
            present == expected,
            v,
            format!("{dependency} service: expected {expected}, saw {present}"),
        );
        if expected {
            failures.check(
                services[dependency]["healthcheck"].is_object(),
                v,
                format!("{dependency} has a healthcheck"),
            );
            failures.check(
                services["app"]["depends_on"][dependency]["condition"] == "service_healthy",
                v,
                format!("app waits for a healthy {dependency}"),
            );
        }
    }
}

/// Docker's published ports bypass the host's firewall, and the development database
/// has a known password: nothing is published beyond loopback.
fn publishes_on_loopback_only(failures: &mut Failures, v: &Variant, services: &Value) {
    let services = services.as_object().into_iter().flatten();
    for (name, service) in services {
        for port in service["ports"].as_array().into_iter().flatten() {
            failures.check(
                port["host_ip"] == "127.0.0.1",
                v,
                format!(
                    "{name} publishes {} on `{}`: expected 127.0.0.1",
                    port["published"],
                    port["host_ip"].as_str().unwrap_or("every interface")
                ),
            );
        }
    }
}

/// `compose.yml` resolved as the README has users run it (`.env` made from `.env.example`),
/// without and, where the variant has one, with the otel profile; each is named by its
/// profile, or holds what compose said when it failed.
fn development_configs(project: &Project) -> Vec<(&'static str, Result<Value, String>)> {
    let mut profiles = vec!["no profile"];
    if project.variant.on("otel") {
        profiles.push("otel");
    }
    profiles
        .into_iter()
        .map(|profile| {
            let extra: &[&str] = match profile {
                "otel" => &["--profile", "otel"],
                _ => &[],
            };
            (
                profile,
                config_of(project, &["compose.yml"], ".env.example", extra),
            )
        })
        .collect()
}

#[test]
fn the_development_compose_file_is_valid_with_and_without_profiles() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        for (profile, config) in development_configs(&project) {
            let config = match config {
                Ok(config) => config,
                Err(error) => {
                    failures.add(v, format!("compose.yml ({profile}) failed:\n{error}"));
                    continue;
                }
            };
            let services = &config["services"];
            has_its_dependencies(&mut failures, v, services);
            if profile == "otel" {
                failures.check(
                    services.get("jaeger").is_some(),
                    v,
                    "the otel profile starts a trace viewer",
                );
            }
        }
    }
    failures.assert_none("compose.yml");
}

#[test]
fn the_development_stack_publishes_every_port_on_loopback_only() {
    let mut failures = Failures::default();
    for project in all_projects() {
        for (_, config) in development_configs(&project) {
            // An invalid file is the test above's to report.
            if let Ok(config) = config {
                publishes_on_loopback_only(&mut failures, &project.variant, &config["services"]);
            }
        }
    }
    failures.assert_none("compose.yml ports");
}
