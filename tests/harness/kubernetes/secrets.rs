//! Secrets on Kubernetes: files of a Secret volume named by `NAME_FILE`, never in the
//! ConfigMap or an environment variable, and the documented command that creates the
//! Secret the pods mount.

use std::{collections::BTreeSet, process::Command};

use serde_json::Value;

use super::{Rendered, each_rendered, number};
use crate::helpers::{Failures, Variant, run, secrets_of, succeeded, work_dir};

/// `container` reads no secret from its environment and each of `secrets` from a file
/// of the read-only mount of the Secret `volume`.
fn container_reads_secrets_as_files(
    failures: &mut Failures,
    v: &Variant,
    container: &Value,
    volume: Option<&Value>,
    secrets: &[&str],
) {
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
    for secret in secrets {
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
            container_reads_secrets_as_files(&mut failures, v, container, volume, &secrets);
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

/// The Secret `command` (a documented `kubectl create secret generic` line) creates, run
/// as written, without a cluster, from a directory holding the `secrets/` files it names.
fn secret_created_by(v: &Variant, command: &str) -> Result<Value, String> {
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
    succeeded(&output, command)
        .and_then(|json| serde_json::from_str(&json).map_err(|e| e.to_string()))
}

/// The Secret has the keys the pods read, the name they mount and their namespace.
fn secret_is_the_one_mounted(
    failures: &mut Failures,
    rendered: &Rendered,
    secret: &Value,
    volume: &Value,
) {
    let v = rendered.variant();
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
    let namespace = &rendered.one("Deployment")["metadata"]["namespace"];
    failures.check(
        secret["metadata"]["namespace"] == *namespace,
        v,
        format!(
            "the Secret goes to namespace {}, the pods run in {namespace}",
            secret["metadata"]["namespace"],
        ),
    );
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
        match secret_created_by(v, command) {
            Ok(secret) => secret_is_the_one_mounted(&mut failures, rendered, &secret, volume),
            Err(error) => failures.add(v, error),
        }
    }
    failures.assert_none("secret command");
}
