//! The docs page of a running service, opened in headless Chromium as a browser would.

use std::process::Command;

use crate::helpers::{Project, run, succeeded};

/// Opens `/api/docs/` in headless Chromium, lets its scripts run, and checks that the
/// page shows each operation of `openapi.json` and that the browser reported no
/// Content-Security-Policy violation. The number of operations shown.
pub(super) fn docs_page_renders(project: &Project, address: &str) -> Result<usize, String> {
    let document: serde_json::Value =
        serde_json::from_str(&project.read("openapi.json")).map_err(|e| e.to_string())?;
    let paths = document["paths"]
        .as_object()
        .ok_or("openapi.json has no paths")?;
    let expected: usize = paths
        .values()
        .filter_map(|item| item.as_object())
        .map(|item| item.len())
        .sum();
    let output = run(Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .args(["--virtual-time-budget=10000", "--dump-dom"])
        // A host name that is not loopback, as on a real host: Swagger UI treats
        // localhost specially (it would skip its validator badge, for one).
        .arg(format!(
            "--host-resolver-rules=MAP docs.example {}",
            address.split(':').next().unwrap_or_default()
        ))
        .arg(format!(
            "http://docs.example:{}/api/docs/",
            address.rsplit(':').next().unwrap_or_default()
        )));
    let dom = succeeded(&output, "chromium --dump-dom /api/docs/")?;
    let console = String::from_utf8_lossy(&output.stderr);
    if let Some(violation) = console
        .lines()
        .find(|line| line.contains("Content Security Policy") || line.contains("Refused to"))
    {
        return Err(format!(
            "the docs page broke its Content-Security-Policy: {violation}"
        ));
    }
    let shown = dom.matches("class=\"opblock-summary-path\"").count();
    let missing: Vec<&String> = paths
        .keys()
        .filter(|path| !dom.contains(&format!("data-path=\"{path}\"")))
        .collect();
    if shown != expected || !missing.is_empty() {
        return Err(format!(
            "the docs page shows {shown} of {expected} operations; paths missing: {missing:?}"
        ));
    }
    Ok(shown)
}
