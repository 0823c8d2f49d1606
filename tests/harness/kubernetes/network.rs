//! Who reaches the pods: the NetworkPolicy admits the ingress controller and the
//! scraper only, and the Ingress serves the Service's http port over TLS.

use super::each_rendered;
use crate::helpers::Failures;

#[test]
fn only_the_ingress_controller_and_the_scraper_reach_the_pods() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let policy = &rendered.one("NetworkPolicy")["spec"];
        failures.check(
            rendered.selects_pods(&policy["podSelector"])
                && policy["policyTypes"] == serde_json::json!(["Ingress"]),
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
