//! The profiles of `compose.production.yml`: the one-shot migrate job and the
//! TLS-terminating proxy, which must be as hardened and limited as the app.

use std::process::Command;

use serde_json::Value;

use super::{production_config, production_stack};
use crate::helpers::{
    Failures, Project, all_projects, clean_env, copy_of, git, project_name, run, succeeded,
};

#[test]
fn the_migrate_and_proxy_profiles_are_valid() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let config = match production_stack(&project) {
            Ok(config) => config,
            Err(error) => {
                failures.add(
                    v,
                    format!("profiles migrate and proxy: config failed:\n{error}"),
                );
                continue;
            }
        };
        let migrate = &config["services"]["migrate"];
        failures.check(
            migrate["command"] == serde_json::json!(["migrate"]),
            v,
            format!("migrate runs `migrate`: {migrate}"),
        );
        failures.check(
            migrate.get("ports").is_none(),
            v,
            "migrate publishes no port",
        );
        let proxy_ports = config["services"]["proxy"]["ports"].to_string();
        failures.check(
            proxy_ports.contains("443") && proxy_ports.contains("80"),
            v,
            format!("proxy publishes 80 and 443: {proxy_ports}"),
        );
        let proxy_volumes = config["services"]["proxy"]["volumes"].to_string();
        failures.check(
            proxy_volumes.contains(r#""target":"/etc/caddy/Caddyfile""#)
                && proxy_volumes.contains(r#""read_only":true"#),
            v,
            format!("proxy reads the project's Caddyfile, read-only: {proxy_volumes}"),
        );
    }
    failures.assert_none("compose profiles");
}

/// Read-only but for the paths Caddy writes, one capability, no new privileges.
fn is_confined(proxy: &Value, expect: &mut dyn FnMut(bool, &str)) {
    expect(proxy["read_only"] == true, "read-only root filesystem");
    expect(
        proxy["tmpfs"].to_string().contains("/tmp"),
        "a tmpfs on /tmp",
    );
    let targets: Vec<String> = proxy["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|volume| volume["target"].to_string())
        .collect();
    expect(
        ["/data", "/config"]
            .iter()
            .all(|path| targets.contains(&format!("\"{path}\""))),
        "volumes for /data and /config, the paths Caddy writes",
    );
    expect(
        proxy["cap_drop"] == serde_json::json!(["ALL"]),
        "cap_drop: [ALL]",
    );
    expect(
        proxy["cap_add"] == serde_json::json!(["NET_BIND_SERVICE"]),
        "cap_add: [NET_BIND_SERVICE] only",
    );
    expect(
        proxy["security_opt"]
            .to_string()
            .contains("no-new-privileges:true"),
        "no-new-privileges",
    );
}

#[test]
fn the_proxy_is_hardened_limited_and_health_checked() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let config = match production_config(&project, &["--profile", "proxy"]) {
            Ok(config) => config,
            Err(error) => {
                failures.add(v, format!("the proxy profile: config failed:\n{error}"));
                continue;
            }
        };
        let proxy = &config["services"]["proxy"];
        let mut expect =
            |ok: bool, what: &str| failures.check(ok, v, format!("proxy: {what}; saw {proxy}"));
        is_confined(proxy, &mut expect);
        expect(
            proxy["healthcheck"]["test"]
                .as_array()
                .is_some_and(|test| test.len() > 1),
            "a healthcheck",
        );
        let limits = &proxy["deploy"]["resources"]["limits"];
        expect(
            !limits["cpus"].is_null() && !limits["memory"].is_null(),
            "CPU and memory limits",
        );
        expect(
            proxy["logging"]["options"]["max-size"].is_string(),
            "log rotation",
        );
    }
    failures.assert_none("proxy hardening");
}

/// A network the engine has, with a subnet of its own choosing, removed on drop.
struct DockerNetwork(String);

impl DockerNetwork {
    fn create(name: &str, subnet: &str, labels: &[&str]) -> Self {
        let mut create = Command::new("docker");
        create.args(["network", "create", "--subnet", subnet]);
        for label in labels {
            create.args(["--label", label]);
        }
        let created = run(create.arg(name));
        succeeded(&created, &format!("docker network create {name}"))
            .unwrap_or_else(|error| panic!("{error}"));
        Self(name.to_owned())
    }
}

impl Drop for DockerNetwork {
    fn drop(&mut self) {
        run(Command::new("docker").args(["network", "rm", &self.0]));
    }
}

/// deploy.sh with `NETWORK_PREFIX=prefix`, in a copy of `project` that is a repository of
/// its own with everything committed and no remote: past its checks, deploy.sh says it
/// updates to origin/main and stops at the fetch (in the nearest repository, which would
/// otherwise be this harness's).
fn deploy_sh_with_network_prefix(project: &Project, prefix: &str) -> (Option<i32>, String, String) {
    let copy = copy_of(
        project,
        &format!("network-prefix-{prefix}/{}", project.variant.id()),
    );
    let example = copy.read(".env.production.example");
    std::fs::write(
        copy.dir.join(".env.prefix"),
        format!("{example}\nNETWORK_PREFIX={prefix}\n"),
    )
    .expect("settings written");
    for args in [
        &["init", "--quiet"][..],
        &["add", "--all"],
        &["commit", "--quiet", "-m", "copy"],
    ] {
        git(&copy.dir, args);
    }
    let output = clean_env(&mut copy.command("scripts/deploy.sh"))
        .args(["--env-secrets", "--env-file", ".env.prefix"])
        .output()
        .expect("deploy.sh runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    )
}

/// compose.production.yml gives the stack the subnet `NETWORK_PREFIX.0/24`, which the
/// engine refuses when another network overlaps it, naming no setting. deploy.sh stops
/// first, naming the setting and the network, before it fetches, builds or starts anything.
#[test]
fn deploy_sh_stops_naming_network_prefix_when_another_network_overlaps_its_subnet() {
    let name = format!("harness-overlap-{}", std::process::id());
    let network = DockerNetwork::create(&name, "10.95.0.0/16", &[]);
    let mut failures = Failures::default();
    for project in all_projects() {
        let (code, stderr, stdout) = deploy_sh_with_network_prefix(&project, "10.95.7");
        failures.check(
            code == Some(1)
                && stderr.contains("10.95.7.0/24 (NETWORK_PREFIX")
                && stderr.contains(&format!("overlaps docker network {name} (10.95.0.0/16)"))
                && stdout.is_empty(),
            &project.variant,
            format!("expected exit 1 naming NETWORK_PREFIX and {name}, with nothing done; saw {code:?}, stderr `{stderr}`, stdout `{stdout}`"),
        );
    }
    drop(network);
    failures.assert_none("deploy.sh with an overlapping network");
}

/// The stack's own network, left from the deploy before, has its subnet: deploy.sh
/// takes it for what it is.
#[test]
fn deploy_sh_goes_on_past_the_stacks_own_network() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let label = format!("com.docker.compose.project={}", project_name(v));
        let own = DockerNetwork::create(
            &format!("harness-own-{}", std::process::id()),
            "10.97.7.0/24",
            &[&label],
        );
        let (code, stderr, stdout) = deploy_sh_with_network_prefix(&project, "10.97.7");
        drop(own);
        failures.check(
            stdout.contains("==> updating to origin/main") && !stderr.contains("overlaps"),
            v,
            format!("expected deploy.sh past the network check; saw {code:?}, stderr `{stderr}`, stdout `{stdout}`"),
        );
    }
    failures.assert_none("deploy.sh beside its own network");
}

/// A `NETWORK_PREFIX` that is not three numbers of an IPv4 address stops deploy.sh naming
/// the setting, before it changes anything.
#[test]
fn deploy_sh_stops_naming_a_network_prefix_that_is_not_three_numbers() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let (code, stderr, stdout) = deploy_sh_with_network_prefix(&project, "10.1");
        failures.check(
            code == Some(1) && stderr.contains("NETWORK_PREFIX=10.1 is not") && stdout.is_empty(),
            &project.variant,
            format!("expected exit 1 naming NETWORK_PREFIX=10.1, with nothing done; saw {code:?}, stderr `{stderr}`, stdout `{stdout}`"),
        );
    }
    failures.assert_none("deploy.sh with a malformed NETWORK_PREFIX");
}
