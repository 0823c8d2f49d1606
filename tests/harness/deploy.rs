//! The deployment layout of every variant: compose files as Docker Compose
//! itself reads them, the Dockerfile, the scripts and the workflows through
//! their linters, and the environment variables across code, templates and docs.

use std::{
    collections::BTreeSet,
    process::{Command, Output},
};

use serde_json::Value;

use crate::helpers::{
    Failures, Project, all_projects, clean_env, postgres, project_name, secrets_of,
    settings::{names_after, variables_in_env_file, variables_read_by_the_service},
    tail,
};

/// `docker compose` with nothing from this process's environment leaking into interpolation.
fn compose(project: &Project, args: &[&str]) -> Output {
    clean_env(&mut project.command("docker"))
        .arg("compose")
        .args(args)
        .output()
        .expect("docker compose runs (see .ci/run)")
}

/// The parsed `config` of the production file with the example settings.
fn production_config(project: &Project, extra: &[&str]) -> Result<Value, String> {
    let mut args = vec![
        "-f",
        "compose.production.yml",
        "--env-file",
        ".env.production.example",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["config", "--format", "json"]);
    let output = compose(project, &args);
    if !output.status.success() {
        return Err(tail(&output, 10));
    }
    serde_json::from_slice(&output.stdout).map_err(|error| error.to_string())
}

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
                port["target"].as_u64().map(|target| target.to_string())
                    != Some(metrics_port.clone())
            }),
            "the metrics port never published",
        );
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
            let output = compose(
                &project,
                &[
                    "-f",
                    "compose.production.yml",
                    "--env-file",
                    &env_file.to_string_lossy(),
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
fn the_migrate_and_proxy_profiles_are_valid() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let config =
            match production_config(&project, &["--profile", "migrate", "--profile", "proxy"]) {
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

/// The example settings with `replacements` (`NAME=value` lines) applied, in a file.
fn example_with(project: &Project, name: &str, replacements: &[(&str, &str)]) -> String {
    let mut settings = project.read(".env.production.example");
    for (variable, value) in replacements {
        let line = settings
            .lines()
            .find(|line| line.starts_with(&format!("{variable}=")))
            .unwrap_or_default()
            .to_owned();
        settings = settings.replace(&format!("{line}\n"), &format!("{variable}={value}\n"));
    }
    let env_file = project.path(&format!("target/{name}.env"));
    std::fs::create_dir_all(env_file.parent().expect("parent")).expect("target dir");
    std::fs::write(&env_file, settings).expect("env file written");
    env_file.to_string_lossy().into_owned()
}

#[test]
fn publishing_the_app_beyond_loopback_is_an_explicit_setting() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let env_file = example_with(&project, "exposed", &[("APP_BIND_ADDRESS", "0.0.0.0")]);
        let output = compose(
            &project,
            &[
                "-f",
                "compose.production.yml",
                "--env-file",
                &env_file,
                "config",
                "--format",
                "json",
            ],
        );
        let Ok(config) = serde_json::from_slice::<Value>(&output.stdout) else {
            failures.add(
                &project.variant,
                format!("config failed:\n{}", tail(&output, 10)),
            );
            continue;
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
        let output = compose(
            &project,
            &[
                "-f",
                "compose.production.yml",
                "--env-file",
                &env_file,
                "--profile",
                "proxy",
                "--profile",
                "migrate",
                "config",
                "--format",
                "json",
            ],
        );
        let Ok(config) = serde_json::from_slice::<Value>(&output.stdout) else {
            failures.add(
                v,
                format!("config with digests failed:\n{}", tail(&output, 10)),
            );
            continue;
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

#[test]
fn the_secrets_file_gives_every_secret_as_a_file_and_none_in_the_environment() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let secrets = secrets_of(v);
        if secrets.is_empty() {
            failures.check(
                !project.exists("compose.secrets.yml"),
                v,
                "no compose.secrets.yml without a secret setting",
            );
            continue;
        }
        let emptied: Vec<(&str, &str)> = secrets.iter().map(|secret| (*secret, "")).collect();
        let env_file = example_with(&project, "secrets", &emptied);
        let output = compose(
            &project,
            &[
                "-f",
                "compose.production.yml",
                "-f",
                "compose.secrets.yml",
                "--env-file",
                &env_file,
                "--profile",
                "migrate",
                "config",
                "--format",
                "json",
            ],
        );
        let Ok(config) = serde_json::from_slice::<Value>(&output.stdout) else {
            failures.add(
                v,
                format!("compose.secrets.yml config failed:\n{}", tail(&output, 10)),
            );
            continue;
        };
        for service in ["app", "migrate"] {
            let service_config = &config["services"][service];
            for secret in &secrets {
                let file = secret.to_ascii_lowercase();
                let environment = &service_config["environment"];
                failures.check(
                    environment.get(*secret).is_none(),
                    v,
                    format!("{service}: {secret} left in the environment: {environment}"),
                );
                failures.check(
                    environment[format!("{secret}_FILE")] == format!("/run/secrets/{file}"),
                    v,
                    format!("{service}: {secret}_FILE names /run/secrets/{file}: {environment}"),
                );
                failures.check(
                    service_config["secrets"]
                        .to_string()
                        .contains(&format!("\"{file}\"")),
                    v,
                    format!(
                        "{service}: the {file} secret is mounted: {}",
                        service_config["secrets"]
                    ),
                );
            }
        }
    }
    failures.assert_none("compose.secrets.yml");
}

#[test]
fn the_development_compose_file_is_valid_with_and_without_profiles() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        // As the README has users do: `.env` made from `.env.example`.
        let mut runs = vec![vec![
            "--env-file",
            ".env.example",
            "config",
            "--format",
            "json",
        ]];
        if v.on("otel") {
            runs.push(vec![
                "--env-file",
                ".env.example",
                "--profile",
                "otel",
                "config",
                "--format",
                "json",
            ]);
        }
        for args in runs {
            let output = compose(&project, &args);
            let Ok(config) = serde_json::from_slice::<Value>(&output.stdout) else {
                failures.add(
                    v,
                    format!("compose.yml {args:?} failed:\n{}", tail(&output, 10)),
                );
                continue;
            };
            let services = &config["services"];
            failures.check(
                services["app"]["build"].is_object(),
                v,
                "the development app is built from source",
            );
            for (dependency, expected) in [
                ("postgres", v.is("database", "postgres")),
                ("redis", v.on("redis")),
            ] {
                let present = services.get(dependency).is_some();
                failures.check(
                    present == expected,
                    v,
                    format!("{dependency} service: expected {expected}, saw {present}"),
                );
                if expected {
                    failures.check(
                        services[dependency]["healthcheck"].is_object(),
                        v,
                        format!("{dependency} has a healthcheck"),
                    );
                    failures.check(
                        services["app"]["depends_on"][dependency]["condition"] == "service_healthy",
                        v,
                        format!("app waits for a healthy {dependency}"),
                    );
                }
            }
            if args.contains(&"otel") {
                failures.check(
                    services.get("jaeger").is_some(),
                    v,
                    "the otel profile starts a trace viewer",
                );
            }
        }
    }
    failures.assert_none("compose.yml");
}

fn run_tool(project: &Project, program: &str, args: &[&str]) -> Output {
    project
        .command(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} cannot run ({error}): .ci/run installs it"))
}

#[test]
fn hadolint_passes_on_every_dockerfile() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let output = run_tool(&project, "hadolint", &["Dockerfile"]);
        failures.check(
            output.status.success(),
            &project.variant,
            format!("hadolint:\n{}", tail(&output, 20)),
        );
    }
    failures.assert_none("hadolint");
}

const SCRIPTS: &[&str] = &[
    "scripts/deploy.sh",
    "scripts/backup.sh",
    "scripts/restore.sh",
];

#[test]
fn the_alert_rules_pass_promtool() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let output = run_tool(
            &project,
            "promtool",
            &["check", "rules", "deploy/prometheus/alerts.yml"],
        );
        failures.check(
            output.status.success(),
            &project.variant,
            format!("promtool check rules:\n{}", tail(&output, 10)),
        );
    }
    failures.assert_none("alert rules");
}

#[test]
fn every_script_is_executable_shellcheck_clean_and_has_help() {
    use std::os::unix::fs::PermissionsExt;
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        for script in SCRIPTS {
            let mode = std::fs::metadata(project.path(script))
                .map(|m| m.permissions().mode())
                .unwrap_or_default();
            failures.check(
                mode & 0o111 != 0,
                v,
                format!("{script} is not executable (mode {mode:o})"),
            );
            failures.check(
                project.read(script).contains("set -euo pipefail"),
                v,
                format!("{script} lacks set -euo pipefail"),
            );
            let lint = run_tool(&project, "shellcheck", &["--external-sources", script]);
            failures.check(
                lint.status.success(),
                v,
                format!("shellcheck {script}:\n{}", tail(&lint, 20)),
            );
            let help = run_tool(&project, "bash", &[script, "--help"]);
            let text = String::from_utf8_lossy(&help.stdout);
            failures.check(
                help.status.success() && text.contains("Usage:"),
                v,
                format!("{script} --help: {}", tail(&help, 5)),
            );
        }
        // As a user runs it: every script, the shared one included, each on its own.
        let lint = run_tool(&project, "bash", &["-c", "shellcheck scripts/*.sh"]);
        failures.check(
            lint.status.success(),
            v,
            format!("shellcheck scripts/*.sh:\n{}", tail(&lint, 20)),
        );
    }
    failures.assert_none("scripts");
}

#[test]
fn the_workflows_pass_zizmor_and_the_github_workflow_schema() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let workflows = [".github/workflows/ci.yml", ".github/workflows/release.yml"];
        let mut args = vec!["--builtin-schema", "vendor.github-workflows"];
        args.extend(workflows);
        let schema = run_tool(&project, "check-jsonschema", &args);
        failures.check(
            schema.status.success(),
            &project.variant,
            format!("check-jsonschema:\n{}", tail(&schema, 20)),
        );
        let mut args = vec!["--offline", "--no-progress"];
        args.extend(workflows);
        let audit = run_tool(&project, "zizmor", &args);
        failures.check(
            audit.status.success(),
            &project.variant,
            format!("zizmor:\n{}", tail(&audit, 30)),
        );
    }
    failures.assert_none("workflows");
}

#[test]
fn every_variable_is_read_documented_and_in_the_env_templates() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let service = variables_read_by_the_service(&project);
        let production = variables_in_env_file(&project.read(".env.production.example"));
        let development = variables_in_env_file(&project.read(".env.example"));
        let docs = project.read("docs/deployment.md");
        let readme = project.read("README.md");
        let production_compose = names_after(&project.read("compose.production.yml"), "${");
        let development_compose = names_after(&project.read("compose.yml"), "${");
        let scripts: BTreeSet<String> = SCRIPTS
            .iter()
            .chain(&["scripts/common.sh"])
            .flat_map(|script| names_after(&project.read(script), "setting "))
            .collect();

        for variable in &service {
            // Set by the image (HOST, PORT) or fixed by compose (APP_ENV, LOG_FORMAT) in production.
            let fixed_in_production =
                ["HOST", "PORT", "APP_ENV", "LOG_FORMAT"].contains(&variable.as_str());
            failures.check(
                fixed_in_production || production.contains(variable),
                v,
                format!("{variable} is read by the service but not in .env.production.example"),
            );
            failures.check(
                docs.contains(&format!("`{variable}`")),
                v,
                format!("{variable} is read by the service but not in docs/deployment.md"),
            );
            failures.check(
                readme.contains(&format!("`{variable}`")),
                v,
                format!("{variable} is read by the service but not in README.md"),
            );
        }
        let read_in_production: BTreeSet<String> = service
            .iter()
            .chain(&production_compose)
            .chain(&scripts)
            .cloned()
            .collect();
        for variable in &production {
            failures.check(
                read_in_production.contains(variable),
                v,
                format!("{variable} is in .env.production.example but nothing reads it"),
            );
            failures.check(
                docs.contains(&format!("`{variable}`")),
                v,
                format!("{variable} is in .env.production.example but not in docs/deployment.md"),
            );
        }
        for variable in &production_compose {
            failures.check(
                production.contains(variable),
                v,
                format!(
                    "compose.production.yml reads {variable} but .env.production.example lacks it"
                ),
            );
        }
        let read_in_development: BTreeSet<String> = service
            .iter()
            .chain(&development_compose)
            .cloned()
            .collect();
        for variable in &development {
            failures.check(
                read_in_development.contains(variable),
                v,
                format!("{variable} is in .env.example but nothing reads it"),
            );
        }
    }
    failures.assert_none("environment variables");
}

/// Runs `sql` against a database: `psql` for a Postgres URL, `sqlite3` for a file.
fn sql(project: &Project, database: &str, sql: &str) -> Output {
    let program = if database.starts_with("postgres") {
        "psql"
    } else {
        "sqlite3"
    };
    let mut args = vec![database];
    if program == "psql" {
        args.extend(["-qtA", "-c"]);
    }
    args.push(sql);
    run_tool(project, program, &args)
}

#[test]
fn backup_and_restore_bring_the_data_back() {
    let mut failures = Failures::default();
    let admin = postgres::admin_url();
    for project in all_projects() {
        let v = &project.variant;
        let drill = project.path("target/drill");
        std::fs::remove_dir_all(&drill).ok();
        std::fs::create_dir_all(&drill).expect("drill directory");
        let (database, mut backup_args, mut restore_args) = if v.is("database", "postgres") {
            let name = format!("drill_{}", project_name(v).replace('-', "_"));
            let url = postgres::fresh_database(&admin, &name, None)
                .unwrap_or_else(|error| panic!("[{v}] {error}"));
            (url, vec![], vec![])
        } else {
            let file = drill.join("live.db").to_string_lossy().into_owned();
            (
                file.clone(),
                vec!["--db".to_owned(), file.clone()],
                vec!["--db".to_owned(), file],
            )
        };
        sql(
            &project,
            &database,
            "CREATE TABLE drill (note TEXT); INSERT INTO drill VALUES ('before');",
        );

        backup_args.extend([
            "--dir".to_owned(),
            drill.join("backups").to_string_lossy().into_owned(),
        ]);
        let backup = project
            .command("scripts/backup.sh")
            .args(&backup_args)
            .env("DATABASE_URL", &database)
            .output()
            .expect("backup.sh runs");
        let file = String::from_utf8_lossy(&backup.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned();
        sql(
            &project,
            &database,
            "DELETE FROM drill; INSERT INTO drill VALUES ('after');",
        );
        restore_args.extend(["--yes".to_owned(), file.clone()]);
        let restore = project
            .command("scripts/restore.sh")
            .args(&restore_args)
            .env("DATABASE_URL", &database)
            .output()
            .expect("restore.sh runs");
        let seen =
            String::from_utf8_lossy(&sql(&project, &database, "SELECT note FROM drill").stdout)
                .trim()
                .to_owned();

        failures.check(
            backup.status.success(),
            v,
            format!("backup.sh failed:\n{}", tail(&backup, 10)),
        );
        failures.check(
            restore.status.success(),
            v,
            format!("restore.sh {file} failed:\n{}", tail(&restore, 10)),
        );
        failures.check(
            seen == "before",
            v,
            format!("after restore: expected the row `before`, saw `{seen}`"),
        );
    }
    failures.assert_none("backup and restore");
}

/// checkov's secret scanner over every variant at once: no generated file may hold a
/// credential it flags (development passwords come from `.env`, made from `.env.example`).
#[test]
fn no_generated_file_holds_a_credential_a_secret_scanner_flags() {
    let projects = all_projects();
    let mut command = Command::new("checkov");
    command.args([
        "--framework",
        "secrets",
        "--skip-download",
        "--quiet",
        "--compact",
    ]);
    for project in &projects {
        command.arg("-d").arg(&project.dir);
    }
    let output = command.output().expect("checkov runs (see .ci/run)");
    assert!(
        output.status.success(),
        "checkov flagged secrets in generated files:\n{}",
        tail(&output, 60)
    );
}
