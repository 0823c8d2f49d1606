//! The profiles of `compose.production.yml`: the one-shot migrate job and the
//! TLS-terminating proxy, which must be as hardened and limited as the app.

use serde_json::Value;

use super::{production_config, production_stack};
use crate::helpers::{Failures, all_projects};

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
