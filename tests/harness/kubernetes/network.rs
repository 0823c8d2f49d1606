//! Who reaches the pods and whom they reach: the NetworkPolicy admits the ingress
//! controller and the scraper only; the one peer trusted to name a client is the
//! controller's pods, in a pod network no wider than a /16; it lets the pods out to the cluster's DNS and the
//! ports of the services their variant uses, nothing else; the Ingress serves the
//! Service's http port over TLS, and it routes the API and its docs but never the probes.

use serde_json::Value;

use super::each_rendered;
use crate::helpers::{Failures, Variant};

#[test]
fn only_the_ingress_controller_and_the_scraper_reach_the_pods() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let policy = &rendered.one("NetworkPolicy")["spec"];
        failures.check(
            rendered.selects_pods(&policy["podSelector"])
                && policy["policyTypes"] == serde_json::json!(["Ingress", "Egress"]),
            v,
            format!("a NetworkPolicy on the pods' ingress: {policy}"),
        );
        let rules = policy["ingress"].as_array().cloned().unwrap_or_default();
        let ports: Vec<String> = rules.iter().map(|rule| rule["ports"].to_string()).collect();
        failures.check(
            ports == [r#"[{"port":"http"}]"#, r#"[{"port":"metrics"}]"#],
            v,
            format!("two rules, the public port then the metrics port: {ports:?}"),
        );
        for rule in &rules {
            let from = rule["from"].as_array().cloned().unwrap_or_default();
            let narrow = !from.is_empty()
                && from.iter().all(|peer| {
                    peer["namespaceSelector"]["matchLabels"]
                        .as_object()
                        .is_some_and(|labels| !labels.is_empty())
                });
            failures.check(
                narrow,
                v,
                format!("each rule admits named namespaces only: {rule}"),
            );
        }
        let ingress = &rendered.one("Ingress")["spec"];
        let backend = &ingress["rules"][0]["http"]["paths"][0]["backend"]["service"];
        let service = &rendered.one("Service")["metadata"]["name"];
        failures.check(
            backend["name"] == *service && backend["port"]["name"] == "http",
            v,
            format!("the Ingress forwards to the Service's http port: {backend}"),
        );
        failures.check(
            ingress["tls"][0]["hosts"][0] == ingress["rules"][0]["host"]
                && ingress["tls"][0]["secretName"].is_string(),
            v,
            format!("the Ingress serves its host over TLS: {ingress}"),
        );
    }
    failures.assert_none("network");
}

/// `TRUSTED_PROXIES` in the production overlay: networks of at most 2^16 addresses (a
/// pod network, not every pod and node), and the public port reachable from the
/// ingress controller's pods only, by namespace and labels.
#[test]
fn only_the_ingress_controllers_pods_may_name_a_client() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let trusted = rendered
            .settings()
            .get("TRUSTED_PROXIES")
            .cloned()
            .unwrap_or_default();
        let widest = trusted
            .split(',')
            .map(|entry| {
                entry
                    .trim()
                    .split_once('/')
                    .map_or(Some(32), |(_, bits)| bits.parse::<u32>().ok())
            })
            .min()
            .flatten();
        failures.check(
            !trusted.trim().is_empty() && widest.is_some_and(|bits| bits >= 16),
            v,
            format!(
                "TRUSTED_PROXIES: expected the pod network, no wider than a /16, saw `{trusted}`"
            ),
        );
        let public = &rendered.one("NetworkPolicy")["spec"]["ingress"][0];
        let peers = public["from"].as_array().cloned().unwrap_or_default();
        let controller_only = !peers.is_empty()
            && peers.iter().all(|peer| {
                ["namespaceSelector", "podSelector"].iter().all(|selector| {
                    peer[selector]["matchLabels"]
                        .as_object()
                        .is_some_and(|labels| !labels.is_empty())
                })
            });
        failures.check(
            controller_only,
            v,
            format!("the public port: expected the ingress controller's pods only (a namespace and pod labels), saw {public}"),
        );
    }
    failures.assert_none("trusted proxies");
}

/// Whether a request for `path` takes an Ingress path entry, by its `pathType`.
fn routed(entry: &Value, path: &str) -> bool {
    let Some(prefix) = entry["path"].as_str() else {
        return false;
    };
    match entry["pathType"].as_str() {
        Some("Exact") => path == prefix,
        _ => {
            let prefix = prefix.trim_end_matches('/');
            path == prefix || path.starts_with(&format!("{prefix}/")) || prefix.is_empty()
        }
    }
}

#[test]
fn the_ingress_routes_the_api_and_never_the_probes() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let entries: Vec<Value> = rendered.one("Ingress")["spec"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|rule| {
                rule["http"]["paths"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        let takes = |path: &str| entries.iter().any(|entry| routed(entry, path));
        for public in ["/api/v1/items", "/api/openapi.json", "/api/docs/"] {
            failures.check(
                takes(public),
                v,
                format!("expected the Ingress to route {public}"),
            );
        }
        for probe in ["/health", "/health/ready"] {
            failures.check(
                !takes(probe),
                v,
                format!(
                    "expected the Ingress not to route the probe {probe}, saw paths {entries:?}"
                ),
            );
        }
    }
    failures.assert_none("Ingress paths");
}

/// The ports a variant's pods must reach, besides DNS: its database, cache and
/// telemetry backends, at their default URLs' ports, and HTTPS for the identity
/// provider's signing keys (and Sentry's).
fn egress_ports(v: &Variant) -> Vec<u64> {
    [
        (v.is("database", "postgres"), 5432),
        (v.on("redis"), 6379),
        (true, 443),
        (v.on("otel"), 4318),
    ]
    .into_iter()
    .filter_map(|(used, port)| used.then_some(port))
    .collect()
}

#[test]
fn the_pods_reach_dns_and_their_variants_services_only() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let rules = rendered.one("NetworkPolicy")["spec"]["egress"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let dns_only_to_kube_dns = rules.first().is_some_and(|dns| {
            dns["to"][0]["podSelector"]["matchLabels"]["k8s-app"] == "kube-dns"
                && dns["ports"].as_array().is_some_and(|ports| {
                    ports.len() == 2 && ports.iter().all(|port| port["port"] == 53)
                })
        });
        failures.check(
            dns_only_to_kube_dns,
            v,
            format!("expected a first egress rule to kube-dns on port 53, saw {rules:?}"),
        );
        let others: Vec<u64> = rules
            .iter()
            .skip(1)
            .flat_map(|rule| rule["ports"].as_array().cloned().unwrap_or_default())
            .map(|port| port["port"].as_u64().unwrap_or_default())
            .collect();
        let every_rule_has_ports = rules.iter().all(|rule| rule["ports"].is_array());
        failures.check(
            others == egress_ports(v) && every_rule_has_ports,
            v,
            format!(
                "expected egress to ports {:?} besides DNS, saw {rules:?}",
                egress_ports(v)
            ),
        );
    }
    failures.assert_none("egress");
}
