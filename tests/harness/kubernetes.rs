//! The Kubernetes manifests of every variant (`deploy/kubernetes/`): the base and the
//! production overlay rendered by `kubectl kustomize`, every object validated strictly
//! against the schemas of one Kubernetes release by kubernetes-validate, the overlay
//! scanned by checkov's Kubernetes checks, and each held to what the service is: its
//! routes and ports, its drain, its hardening and its settings.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    process::Command,
    sync::OnceLock,
};

use serde_json::Value;

use crate::helpers::{
    Failures, Project, Variant, all_projects, container_port, run, secrets_of, succeeded, tail,
    work_dir,
};

/// The Kubernetes release whose schemas the objects must match (kubernetes-validate ships it).
const KUBERNETES_VERSION: &str = "1.37.0";

/// The uid and gid of the image's user.
const SERVICE_UID: i64 = 65532;

/// What a field or object that is absent reads as.
static ABSENT: Value = Value::Null;

/// One variant's manifests, rendered.
struct Rendered {
    project: Project,
    /// The rendered YAML of `base` and of `production`, in that order.
    files: [PathBuf; 2],
    /// The production overlay's objects: what `kubectl apply -k` sends.
    objects: Vec<Value>,
}

/// Every variant rendered once per test process; a variant that fails to render is an error.
fn rendered() -> &'static [Result<Rendered, (Variant, String)>] {
    static RENDERED: OnceLock<Vec<Result<Rendered, (Variant, String)>>> = OnceLock::new();
    RENDERED.get_or_init(|| all_projects().into_iter().map(render).collect())
}

fn render(project: Project) -> Result<Rendered, (Variant, String)> {
    let v = project.variant;
    let out = work_dir().join("kubernetes").join(v.id());
    std::fs::create_dir_all(&out).map_err(|e| (v, e.to_string()))?;
    let mut files = Vec::new();
    let mut production = String::new();
    for overlay in ["base", "production"] {
        let output = run(project
            .command("kubectl")
            .args(["kustomize", &format!("deploy/kubernetes/{overlay}")]));
        let yaml = succeeded(
            &output,
            &format!("kubectl kustomize deploy/kubernetes/{overlay}"),
        )
        .map_err(|e| (v, e))?;
        let file = out.join(format!("{overlay}.yaml"));
        std::fs::write(&file, &yaml).map_err(|e| (v, e.to_string()))?;
        files.push(file);
        production = yaml;
    }
    let objects = production
        .split("\n---\n")
        .map(|document| {
            serde_yaml::from_str::<Value>(document)
                .map_err(|e| (v, format!("rendered YAML does not parse: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let files = [files[0].clone(), files[1].clone()];
    Ok(Rendered {
        project,
        files,
        objects,
    })
}

/// Each rendered variant; a variant that did not render is recorded as a failure.
fn each_rendered(failures: &mut Failures) -> Vec<&'static Rendered> {
    rendered()
        .iter()
        .filter_map(|rendering| match rendering {
            Ok(rendered) => Some(rendered),
            Err((variant, error)) => {
                failures.add(variant, error);
                None
            }
        })
        .collect()
}

impl Rendered {
    fn variant(&self) -> &Variant {
        &self.project.variant
    }

    fn all(&self, kind: &str) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|object| object["kind"] == kind)
            .collect()
    }

    fn one(&self, kind: &str) -> &Value {
        self.all(kind).first().copied().unwrap_or(&ABSENT)
    }

    fn pod(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]
    }

    /// The service's container, then the init containers.
    fn containers(&self) -> Vec<&Value> {
        let pod = self.pod();
        let listed = |field: &str| {
            pod[field]
                .as_array()
                .map(|list| list.iter().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        listed("containers")
            .into_iter()
            .chain(listed("initContainers"))
            .collect()
    }

    fn app(&self) -> &Value {
        self.containers()
            .into_iter()
            .find(|container| container["name"] == "app")
            .unwrap_or(&ABSENT)
    }

    /// Whether `selector` names the Deployment's pods by their labels.
    fn selects_pods(&self, selector: &Value) -> bool {
        let labels = &self.one("Deployment")["spec"]["template"]["metadata"]["labels"];
        selector["matchLabels"].as_object().is_some_and(|wanted| {
            !wanted.is_empty() && wanted.iter().all(|(key, value)| labels[key] == *value)
        })
    }

    /// The pods' volume of the Secret, if they mount one.
    fn secret_volume(&self) -> Option<&Value> {
        self.pod()["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|volume| volume["secret"].is_object())
    }

    /// The settings every pod reads: the ConfigMap's data.
    fn settings(&self) -> BTreeMap<String, String> {
        self.one("ConfigMap")["data"]
            .as_object()
            .map(|data| {
                data.iter()
                    .map(|(name, value)| {
                        (name.clone(), value.as_str().unwrap_or_default().to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn setting(&self, name: &str) -> Option<u64> {
        self.settings()
            .get(name)
            .and_then(|value| value.parse().ok())
    }
}

fn number(value: &Value) -> i64 {
    value.as_i64().unwrap_or(-1)
}

#[test]
fn every_variants_base_and_production_overlay_render() {
    let mut failures = Failures::default();
    let mut table = vec!["variant | objects (production) | kinds".to_owned()];
    for rendered in each_rendered(&mut failures) {
        let kinds: BTreeSet<&str> = rendered
            .objects
            .iter()
            .filter_map(|object| object["kind"].as_str())
            .collect();
        table.push(format!(
            "{} | {} | {}",
            rendered.variant(),
            rendered.objects.len(),
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    println!("\n{}", table.join("\n"));
    failures.assert_none("kustomize");
}

#[test]
fn every_rendered_object_validates_strictly_against_the_kubernetes_schemas() {
    let mut failures = Failures::default();
    let rendered = each_rendered(&mut failures);
    let files: Vec<&PathBuf> = rendered
        .iter()
        .flat_map(|rendered| &rendered.files)
        .collect();
    let output = run(Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .args(&files));
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + String::from_utf8_lossy(&output.stderr).as_ref();
    for rendered in &rendered {
        let base = rendered.files[0].to_string_lossy().into_owned();
        let production = rendered.files[1].to_string_lossy().into_owned();
        for line in report.lines().filter(|line| !line.starts_with("INFO")) {
            if line.contains(&base) || line.contains(&production) {
                failures.add(rendered.variant(), line);
            }
        }
        // Every object was checked, none skipped as of an unknown kind.
        let passed = report
            .lines()
            .filter(|line| line.starts_with(&format!("INFO {production} passed")))
            .count();
        failures.check(
            passed == rendered.objects.len(),
            rendered.variant(),
            format!(
                "{passed} of the {} production objects passed validation",
                rendered.objects.len()
            ),
        );
    }
    failures.check(
        output.status.success(),
        &rendered[0].project.variant,
        format!("kubernetes-validate failed:\n{}", tail(&output, 20)),
    );
    println!(
        "validated {} files against Kubernetes {KUBERNETES_VERSION}, strict",
        files.len()
    );
    failures.assert_none("kubernetes-validate");
}

#[test]
fn checkov_finds_nothing_in_the_production_manifests_that_they_do_not_justify() {
    let mut failures = Failures::default();
    let rendered = each_rendered(&mut failures);
    // checkov scans a directory: one holding every variant's production render, one scan.
    let scan = work_dir().join("kubernetes").join("checkov");
    std::fs::remove_dir_all(&scan).ok();
    std::fs::create_dir_all(&scan).expect("scan directory");
    for rendered in &rendered {
        std::fs::copy(
            &rendered.files[1],
            scan.join(format!("{}.yaml", rendered.variant().id())),
        )
        .expect("render copied");
    }
    let output = run(Command::new("checkov")
        .args([
            "--framework",
            "kubernetes",
            "--skip-download",
            "--output",
            "json",
            "--directory",
        ])
        .arg(&scan));
    let report: Value = match serde_json::from_slice(&output.stdout) {
        Ok(report) => report,
        Err(error) => panic!(
            "checkov printed no JSON report ({error}):\n{}",
            tail(&output, 30)
        ),
    };
    let variant_of = |check: &Value| {
        let file = check["file_path"].as_str().unwrap_or_default();
        rendered
            .iter()
            .find(|r| file.ends_with(&format!("/{}.yaml", r.variant().id())))
            .map(|r| r.project.variant)
    };
    for check in report["results"]["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let what = format!(
            "{} {} on {}",
            check["check_id"], check["check_name"], check["resource"]
        );
        match variant_of(check) {
            Some(variant) => failures.add(&variant, what),
            None => panic!("checkov failed a check on an unknown file: {what}"),
        }
    }
    let mut justified = BTreeSet::new();
    for check in report["results"]["skipped_checks"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let id = check["check_id"].as_str().unwrap_or_default();
        let Some(variant) = variant_of(check) else {
            continue;
        };
        let rendered = rendered
            .iter()
            .find(|r| r.project.variant == variant)
            .expect("rendered variant");
        // A skip is an annotation `checkov.io/skipN: ID=reason` on the object itself.
        let reason = rendered.objects.iter().find_map(|object| {
            object["metadata"]["annotations"]
                .as_object()?
                .iter()
                .find_map(|(key, value)| {
                    let (skipped, reason) = value.as_str()?.split_once('=')?;
                    (key.starts_with("checkov.io/skip") && skipped == id && reason.len() > 20)
                        .then(|| reason.to_owned())
                })
        });
        match reason {
            Some(reason) => {
                justified.insert(format!("{id}: {reason}"));
            }
            None => failures.add(
                &variant,
                format!("{id} is skipped without a reason on the object"),
            ),
        }
    }
    println!(
        "checkov: {} passed, {} failed, skipped with a reason: {justified:?}",
        report["summary"]["passed"], report["summary"]["failed"]
    );
    failures.check(
        report["summary"]["passed"].as_u64().unwrap_or(0) > 0,
        &rendered[0].project.variant,
        "checkov passed no check at all",
    );
    failures.assert_none("checkov");
}

#[test]
fn the_probes_and_ports_are_the_services_own() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let app = rendered.app();
        let openapi: Value = serde_json::from_str(&rendered.project.read("openapi.json"))
            .expect("openapi.json parses");
        for (probe, path) in [
            ("startupProbe", "/health"),
            ("livenessProbe", "/health"),
            ("readinessProbe", "/health/ready"),
        ] {
            let seen = &app[probe]["httpGet"];
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
        let image_port = i64::from(container_port(&rendered.project));
        let port = |name: &str| {
            app["ports"]
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
        let scrape_port = &rendered.one("Deployment")["spec"]["template"]["metadata"]["annotations"]
            ["prometheus.io/port"];
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
        // The readiness answer waits up to the service's per-dependency probe timeout.
        let state = rendered.project.read("src/state.rs");
        let probe_ms: i64 = state
            .split("PROBE_TIMEOUT: Duration = Duration::from_millis(")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(i64::MAX);
        let timeout = number(&app["readinessProbe"]["timeoutSeconds"]);
        failures.check(timeout * 1000 > probe_ms, v, format!("readinessProbe timeoutSeconds {timeout} does not outlast the service's {probe_ms} ms dependency checks"));
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

#[test]
fn every_container_runs_hardened_as_uid_65532_with_resources() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let pod = rendered.pod();
        let security = &pod["securityContext"];
        let mut expect = |ok: bool, what: String| failures.check(ok, v, what);
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
        let containers = rendered.containers();
        expect(
            containers.len() == 2,
            format!(
                "the service and the migrate init container, saw {}",
                containers.len()
            ),
        );
        for container in containers {
            let name = &container["name"];
            let security = &container["securityContext"];
            expect(
                security["allowPrivilegeEscalation"] == false
                    && security["readOnlyRootFilesystem"] == true,
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
        let namespace = rendered.one("Namespace");
        expect(
            namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted",
            format!("the namespace enforces the restricted Pod Security Standard: {namespace}"),
        );
    }
    failures.assert_none("hardening");
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
        let (hpa, pdb) = (
            rendered.one("HorizontalPodAutoscaler"),
            rendered.one("PodDisruptionBudget"),
        );
        if v.is("database", "sqlite") {
            failures.check(
                number(&deployment["replicas"]) == 1
                    && deployment["strategy"]["type"] == "Recreate",
                v,
                format!("SQLite: one replica, Recreate: {}", deployment["strategy"]),
            );
            failures.check(
                hpa.is_null() && pdb.is_null(),
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
        } else {
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
                format!(
                    "Postgres: an autoscaling/v2 HPA on the Deployment, two pods at least: {hpa}"
                ),
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
    }
    failures.assert_none("replicas");
}

#[test]
fn secrets_are_files_from_a_secret_and_never_in_the_config_map() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let secrets = secrets_of(v);
        let volume = rendered.secret_volume();
        failures.check(
            volume.is_some() != secrets.is_empty(),
            v,
            format!("a Secret volume exactly when there are secrets ({secrets:?}): {volume:?}"),
        );
        if let Some(volume) = volume {
            // Kubernetes makes the files root's: the service reads them through its group.
            let mode = number(&volume["secret"]["defaultMode"]);
            failures.check(
                mode & 0o040 != 0 && mode & 0o007 == 0,
                v,
                format!("the secret files readable by the group and no one else: mode {mode:o}"),
            );
        }
        for container in rendered.containers() {
            let name = &container["name"];
            let env = &container["env"];
            failures.check(
                !env.to_string().contains("secretKeyRef"),
                v,
                format!("{name}: a secret in an environment variable: {env}"),
            );
            let mount = container["volumeMounts"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|mount| volume.is_some_and(|volume| volume["name"] == mount["name"]));
            for secret in &secrets {
                let file = env
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|var| var["name"] == format!("{secret}_FILE"))
                    .and_then(|var| var["value"].as_str());
                let expected = mount.map(|mount| {
                    format!(
                        "{}/{}",
                        mount["mountPath"].as_str().unwrap_or_default(),
                        secret.to_ascii_lowercase()
                    )
                });
                failures.check(file.is_some() && file.map(str::to_owned) == expected, v, format!("{name}: {secret}_FILE: expected {expected:?} in the read-only secret mount, saw {file:?}"));
                failures.check(
                    mount.is_some_and(|mount| mount["readOnly"] == true),
                    v,
                    format!("{name}: the secret mount is read-only: {mount:?}"),
                );
            }
        }
        let settings = rendered.settings();
        for secret in &secrets {
            failures.check(
                !settings.contains_key(*secret),
                v,
                format!("{secret} is a secret but the ConfigMap holds it"),
            );
        }
    }
    failures.assert_none("secrets");
}

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

#[test]
fn the_manifests_set_every_setting_as_the_production_env_template_does() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let project = &rendered.project;
        let read = crate::helpers::settings::variables_read_by_the_service(project);
        let example = env_values(&project.read(".env.production.example"));
        let overridden = env_values(&project.read("deploy/kubernetes/production/config.env"));
        let settings = rendered.settings();
        let files: BTreeSet<String> = secrets_of(v).into_iter().map(str::to_owned).collect();
        for variable in &read {
            // HOST and PORT are the image's own (Dockerfile ENV).
            let set = settings.contains_key(variable)
                || files.contains(variable)
                || ["HOST", "PORT"].contains(&variable.as_str());
            failures.check(set, v, format!("{variable} is read by the service but the manifests neither set it nor mount it"));
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
                    format!(
                        "{name}: expected production/config.env's {production:?}, saw {value:?}"
                    ),
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

#[test]
fn the_documented_secret_command_creates_the_secret_the_pods_mount() {
    let mut failures = Failures::default();
    for rendered in each_rendered(&mut failures) {
        let v = rendered.variant();
        let docs = rendered.project.read("docs/deployment.md");
        let command = docs
            .lines()
            .map(str::trim)
            .find(|line| line.contains("create secret generic"));
        let volume = rendered.secret_volume();
        let (Some(command), Some(volume)) = (command, volume) else {
            failures.check(command.is_none() && volume.is_none(), v, format!("a documented secret command exactly when the pods mount a Secret: {command:?}, {volume:?}"));
            continue;
        };
        // Run as written, from a directory holding the secrets/ files it names, without a cluster.
        let dir = work_dir()
            .join("kubernetes")
            .join(v.id())
            .join("secret-command");
        std::fs::create_dir_all(dir.join("secrets")).expect("secrets directory");
        for secret in secrets_of(v) {
            std::fs::write(
                dir.join("secrets").join(secret.to_ascii_lowercase()),
                "value\n",
            )
            .expect("secret file");
        }
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        let output = run(Command::new("kubectl")
            .current_dir(&dir)
            .env("KUBECONFIG", "/nonexistent")
            .args(&words)
            .args(["--dry-run=client", "--output", "json"]));
        let secret: Value = match succeeded(&output, command)
            .and_then(|json| serde_json::from_str(&json).map_err(|e| e.to_string()))
        {
            Ok(secret) => secret,
            Err(error) => {
                failures.add(v, error);
                continue;
            }
        };
        let keys: BTreeSet<String> = secret["data"]
            .as_object()
            .map(|data| data.keys().cloned().collect())
            .unwrap_or_default();
        let wanted: BTreeSet<String> = secrets_of(v)
            .into_iter()
            .map(str::to_ascii_lowercase)
            .collect();
        failures.check(
            keys == wanted,
            v,
            format!("the Secret's keys: expected {wanted:?}, saw {keys:?}"),
        );
        failures.check(
            secret["metadata"]["name"] == volume["secret"]["secretName"],
            v,
            format!(
                "the Secret is named {}, the pods mount {}",
                secret["metadata"]["name"], volume["secret"]["secretName"]
            ),
        );
        failures.check(
            secret["metadata"]["namespace"] == rendered.one("Deployment")["metadata"]["namespace"],
            v,
            format!(
                "the Secret goes to namespace {}, the pods run in {}",
                secret["metadata"]["namespace"],
                rendered.one("Deployment")["metadata"]["namespace"]
            ),
        );
    }
    failures.assert_none("secret command");
}
