//! The pod as the service needs it: probes on its own routes and ports, a grace
//! period that covers the drain, and every container hardened and resourced.

use serde_json::Value;

use super::{Rendered, SERVICE_UID, each_rendered, number};
use crate::helpers::{Failures, container_port};

/// Each probe on a route the service has (in its OpenAPI document), on port http.
fn probes_hit_the_services_routes(failures: &mut Failures, rendered: &Rendered) {
    let v = rendered.variant();
    let openapi: Value =
        serde_json::from_str(&rendered.project.read("openapi.json")).expect("openapi.json parses");
    for (probe, path) in [
        ("startupProbe", "/health"),
        ("livenessProbe", "/health"),
        ("readinessProbe", "/health/ready"),
    ] {
        let seen = &rendered.app()[probe]["httpGet"];
        failures.check(
            seen["path"] == path && seen["port"] == "http",
            v,
            format!("{probe}: expected GET {path} on port http, saw {seen}"),
        );
        failures.check(
            openapi["paths"][path]["get"].is_object(),
            v,
            format!("{probe}: the service has no GET {path} route"),
        );
    }
    // Readiness answers from a background check: each probe period must see a new one.
    let readiness = rendered.project.read("src/readiness.rs");
    let millis = |constant: &str| -> i64 {
        readiness
            .split(&format!("{constant}: Duration = Duration::from_millis("))
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(i64::MAX / 2)
    };
    let oldest = millis("CHECK_INTERVAL") + millis("PROBE_TIMEOUT");
    let period = number(&rendered.app()["readinessProbe"]["periodSeconds"]);
    failures.check(
        period * 1000 > oldest,
        v,
        format!("readinessProbe periodSeconds {period} is not above the age of the service's readiness state, up to {oldest} ms"),
    );
}

/// The container's ports are the image's PORT and METRICS_PORT; the scraper and the
/// Service use them by those names.
fn ports_are_the_services(failures: &mut Failures, rendered: &Rendered) {
    let v = rendered.variant();
    let image_port = i64::from(container_port(&rendered.project));
    let port = |name: &str| {
        rendered.app()["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|port| port["name"] == name)
            .map(|port| number(&port["containerPort"]))
    };
    failures.check(
        port("http") == Some(image_port),
        v,
        format!(
            "container port http: expected the image's PORT {image_port}, saw {:?}",
            port("http")
        ),
    );
    let metrics = rendered.setting("METRICS_PORT").map(|port| port as i64);
    failures.check(
        metrics.is_some() && port("metrics") == metrics,
        v,
        format!(
            "container port metrics: expected METRICS_PORT {metrics:?}, saw {:?}",
            port("metrics")
        ),
    );
    let scrape_port = &rendered.one("Deployment")["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"];
    failures.check(
        metrics.is_some_and(|port| scrape_port.as_str() == Some(&port.to_string())),
        v,
        format!("prometheus.io/port: expected METRICS_PORT {metrics:?}, saw {scrape_port}"),
    );
    let service_port = &rendered.one("Service")["spec"]["ports"];
    failures.check(
        service_port.to_string().contains(r#""targetPort":"http""#)
            && !service_port.to_string().contains("metrics"),
        v,
        format!("the Service forwards to port http only: {service_port}"),
    );
}

#[test]
fn the_probes_and_ports_are_the_services_own() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        probes_hit_the_services_routes(&mut failures, rendered);
        ports_are_the_services(&mut failures, rendered);
    }
    failures.assert_none("probes and ports");
}

#[test]
fn the_grace_period_outlasts_the_prestop_delay_and_the_drain() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let grace = number(&rendered.pod()["terminationGracePeriodSeconds"]);
        let delay = number(&rendered.app()["lifecycle"]["preStop"]["sleep"]["seconds"]);
        let drain = rendered.setting("SHUTDOWN_TIMEOUT_SECS").map(|s| s as i64);
        failures.check(
            delay > 0,
            v,
            format!(
                "preStop: expected a sleep before SIGTERM, saw {}",
                rendered.app()["lifecycle"]
            ),
        );
        failures.check(drain.is_some_and(|drain| grace > delay + drain), v, format!("terminationGracePeriodSeconds {grace} <= preStop {delay} s + SHUTDOWN_TIMEOUT_SECS {drain:?}"));
    }
    failures.assert_none("grace period");
}

/// Records `what` when `ok` does not hold.
type Expect<'a> = dyn FnMut(bool, String) + 'a;

/// The pod: non-root as the image's user, seccomp, no service-account token.
fn pod_is_hardened(rendered: &Rendered, expect: &mut Expect) {
    let pod = rendered.pod();
    let security = &pod["securityContext"];
    expect(
        security["runAsNonRoot"] == true
            && number(&security["runAsUser"]) == SERVICE_UID
            && number(&security["runAsGroup"]) == SERVICE_UID,
        format!("pod: non-root as {SERVICE_UID}: {security}"),
    );
    expect(
        security["seccompProfile"]["type"] == "RuntimeDefault",
        format!("pod: seccomp RuntimeDefault: {security}"),
    );
    // The group that owns the mounted secrets and volumes, so the service can read them.
    expect(
        number(&security["fsGroup"]) == SERVICE_UID,
        format!("pod: fsGroup {SERVICE_UID}: {security}"),
    );
    expect(
        pod["automountServiceAccountToken"] == false,
        "pod: no service-account token".into(),
    );
    let account = rendered.one("ServiceAccount");
    expect(
        account["metadata"]["name"] == pod["serviceAccountName"]
            && account["automountServiceAccountToken"] == false,
        format!("its own service account, without a token: {account}"),
    );
}

/// A container: no privilege escalation, read-only root, no capability, resources set.
fn container_is_hardened(container: &Value, expect: &mut Expect) {
    let name = &container["name"];
    let security = &container["securityContext"];
    expect(
        security["allowPrivilegeEscalation"] == false && security["readOnlyRootFilesystem"] == true,
        format!("{name}: no privilege escalation, read-only root: {security}"),
    );
    expect(
        security["capabilities"]["drop"] == serde_json::json!(["ALL"])
            && security["capabilities"]["add"].is_null(),
        format!("{name}: every capability dropped: {security}"),
    );
    let resources = &container["resources"];
    let set = |side: &str| {
        ["cpu", "memory"]
            .iter()
            .all(|resource| resources[side][resource].is_string())
    };
    expect(
        set("requests") && set("limits"),
        format!("{name}: CPU and memory requests and limits: {resources}"),
    );
}

#[test]
fn every_container_runs_hardened_as_uid_65532_with_resources() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let mut expect = |ok: bool, what: String| failures.check(ok, v, what);
        pod_is_hardened(rendered, &mut expect);
        let containers = rendered.containers();
        expect(
            containers.len() == 2,
            format!(
                "the service and the migrate init container, saw {}",
                containers.len()
            ),
        );
        for container in containers {
            container_is_hardened(container, &mut expect);
        }
        let namespace = rendered.one("Namespace");
        expect(
            namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted",
            format!("the namespace enforces the restricted Pod Security Standard: {namespace}"),
        );
    }
    failures.assert_none("hardening");
}
