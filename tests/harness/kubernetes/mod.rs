//! The Kubernetes manifests of every variant (`deploy/kubernetes/`): the base and the
//! production overlay rendered by `kubectl kustomize`, every object validated strictly
//! against the schemas of one Kubernetes release by kubernetes-validate, the overlay
//! scanned by checkov's Kubernetes checks, and each held to what the service is: its
//! routes and ports, its drain, its hardening and its settings. The checks, by module:
//! - `validate`: every variant's base and production overlay render; every rendered
//!   object validates strictly against the Kubernetes schemas; checkov finds nothing in
//!   the production manifests that they do not justify on the object;
//! - `pods`: the probes and ports are the service's own (routes in its OpenAPI document,
//!   the image's port, METRICS_PORT, a readiness period above the age of its background check);
//!   the grace period outlasts the preStop delay and the drain; every container runs
//!   hardened as uid 65532 with resources, in a restricted namespace;
//! - `replicas`: SQLite runs one recreated pod on its claim; Postgres rolls, scales with
//!   an autoscaler and keeps a disruption budget;
//! - `secrets`: secrets are files from a Secret and never in the ConfigMap; the
//!   documented secret command creates the Secret the pods mount;
//! - `settings`: migrations run in an init container of the same image; the manifests
//!   set every setting as the production env template does; every connection holding a
//!   full MAX_HEADER_BYTES buffer fits in half the pod's memory limit;
//! - `network`: only the ingress controller and the scraper reach the pods; the pods
//!   reach the cluster's DNS and their variant's services' ports only; the Ingress
//!   serves the Service over TLS, routing the API and its docs, never the probes.

use std::{collections::BTreeMap, path::PathBuf, sync::OnceLock};

use serde_json::Value;

use crate::helpers::{Failures, Project, Variant, all_projects, run, succeeded, work_dir};

mod network;
mod pods;
mod replicas;
mod secrets;
mod settings;
mod validate;

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
