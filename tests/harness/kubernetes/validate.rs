//! The manifests as tools read them: every variant's base and production overlay
//! rendered, every object validated strictly against the schemas of one Kubernetes
//! release, and checkov's Kubernetes checks passed or skipped with a reason.

use std::{collections::BTreeSet, path::PathBuf, process::Command};

use serde_json::Value;

use super::{KUBERNETES_VERSION, Rendered, each_rendered};
use crate::helpers::{Failures, run, tail, work_dir};

#[test]
fn every_variants_base_and_production_overlay_render() {
    let mut failures = Failures::default();
    let mut table = vec!["variant | objects (production) | kinds".to_owned()];
    for rendered in each_rendered(&mut failures) {
        let kinds: BTreeSet<&str> = rendered
            .objects
            .iter()
            .filter_map(|object| object["kind"].as_str())
            .collect();
        table.push(format!(
            "{} | {} | {}",
            rendered.variant(),
            rendered.objects.len(),
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    println!("\n{}", table.join("\n"));
    failures.assert_none("kustomize");
}

#[test]
fn every_rendered_object_validates_strictly_against_the_kubernetes_schemas() {
    let mut failures = Failures::default();
    let rendered = each_rendered(&mut failures);
    let files: Vec<&PathBuf> = rendered
        .iter()
        .flat_map(|rendered| &rendered.files)
        .collect();
    let output = run(Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .args(&files));
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + String::from_utf8_lossy(&output.stderr).as_ref();
    for rendered in &rendered {
        let base = rendered.files[0].to_string_lossy().into_owned();
        let production = rendered.files[1].to_string_lossy().into_owned();
        for line in report.lines().filter(|line| !line.starts_with("INFO")) {
            if line.contains(&base) || line.contains(&production) {
                failures.add(rendered.variant(), line);
            }
        }
        // Every object was checked, none skipped as of an unknown kind.
        let passed = report
            .lines()
            .filter(|line| line.starts_with(&format!("INFO {production} passed")))
            .count();
        failures.check(
            passed == rendered.objects.len(),
            rendered.variant(),
            format!(
                "{passed} of the {} production objects passed validation",
                rendered.objects.len()
            ),
        );
    }
    failures.check(
        output.status.success(),
        &rendered[0].project.variant,
        format!("kubernetes-validate failed:\n{}", tail(&output, 20)),
    );
    println!(
        "validated {} files against Kubernetes {KUBERNETES_VERSION}, strict",
        files.len()
    );
    failures.assert_none("kubernetes-validate");
}

/// checkov's JSON report on one directory holding every variant's production render.
fn checkov_report(rendered: &[&Rendered]) -> Value {
    // checkov scans a directory: one holding every variant's production render, one scan.
    let scan = work_dir().join("kubernetes").join("checkov");
    std::fs::remove_dir_all(&scan).ok();
    std::fs::create_dir_all(&scan).expect("scan directory");
    for rendered in rendered {
        std::fs::copy(
            &rendered.files[1],
            scan.join(format!("{}.yaml", rendered.variant().id())),
        )
        .expect("render copied");
    }
    let output = run(Command::new("checkov")
        .args([
            "--framework",
            "kubernetes",
            "--skip-download",
            "--output",
            "json",
            "--directory",
        ])
        .arg(&scan));
    match serde_json::from_slice(&output.stdout) {
        Ok(report) => report,
        Err(error) => panic!(
            "checkov printed no JSON report ({error}):\n{}",
            tail(&output, 30)
        ),
    }
}

/// The rendered variant a check of the report is about, by the file it names.
fn rendered_of<'a>(rendered: &[&'a Rendered], check: &Value) -> Option<&'a Rendered> {
    let file = check["file_path"].as_str().unwrap_or_default();
    rendered
        .iter()
        .find(|r| file.ends_with(&format!("/{}.yaml", r.variant().id())))
        .copied()
}

/// The entries of `list` in the report's results.
fn results<'a>(report: &'a Value, list: &str) -> impl Iterator<Item = &'a Value> {
    report["results"][list].as_array().into_iter().flatten()
}

/// The reason an object of `rendered` gives for skipping check `id`: an annotation
/// `checkov.io/skipN: ID=reason` on the object itself, the reason more than 20 characters.
fn skip_reason(rendered: &Rendered, id: &str) -> Option<String> {
    rendered.objects.iter().find_map(|object| {
        object["metadata"]["annotations"]
            .as_object()?
            .iter()
            .find_map(|(key, value)| {
                let (skipped, reason) = value.as_str()?.split_once('=')?;
                (key.starts_with("checkov.io/skip") && skipped == id && reason.len() > 20)
                    .then(|| reason.to_owned())
            })
    })
}

#[test]
fn checkov_finds_nothing_in_the_production_manifests_that_they_do_not_justify() {
    let mut failures = Failures::default();
    let rendered = each_rendered(&mut failures);
    let report = checkov_report(&rendered);
    for check in results(&report, "failed_checks") {
        let what = format!(
            "{} {} on {}",
            check["check_id"], check["check_name"], check["resource"]
        );
        match rendered_of(&rendered, check) {
            Some(variant) => failures.add(variant.variant(), what),
            None => panic!("checkov failed a check on an unknown file: {what}"),
        }
    }
    let mut justified = BTreeSet::new();
    for check in results(&report, "skipped_checks") {
        let id = check["check_id"].as_str().unwrap_or_default();
        let Some(variant) = rendered_of(&rendered, check) else {
            continue;
        };
        match skip_reason(variant, id) {
            Some(reason) => {
                justified.insert(format!("{id}: {reason}"));
            }
            None => failures.add(
                variant.variant(),
                format!("{id} is skipped without a reason on the object"),
            ),
        }
    }
    println!(
        "checkov: {} passed, {} failed, skipped with a reason: {justified:?}",
        report["summary"]["passed"], report["summary"]["failed"]
    );
    failures.check(
        report["summary"]["passed"].as_u64().unwrap_or(0) > 0,
        &rendered[0].project.variant,
        "checkov passed no check at all",
    );
    failures.assert_none("checkov");
}
