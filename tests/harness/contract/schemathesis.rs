//! Schemathesis against each variant's service, every check, as the generated README
//! documents the run; and the docs page of the same service, opened meanwhile.

use std::{process::Command, thread, time::Instant};

use super::{docs_page::docs_page_renders, start};
use crate::{
    helpers::{Project, all_projects, last_lines, run, succeeded},
    report::Table,
    services::{Postgres, Redis},
};

#[test]
fn schemathesis_finds_nothing_in_any_variant() {
    let projects = all_projects();
    let postgres = Postgres::start().expect("a Postgres server of the tier's own");
    let redis = Redis::start().expect("a Redis server of the tier's own");
    let mut table = Table::new(
        "Schemathesis, every check; the docs page",
        "variant | operations | test cases | seconds | docs page",
    );
    for project in projects {
        table.outcome(&project.variant, fuzz(&project, &postgres, &redis));
    }
    table.finish("Schemathesis");
}

fn fuzz(project: &Project, postgres: &Postgres, redis: &Redis) -> Result<String, String> {
    let validated = run(Command::new("openapi-spec-validator")
        .args(["--schema", "3.1"])
        .arg(project.path("openapi.json")));
    succeeded(&validated, "openapi-spec-validator openapi.json")?;
    let service = start(project, postgres, redis, "contract")?;
    // Chromium opens the docs page while Schemathesis runs: the page only reads, and its
    // few seconds (most of them Chromium starting) overlap the fuzzer's minutes.
    let (output, seconds, rendered) = thread::scope(|scope| {
        let docs = scope.spawn(|| docs_page_renders(project, &service.address));
        let started = Instant::now();
        let output = run(Command::new("st")
            .current_dir(&project.dir)
            .args([
                "run",
                &format!("http://{}/api/openapi.json", service.address),
            ])
            .env(
                "API_TOKEN",
                service.authorization.trim_start_matches("Bearer "),
            )
            .env("NO_COLOR", "1"));
        let seconds = started.elapsed().as_secs();
        let rendered = docs
            .join()
            .unwrap_or_else(|_| Err("the docs page check panicked".into()));
        (output, seconds, rendered)
    });
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "st run failed:\n{report}{}\nservice log, last lines:\n{}",
            String::from_utf8_lossy(&output.stderr),
            last_lines(&service.log(), 20)
        ));
    }
    let server_errors = service
        .log()
        .lines()
        .filter(|line| line.contains("\"level\":\"ERROR\""))
        .count();
    if server_errors > 0 {
        return Err(format!(
            "the service logged {server_errors} errors under the fuzzer:\n{}",
            last_lines(&service.log(), 20)
        ));
    }
    let rendered = rendered?;
    Ok(format!(
        "{} | {} | {seconds} | {rendered} operations shown",
        summary(&report, "Tested:"),
        summary(&report, " generated, ")
    ))
}

/// The line of Schemathesis's summary holding `marker`, trimmed.
fn summary(report: &str, marker: &str) -> String {
    report
        .lines()
        .find(|line| line.contains(marker))
        .map(str::trim)
        .unwrap_or("?")
        .to_owned()
}
