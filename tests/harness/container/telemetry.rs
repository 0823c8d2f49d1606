//! The telemetry fact: a traced request's span reaches the OTLP receiver, and a server
//! error reaches the Sentry endpoint, both stand-ins on the host (`upstreams.rs`).

use std::process::Command;

use super::Deployment;
use crate::helpers::{http, project_name, run, succeeded};

/// The trace the checked request carries in its `traceparent`.
const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

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

    /// Stopping the service flushes its exporter: the span must be there by then.
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
            &[("traceparent", &format!("00-{TRACE_ID}-b7ad6b7169203331-01"))],
            "",
        )?;
        succeeded(&stack.compose(120, &["stop", "app"]), "stop")?;
        let trace_id: Vec<u8> = (0..32)
            .step_by(2)
            .map(|i| u8::from_str_radix(&TRACE_ID[i..i + 2], 16).unwrap_or(0))
            .collect();
        let exported = self
            .otlp
            .received()
            .iter()
            .any(|body| body.windows(16).any(|w| w == trace_id));
        if !exported {
            return Err(format!(
                "no span of trace {TRACE_ID} reached the OTLP receiver ({} exports)",
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
        let (status, _) = http(&self.published, "GET", "/api/v1/items", &[], "")?;
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
