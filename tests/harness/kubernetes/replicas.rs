//! How many pods each database allows: SQLite one, recreated, on its claim; Postgres
//! rolling, autoscaled and held by a disruption budget.

use super::{Rendered, each_rendered, number};
use crate::helpers::Failures;

/// SQLite: one pod, recreated, never scaled, its claim mounted on /data in every container.
fn sqlite_runs_one_pod_on_its_claim(failures: &mut Failures, rendered: &Rendered) {
    let v = rendered.variant();
    let deployment = &rendered.one("Deployment")["spec"];
    failures.check(
        number(&deployment["replicas"]) == 1 && deployment["strategy"]["type"] == "Recreate",
        v,
        format!("SQLite: one replica, Recreate: {}", deployment["strategy"]),
    );
    failures.check(
        rendered.one("HorizontalPodAutoscaler").is_null()
            && rendered.one("PodDisruptionBudget").is_null(),
        v,
        "SQLite: never scaled: no HorizontalPodAutoscaler or PodDisruptionBudget",
    );
    let claim = &rendered.one("PersistentVolumeClaim")["metadata"]["name"];
    let volumes = rendered.pod()["volumes"].to_string();
    failures.check(
        claim.is_string() && volumes.contains(&format!(r#""claimName":{claim}"#)),
        v,
        format!("SQLite: the claim {claim} is a volume: {volumes}"),
    );
    for container in rendered.containers() {
        let mounted = container["volumeMounts"].to_string();
        failures.check(
            mounted.contains(r#""mountPath":"/data""#),
            v,
            format!(
                "SQLite: {} mounts the data volume on /data: {mounted}",
                container["name"]
            ),
        );
    }
}

/// Postgres: rolling updates that never go below the replicas, an autoscaler that owns
/// the count, a disruption budget, no volume.
fn postgres_scales_with_a_budget(failures: &mut Failures, rendered: &Rendered) {
    let v = rendered.variant();
    let deployment = &rendered.one("Deployment")["spec"];
    let (hpa, pdb) = (
        rendered.one("HorizontalPodAutoscaler"),
        rendered.one("PodDisruptionBudget"),
    );
    let rolling = &deployment["strategy"]["rollingUpdate"];
    failures.check(
        deployment["strategy"]["type"] == "RollingUpdate"
            && number(&rolling["maxUnavailable"]) == 0,
        v,
        format!(
            "Postgres: rolling, never below the replicas: {}",
            deployment["strategy"]
        ),
    );
    failures.check(
        hpa["apiVersion"] == "autoscaling/v2"
            && hpa["spec"]["scaleTargetRef"]["name"]
                == rendered.one("Deployment")["metadata"]["name"]
            && number(&hpa["spec"]["minReplicas"]) >= 2,
        v,
        format!("Postgres: an autoscaling/v2 HPA on the Deployment, two pods at least: {hpa}"),
    );
    failures.check(
        rendered.selects_pods(&pdb["spec"]["selector"])
            && number(&pdb["spec"]["maxUnavailable"]) == 1,
        v,
        format!("Postgres: a disruption budget on the pods: {pdb}"),
    );
    failures.check(
        rendered.one("PersistentVolumeClaim").is_null(),
        v,
        "Postgres: no volume",
    );
    failures.check(
        deployment["replicas"].is_null(),
        v,
        format!(
            "Postgres: the autoscaler owns the replica count, the Deployment sets {}",
            deployment["replicas"]
        ),
    );
}

#[test]
fn sqlite_runs_one_recreated_pod_and_postgres_scales_with_a_budget() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let deployment = &rendered.one("Deployment")["spec"];
        failures.check(
            rendered.selects_pods(&deployment["selector"]),
            v,
            format!(
                "the Deployment's selector matches its pods: {}",
                deployment["selector"]
            ),
        );
        if v.is("database", "sqlite") {
            sqlite_runs_one_pod_on_its_claim(&mut failures, rendered);
        } else {
            postgres_scales_with_a_budget(&mut failures, rendered);
        }
    }
    failures.assert_none("replicas");
}
