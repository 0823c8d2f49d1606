//! The picture of the deployed topology that opens `docs/deployment.md` (a Mermaid
//! diagram) stays in step with `compose.production.yml`: every service of the stack with
//! its profiles is a node of it, and every port the stack publishes, exposes or listens
//! on is named in it.

use serde_json::Value;

use super::production_stack;
use crate::helpers::{Failures, all_projects};

/// The first Mermaid block of `markdown`.
fn mermaid(markdown: &str) -> Option<&str> {
    let start = markdown.find("```mermaid\n")? + "```mermaid\n".len();
    let length = markdown[start..].find("```")?;
    Some(&markdown[start..start + length])
}

/// Every port of `service` in the resolved compose file: published, its target, exposed.
fn ports(service: &Value) -> Vec<String> {
    let listed = |field: &str| service[field].as_array().cloned().unwrap_or_default();
    let mut ports: Vec<String> = listed("ports")
        .iter()
        .flat_map(|port| [&port["published"], &port["target"]])
        .filter_map(|port| match port {
            Value::String(port) => Some(port.clone()),
            Value::Number(port) => Some(port.to_string()),
            _ => None,
        })
        .collect();
    ports.extend(
        listed("expose")
            .iter()
            .filter_map(|port| port.as_str().map(str::to_owned)),
    );
    ports
}

#[test]
fn the_topology_picture_names_every_service_and_port_of_the_production_stack() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let docs = project.read("docs/deployment.md");
        let Some(picture) = mermaid(&docs) else {
            failures.add(v, "docs/deployment.md has no Mermaid picture");
            continue;
        };
        let config = match production_stack(&project) {
            Ok(config) => config,
            Err(error) => {
                failures.add(v, format!("config failed:\n{error}"));
                continue;
            }
        };
        let services = config["services"].as_object().cloned().unwrap_or_default();
        for (name, service) in &services {
            let node = format!("    {name}[");
            failures.check(
                picture.contains(&node),
                v,
                format!("expected the picture to have the service {name} as a node"),
            );
            for port in ports(service) {
                failures.check(
                    picture.contains(&port),
                    v,
                    format!("expected the picture to name port {port} of {name}"),
                );
            }
        }
    }
    failures.assert_none("the topology picture");
}
