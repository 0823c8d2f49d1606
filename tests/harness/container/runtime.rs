//! The checks on the deployed service as it runs: hardening, persistence, logs, the
//! migrate profile, the metrics port, and the drain on stop.

use std::{process::Command, time::Duration};

use super::{Deployment, load::stop_under_load, stack::METRICS_PORT};
use crate::{
    helpers::{http, run, succeeded},
    prometheus::Scrape,
};

impl Deployment<'_> {
    /// Hardened as the compose file says, down to the uid the kernel sees.
    pub(super) fn check_hardening(&mut self) -> Result<(), String> {
        let stack = self.stack()?;
        let container = stack.container("app")?;
        let hardening = [
            ("{{.Config.User}}", "65532:65532"),
            ("{{.HostConfig.ReadonlyRootfs}}", "true"),
            ("{{.HostConfig.CapDrop}}", "[ALL]"),
            ("{{.HostConfig.SecurityOpt}}", "[no-new-privileges:true]"),
        ];
        for (format, expected) in hardening {
            let seen = stack.inspect(&container, format);
            if seen != expected {
                return Err(format!("{format}: expected {expected}, saw {seen}"));
            }
        }
        let environment = stack.inspect(&container, "{{json .Config.Env}}");
        if environment.contains("e2e-s3cret") || environment.contains("public@") {
            return Err(format!(
                "a secret is in the container's environment, where docker inspect shows it: {environment}"
            ));
        }
        let pid = stack.inspect(&container, "{{.State.Pid}}");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let uid = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .unwrap_or_default()
            .to_owned();
        if !uid.split_whitespace().skip(1).all(|id| id == "65532") {
            return Err(format!("the service does not run as uid 65532: {uid}"));
        }
        Ok(())
    }

    /// The production container's metrics port answers a scrape on the compose network,
    /// is not published on the host, and `/metrics` is not served on the public port.
    pub(super) fn check_metrics(&mut self) -> Result<(), String> {
        let stack = self.stack()?;
        let container = stack.container("app")?;
        let published = stack.inspect(&container, "{{json .NetworkSettings.Ports}}");
        let bound: serde_json::Value =
            serde_json::from_str(&published).map_err(|e| format!("{e}: {published}"))?;
        if !bound[format!("{METRICS_PORT}/tcp")].is_null() {
            return Err(format!(
                "the metrics port is published on the host: {published}"
            ));
        }
        let (status, _) = http(&self.published, "GET", "/metrics", &[], "")?;
        if status != 404 {
            return Err(format!(
                "GET /metrics on the public port: expected 404, saw {status}"
            ));
        }
        http(&self.published, "GET", "/health", &[], "")?;
        let scrape = Scrape::of(&stack.metrics_address()?)?;
        let health = scrape.value(
            "http_requests_total",
            &[("method", "GET"), ("route", "/health"), ("status", "200")],
        );
        if health < 1.0 || scrape.value("process_resident_memory_bytes", &[]) <= 0.0 {
            return Err(format!(
                "the scrape lacks GET /health 200 (saw {health}) or the process's memory"
            ));
        }
        self.check_revision(&scrape)
    }

    /// deploy.sh --build passes the commit as REVISION; the binary reports it in build_info.
    fn check_revision(&self, scrape: &Scrape) -> Result<(), String> {
        let commit = succeeded(
            &run(Command::new("git")
                .current_dir(&self.dir)
                .args(["rev-parse", "HEAD"])),
            "git rev-parse",
        )?;
        let build = scrape
            .0
            .iter()
            .find(|sample| sample.name == "build_info")
            .map(|sample| &sample.labels);
        if build
            .and_then(|labels| labels.get("revision"))
            .map(String::as_str)
            != Some(commit.trim())
        {
            return Err(format!(
                "build_info: expected revision {}, saw {build:?}",
                commit.trim()
            ));
        }
        Ok(())
    }

    pub(super) fn check_persistence(&mut self) -> Result<(), String> {
        let authorization = self.authorization()?;
        let (status, created) = http(
            &self.published,
            "POST",
            "/api/v1/items",
            &[
                ("content-type", "application/json"),
                ("authorization", &authorization),
            ],
            r#"{"name":"survivor"}"#,
        )?;
        if status != 201 {
            return Err(format!(
                "POST /api/v1/items: expected 201, saw {status} {created}"
            ));
        }
        let id =
            serde_json::from_str::<serde_json::Value>(&created).map_err(|e| e.to_string())?["id"]
                .clone();
        succeeded(
            &self
                .stack()?
                .compose(300, &["up", "-d", "--wait", "--force-recreate", "app"]),
            "up --force-recreate",
        )?;
        let (status, body) = http(
            &self.published,
            "GET",
            &format!("/api/v1/items/{id}"),
            &[("authorization", &authorization)],
            "",
        )?;
        if status != 200 || !body.contains("survivor") {
            return Err(format!(
                "the item did not survive --force-recreate: {status} {body}"
            ));
        }
        Ok(())
    }

    pub(super) fn check_logs(&mut self) -> Result<(), String> {
        let request_id = self.request_id();
        // An API request: probes are logged only at debug.
        http(
            &self.published,
            "GET",
            "/api/v1/items/424242",
            &[
                ("x-request-id", &request_id),
                ("authorization", &self.authorization()?),
            ],
            "",
        )?;
        let logs = succeeded(
            &self
                .stack()?
                .compose(60, &["logs", "--no-log-prefix", "--no-color", "app"]),
            "compose logs",
        )?;
        let mut tagged = 0;
        for line in logs.lines().filter(|l| !l.trim().is_empty()) {
            serde_json::from_str::<serde_json::Value>(line)
                .map_err(|e| format!("a log line is not JSON ({e}): {line}"))?;
            tagged += usize::from(line.contains(&request_id));
        }
        if tagged == 0 {
            return Err(format!(
                "no log line carries request id {request_id}:\n{logs}"
            ));
        }
        Ok(())
    }

    pub(super) fn check_migrate_profile(&mut self) -> Result<(), String> {
        succeeded(
            &self
                .stack()?
                .compose(300, &["--profile", "migrate", "run", "--rm", "migrate"]),
            "the migrate profile",
        )
        .map(drop)
    }

    /// Every request the service answered completes, and it exits 0 within the grace period.
    pub(super) fn check_drain(&mut self) -> Result<(), String> {
        let stack = self.stack.as_ref().ok_or("no stack is running")?;
        let stopped = stop_under_load(stack, &self.authorization()?)?;
        (self.report.served, self.report.refused, self.report.stop) =
            (stopped.served, stopped.refused, stopped.stop);
        let failed = &stopped.failed;
        if !failed.is_empty() {
            return Err(format!(
                "{} request(s) failed while stopping: {:?}",
                failed.len(),
                &failed[..failed.len().min(5)]
            ));
        }
        let exit_code = stack.inspect(&stack.container("app")?, "{{.State.ExitCode}}");
        if exit_code != "0" {
            return Err(format!("the service exited with {exit_code} on stop"));
        }
        if stopped.stop > Duration::from_secs(30) {
            return Err(format!(
                "stopping took {:?}, beyond stop_grace_period",
                stopped.stop
            ));
        }
        Ok(())
    }
}
