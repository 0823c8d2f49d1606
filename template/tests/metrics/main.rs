//! The metrics endpoint, read line by line as Prometheus reads its text format: counts
//! are compared before and after known traffic.

{% if redis -%}
mod cache;
{% endif -%}
mod http;
mod process;
#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;

use tokio::sync::{Mutex, MutexGuard};

use support::app::TestApp;

/// The recorder is one per process: the tests take turns, or their counts mix.
pub async fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::const_new(());
    TURN.lock().await
}

/// One sample line: series name, labels, value.
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One scrape of the metrics port, parsed line by line as Prometheus reads the text
/// format: comments skipped, label values quoted with `\\`, `\"` and `\n` escapes.
pub struct Metrics(Vec<Sample>);

impl Metrics {
    pub async fn scrape(app: &TestApp) -> Self {
        let response = app.client.get(format!("{}/metrics", app.metrics_address)).send().await.expect("scrape sent");
        assert_eq!(response.status(), 200, "scrape status");
        let text = response.text().await.expect("scrape body");
        let samples = text.lines().filter(|line| !line.is_empty() && !line.starts_with('#'));
        let samples = samples.map(|line| parse_sample(line).unwrap_or_else(|| panic!("not a sample line: {line}")));
        Self(samples.collect())
    }

    /// Every sample of the series `name`.
    pub fn samples(&self, name: &str) -> impl Iterator<Item = &Sample> {
        self.0.iter().filter(move |sample| sample.name == name)
    }

    /// The sample of `name` with exactly these labels, if the scrape has it.
    pub fn sample(&self, name: &str, labels: &[(&str, &str)]) -> Option<&Sample> {
        self.samples(name).find(|sample| {
            sample.labels.len() == labels.len()
                && labels.iter().all(|(label, value)| sample.labels.get(*label).map(String::as_str) == Some(*value))
        })
    }

    /// Every sample of `name`, one per line, for failure messages.
    pub fn show(&self, name: &str) -> String {
        self.samples(name).map(|sample| format!("{:?} {}\n", sample.labels, sample.value)).collect()
    }

    /// The value of a counter or gauge; 0 for a series not created yet.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.sample(name, labels).map_or(0.0, |sample| sample.value)
    }

    /// How much a counter grew since `earlier`.
    pub fn increase(&self, earlier: &Self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels) - earlier.value(name, labels)
    }

    /// A histogram's cumulative bucket counts by upper bound, in the order exported;
    /// empty for a series not created yet.
    pub fn buckets(&self, name: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
        let bucket = format!("{name}_bucket");
        self.samples(&bucket)
            .filter(|sample| {
                sample.labels.len() == labels.len() + 1
                    && labels.iter().all(|(label, value)| sample.labels.get(*label).map(String::as_str) == Some(*value))
            })
            .map(|sample| (parse_number(&sample.labels["le"]).expect("a numeric le"), sample.value))
            .collect()
    }
}

/// `name{label="value",...} number`, or `name number`.
fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let (name, mut rest) = line.split_at(name_end);
    let mut labels = BTreeMap::new();
    if let Some(inside) = rest.strip_prefix('{') {
        rest = inside;
        while let Some((label, after)) = rest.split_once("=\"") {
            let (value, after) = unquote(after)?;
            labels.insert(label.trim_start_matches(',').to_owned(), value);
            rest = after;
        }
        rest = rest.trim_start_matches(',').strip_prefix('}')?;
    }
    let value = parse_number(rest.split_whitespace().next()?)?;
    Some(Sample { name: name.to_owned(), labels, value })
}

/// A label value up to its closing quote, unescaped, and the text after that quote.
fn unquote(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut characters = text.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Some((value, &text[index + 1..])),
            '\\' => match characters.next()?.1 {
                'n' => value.push('\n'),
                escaped => value.push(escaped),
            },
            other => value.push(other),
        }
    }
    None
}

fn parse_number(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}
