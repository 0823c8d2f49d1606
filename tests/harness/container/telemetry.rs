//! The telemetry fact: a traced request's span reaches the OTLP receiver, and a server
//! error reaches the Sentry endpoint, both stand-ins on the host (`upstreams.rs`).

use std::process::Command;

use super::Deployment;
use crate::helpers::{http, project_name, run, succeeded};

/// The request id the checked request carries, to find its access line.
const TRACED_REQUEST: &str = "e2e-traced-request";

impl Deployment<'_> {
    /// A traced request's span reaches the OTLP receiver by the time the service has
    /// stopped; a server error reaches the Sentry endpoint.
    pub(super) fn check_telemetry(&mut self) -> Result<(), String> {
        if self.variant.on("otel") {
            self.check_trace_export()?;
        }
        if self.variant.on("sentry") {
            self.check_error_report()?;
        }
        Ok(())
    }

    /// Stopping the service flushes its exporter: the span must be there by then, in the
    /// trace its access line names (the service's own: a caller's is not trusted).
    fn check_trace_export(&self) -> Result<(), String> {
        let stack = self.stack()?;
        succeeded(
            &stack.compose(300, &["up", "-d", "--wait", "app"]),
            "start the app for the trace check",
        )?;
        // An API request: probes are traced only at debug.
        http(
            &self.published,
            "GET",
            "/api/v1/items/424242",
            &[
                ("x-request-id", TRACED_REQUEST),
                ("authorization", &self.authorization()?),
            ],
            "",
        )?;
        succeeded(&stack.compose(120, &["stop", "app"]), "stop")?;
        let logs = succeeded(
            &stack.compose(60, &["logs", "--no-log-prefix", "--no-color", "app"]),
            "compose logs",
        )?;
        let trace_id = logs
            .lines()
            .filter(|line| line.contains(TRACED_REQUEST))
            .find_map(|line| line.split("\"trace_id\":\"").nth(1)?.get(..32))
            .ok_or_else(|| {
                format!("no log line of request {TRACED_REQUEST} names its trace_id:\n{logs}")
            })?;
        let trace_bytes: Vec<u8> = (0..32)
            .step_by(2)
            .map(|i| u8::from_str_radix(&trace_id[i..i + 2], 16).unwrap_or(0))
            .collect();
        let exported = self
            .otlp
            .received()
            .iter()
            .any(|body| body.windows(16).any(|w| w == trace_bytes));
        if !exported {
            return Err(format!(
                "no span of trace {trace_id} reached the OTLP receiver ({} exports)",
                self.otlp.received().len()
            ));
        }
        Ok(())
    }

    /// A 500 the service answers is reported to Sentry by the time it has stopped.
    fn check_error_report(&self) -> Result<(), String> {
        let stack = self.stack()?;
        succeeded(
            &stack.compose(300, &["up", "-d", "--wait", "app"]),
            "start the app for the Sentry check",
        )?;
        self.drop_items_table()?;
        let authorization = self.authorization()?;
        let headers = [("authorization", authorization.as_str())];
        let (status, _) = http(&self.published, "GET", "/api/v1/items", &headers, "")?;
        if status != 500 {
            return Err(format!(
                "GET /api/v1/items without its table: expected 500, saw {status}"
            ));
        }
        succeeded(&stack.compose(120, &["stop", "app"]), "stop")?;
        let reported = self
            .sentry
            .received()
            .iter()
            .any(|body| String::from_utf8_lossy(body).contains(r#""type":"event""#));
        if !reported {
            return Err(format!(
                "no error event reached the Sentry endpoint ({} envelopes)",
                self.sentry.received().len()
            ));
        }
        Ok(())
    }

    /// Makes every item request fail with a server error: the table is gone from under the service.
    fn drop_items_table(&self) -> Result<(), String> {
        let drop = match &self.database {
            Some(database) => run(Command::new("psql")
                .arg(format!(
                    "postgres://e2e:e2e-s3cret@127.0.0.1:5432/{database}"
                ))
                .args(["-q", "-c", "DROP TABLE items"])),
            None => {
                // The SQLite file in the app's data volume, from the host.
                let name = project_name(&self.variant);
                let volume = run(Command::new("docker").args([
                    "volume",
                    "inspect",
                    "--format",
                    "{{.Mountpoint}}",
                    &format!("{name}_app-data"),
                ]));
                let mountpoint = succeeded(&volume, "docker volume inspect")?;
                let file = format!("{}/{}.db", mountpoint.trim(), name.replace('-', "_"));
                run(Command::new("sqlite3").args([&file, "DROP TABLE items"]))
            }
        };
        succeeded(&drop, "drop the items table").map(|_| ())
    }
}
