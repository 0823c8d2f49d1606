//! `compose.yml`, the development stack: the app built from source with the
//! dependencies its variant chose, each health-checked, and the otel profile's
//! trace viewer.

use serde_json::Value;

use super::compose;
use crate::helpers::{Failures, Variant, all_projects, tail};

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

#[test]
fn the_development_compose_file_is_valid_with_and_without_profiles() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        // As the README has users do: `.env` made from `.env.example`.
        let mut runs = vec![vec![
            "--env-file",
            ".env.example",
            "config",
            "--format",
            "json",
        ]];
        if v.on("otel") {
            runs.push(vec![
                "--env-file",
                ".env.example",
                "--profile",
                "otel",
                "config",
                "--format",
                "json",
            ]);
        }
        for args in runs {
            let output = compose(&project, &args);
            let Ok(config) = serde_json::from_slice::<Value>(&output.stdout) else {
                failures.add(
                    v,
                    format!("compose.yml {args:?} failed:\n{}", tail(&output, 10)),
                );
                continue;
            };
            let services = &config["services"];
            has_its_dependencies(&mut failures, v, services);
            if args.contains(&"otel") {
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
