//! `compose.production.yml` as Docker Compose reads it with the example settings:
//! the app's production properties, the required variables, the published address
//! and images pinned by digest.

use serde_json::Value;

use super::{compose, config_of, example_with, production_config, production_stack};
use crate::helpers::{
    Failures, Variant, all_projects,
    memory::{self, ClientBuffers},
    project_name,
};

/// Records `what` about the app when `ok` does not hold.
type Expect<'a> = dyn FnMut(bool, &str) + 'a;

fn seconds(duration: &Value) -> Option<u64> {
    let text = duration.as_str()?;
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let number: u64 = number.parse().ok()?;
    match unit {
        "s" => Some(number),
        "m" | "m0s" => Some(number * 60),
        _ => None,
    }
}

/// The released image, restarted, health-checked, limited, its logs rotated.
fn runs_the_released_image(app: &Value, expect: &mut Expect) {
    expect(app.get("build").is_none(), "no build section");
    expect(
        app["image"]
            .as_str()
            .is_some_and(|image| image.ends_with(":0.1.0") && image.contains('/')),
        "image IMAGE:IMAGE_TAG from the env file",
    );
    expect(
        app["restart"] == "unless-stopped",
        "restart: unless-stopped",
    );
    expect(
        app["healthcheck"]["test"]
            .to_string()
            .contains("healthcheck"),
        "healthcheck runs the binary's healthcheck",
    );
    expect(
        app["healthcheck"]["interval"].is_string() && app["healthcheck"]["retries"].is_number(),
        "healthcheck timings",
    );
    let limits = &app["deploy"]["resources"]["limits"];
    let reservations = &app["deploy"]["resources"]["reservations"];
    expect(
        limits["cpus"].is_number() || limits["cpus"].is_string(),
        "a CPU limit",
    );
    expect(
        limits["memory"].is_string() || limits["memory"].is_number(),
        "a memory limit",
    );
    expect(
        reservations["memory"].is_string() || reservations["memory"].is_number(),
        "a memory reservation",
    );
    expect(app["logging"]["driver"] == "json-file", "json-file logging");
    expect(
        app["logging"]["options"]["max-size"] == "10m"
            && app["logging"]["options"]["max-file"] == "5",
        "log rotation 10m x 5",
    );
}

/// Read-only, on a tmpfs, without capabilities or new privileges, drained before SIGKILL.
fn is_confined_and_drains(app: &Value, expect: &mut Expect) {
    expect(app["read_only"] == true, "read-only root filesystem");
    expect(app["tmpfs"].to_string().contains("/tmp"), "a tmpfs on /tmp");
    expect(
        app["cap_drop"] == serde_json::json!(["ALL"]),
        "cap_drop: [ALL]",
    );
    expect(
        app["security_opt"]
            .to_string()
            .contains("no-new-privileges:true"),
        "no-new-privileges",
    );
    let drain = app["environment"]["SHUTDOWN_TIMEOUT_SECS"]
        .as_str()
        .and_then(|s| s.parse::<u64>().ok());
    let grace = seconds(&app["stop_grace_period"]);
    expect(
        matches!((drain, grace), (Some(drain), Some(grace)) if grace > drain),
        "stop_grace_period longer than SHUTDOWN_TIMEOUT_SECS",
    );
}

/// One port, on loopback; the metrics port on the compose network only.
fn publishes_one_port_on_loopback(app: &Value, expect: &mut Expect) {
    let ports = app["ports"].as_array().cloned().unwrap_or_default();
    expect(ports.len() == 1, "exactly one published port");
    expect(
        ports.iter().all(|port| port["host_ip"] == "127.0.0.1"),
        "the port published on loopback by default",
    );
    let metrics_port = app["environment"]["METRICS_PORT"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    expect(
        !metrics_port.is_empty() && app["expose"].to_string().contains(&metrics_port),
        "METRICS_PORT set and exposed to the compose network",
    );
    expect(
        ports.iter().all(|port| {
            port["target"].as_u64().map(|target| target.to_string()) != Some(metrics_port.clone())
        }),
        "the metrics port never published",
    );
}

/// The volume and replicas its database allows, and the settings compose fixes.
fn keeps_its_data_and_settings(app: &Value, v: &Variant, expect: &mut Expect) {
    let volumes = app["volumes"].as_array().cloned().unwrap_or_default();
    expect(
        volumes.iter().all(|volume| volume["type"] != "bind"),
        "no bind mount of the source",
    );
    if v.is("database", "postgres") {
        expect(volumes.is_empty(), "no volume: Postgres is external");
    } else {
        expect(
            volumes
                .iter()
                .any(|volume| volume["target"] == "/data" && volume["type"] == "volume"),
            "a volume on /data for SQLite",
        );
        expect(app["deploy"]["replicas"] == 1, "one replica for SQLite");
    }
    let environment = app["environment"].as_object().cloned().unwrap_or_default();
    expect(
        environment
            .get("APP_ENV")
            .is_some_and(|env| env == "production"),
        "APP_ENV=production",
    );
    expect(
        environment.contains_key("REDIS_URL") == v.on("redis"),
        "REDIS_URL exactly when Redis is chosen",
    );
}

#[test]
fn the_production_compose_file_has_every_production_property() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let config = match production_config(&project, &[]) {
            Ok(config) => config,
            Err(error) => {
                failures.add(v, format!("compose.production.yml config failed:\n{error}"));
                continue;
            }
        };
        let services = config["services"].as_object().expect("services");
        let names: Vec<&String> = services.keys().collect();
        failures.check(
            names == ["app"],
            v,
            format!("services without a profile: expected [app], saw {names:?}"),
        );
        let app = &config["services"]["app"];
        let mut expect =
            |ok: bool, what: &str| failures.check(ok, v, format!("app: {what}; saw {app}"));
        runs_the_released_image(app, &mut expect);
        is_confined_and_drains(app, &mut expect);
        publishes_one_port_on_loopback(app, &mut expect);
        keeps_its_data_and_settings(app, v, &mut expect);
    }
    failures.assert_none("compose.production.yml");
}

#[test]
fn a_missing_required_variable_stops_compose_naming_it() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let mut required = vec!["IMAGE_TAG"];
        if v.is("database", "postgres") {
            required.push("DATABASE_URL");
        }
        if v.on("redis") {
            required.push("REDIS_URL");
        }
        let example = project.read(".env.production.example");
        for variable in required {
            let without: String = example
                .lines()
                .filter(|line| !line.starts_with(&format!("{variable}=")))
                .map(|line| format!("{line}\n"))
                .collect();
            let env_file = project.path(&format!("target/without-{variable}.env"));
            std::fs::create_dir_all(env_file.parent().expect("parent")).expect("target dir");
            std::fs::write(&env_file, without).expect("env file written");
            let env_file = env_file.to_string_lossy();
            let output = compose(
                &project,
                &[
                    "-f",
                    "compose.production.yml",
                    "--env-file",
                    &env_file,
                    "config",
                    "--quiet",
                ],
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            failures.check(
                !output.status.success() && stderr.contains(variable),
                v,
                format!(
                    "without {variable}: expected a failure naming it, saw status {} and: {stderr}",
                    output.status
                ),
            );
        }
    }
    failures.assert_none("required variables");
}

#[test]
fn publishing_the_app_beyond_loopback_is_an_explicit_setting() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let env_file = example_with(&project, "exposed", &[("APP_BIND_ADDRESS", "0.0.0.0")]);
        let config = match config_of(&project, &["compose.production.yml"], &env_file, &[]) {
            Ok(config) => config,
            Err(error) => {
                failures.add(&project.variant, format!("config failed:\n{error}"));
                continue;
            }
        };
        let ports = config["services"]["app"]["ports"].to_string();
        failures.check(
            ports.contains(r#""host_ip":"0.0.0.0""#),
            &project.variant,
            format!("APP_BIND_ADDRESS=0.0.0.0 publishes on every interface: {ports}"),
        );
    }
    failures.assert_none("app exposure");
}

#[test]
fn images_can_be_pinned_by_digest() {
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let tag = format!("0.1.0@{digest}");
        let proxy_image = format!("caddy:2.10.2@{digest}");
        let env_file = example_with(
            &project,
            "pinned",
            &[("IMAGE_TAG", &tag), ("PROXY_IMAGE", &proxy_image)],
        );
        let profiles = ["--profile", "proxy", "--profile", "migrate"];
        let config = match config_of(&project, &["compose.production.yml"], &env_file, &profiles) {
            Ok(config) => config,
            Err(error) => {
                failures.add(v, format!("config with digests failed:\n{error}"));
                continue;
            }
        };
        for service in ["app", "migrate"] {
            let image = config["services"][service]["image"]
                .as_str()
                .unwrap_or_default();
            failures.check(
                image.ends_with(&format!("/{}:{tag}", project_name(v))),
                v,
                format!("{service} runs the pinned image: {image}"),
            );
        }
        let image = config["services"]["proxy"]["image"]
            .as_str()
            .unwrap_or_default();
        failures.check(
            image == proxy_image,
            v,
            format!("proxy runs the pinned image: {image}"),
        );
    }
    failures.assert_none("digest pinning");
}

/// A service without limits can take the host's every CPU and byte of memory, the
/// one-shot ones included: every service of every profile has both.
#[test]
fn every_production_service_has_a_cpu_and_a_memory_limit() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let config = match production_stack(&project) {
            Ok(config) => config,
            Err(error) => {
                failures.add(v, format!("config failed:\n{error}"));
                continue;
            }
        };
        let services = config["services"].as_object().cloned().unwrap_or_default();
        for (name, service) in services {
            let limits = &service["deploy"]["resources"]["limits"];
            failures.check(
                !limits["cpus"].is_null() && !limits["memory"].is_null(),
                v,
                format!("expected {name} to have a CPU and a memory limit, saw limits {limits}"),
            );
        }
    }
    failures.assert_none("resource limits");
}

/// Every connection holding a full header buffer, and the whole request-body budget,
/// must fit in the app container's memory limit, as the production env template and
/// compose file set them.
#[test]
fn the_default_connection_and_body_limits_fit_the_app_containers_memory() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let config = match production_config(&project, &[]) {
            Ok(config) => config,
            Err(error) => {
                failures.add(v, format!("config failed:\n{error}"));
                continue;
            }
        };
        let app = &config["services"]["app"];
        let buffers = ClientBuffers::from_settings(|name| {
            app["environment"][name].as_str().and_then(memory::bytes)
        });
        let limit = app["deploy"]["resources"]["limits"]["memory"]
            .as_str()
            .and_then(memory::bytes);
        match (buffers, limit) {
            (Some(buffers), Some(limit)) => {
                if let Err(account) = memory::buffers_fit(&buffers, limit) {
                    failures.add(v, format!("expected the client buffers to fit: {account}"));
                }
            }
            found => failures.add(
                v,
                format!("expected MAX_CONNECTIONS, MAX_HEADER_BYTES, MAX_BUFFERED_BODY_BYTES and a memory limit, saw {found:?}"),
            ),
        }
    }
    failures.assert_none("client buffers against memory");
}
