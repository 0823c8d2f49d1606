//! A scrape of a service's metrics port, parsed by Prometheus's own Python client
//! (`prometheus_samples.py`), so the format is checked by a parser that is not ours.

use std::{
    collections::BTreeMap,
    io::Write,
    process::{Command, Stdio},
};

use serde_json::Value;

use crate::helpers::exchange;

#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

pub struct Scrape(pub Vec<Sample>);

impl Scrape {
    /// `GET /metrics` on `address`, parsed.
    pub fn of(address: &str) -> Result<Self, String> {
        let response = exchange(address, "GET", "/metrics", &[], "")?;
        if response.status != 200 {
            return Err(format!(
                "GET /metrics on {address}: expected 200, saw {}",
                response.status
            ));
        }
        Self::parse(&response.body)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/harness/prometheus_samples.py"
        );
        let mut child = Command::new("python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("python3: {e}"))?;
        child
            .stdin
            .take()
            .ok_or("stdin")?
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())?;
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!(
                "prometheus_client refused the scrape: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let samples = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| sample(line).ok_or_else(|| format!("not a sample: {line}")))
            .collect::<Result<_, _>>()?;
        Ok(Self(samples))
    }

    /// The value of the sample `name` with exactly `labels`; 0 for a series not created yet.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .find(|sample| {
                sample.name == name
                    && sample.labels.len() == labels.len()
                    && labels.iter().all(|(label, value)| {
                        sample.labels.get(*label).is_some_and(|seen| seen == value)
                    })
            })
            .map_or(0.0, |sample| sample.value)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|sample| sample.name == name)
    }

    /// Every value the label `label` takes in the series `name`.
    pub fn label_values(&self, name: &str, label: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|sample| sample.name == name)
            .filter_map(|sample| sample.labels.get(label).map(String::as_str))
            .collect()
    }
}

/// One JSON line of `prometheus_samples.py`.
fn sample(line: &str) -> Option<Sample> {
    let json: Value = serde_json::from_str(line).ok()?;
    let labels = json["labels"]
        .as_object()?
        .iter()
        .map(|(label, value)| Some((label.clone(), value.as_str()?.to_owned())));
    Some(Sample {
        name: json["name"].as_str()?.to_owned(),
        labels: labels.collect::<Option<_>>()?,
        value: json["value"].as_f64()?,
    })
}
