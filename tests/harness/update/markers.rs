//! The generated CI's step that fails while a tracked file holds a conflict marker, run
//! here as GitHub runs it (`bash -e`), in each variant as a git repository.

use std::process::Output;

use super::{git_steps, workflow_step};
use crate::helpers::{
    Failures, Project, Variant, all_projects, copy_of, generated, run, tail, variants,
};

const STEP: &str = "No conflict markers left by a merge or a template update";

/// The step's script from the project's `ci.yml`, run in a committed copy of it, after
/// `plant` has changed the copy.
fn run_the_step(project: &Project, copy: &str, plant: impl FnOnce(&Project)) -> Output {
    let script = workflow_step(project, "ci.yml", "test", STEP);
    let copy = copy_of(project, copy);
    plant(&copy);
    let steps: [&[&str]; 3] = [
        &["init", "--quiet"],
        &["add", "--all"],
        &["commit", "--quiet", "-m", "generated"],
    ];
    git_steps(&copy.dir, &steps).expect("the copy committed");
    run(copy
        .command("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script]))
}

#[test]
fn the_conflict_marker_check_passes_on_every_variant_as_generated() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let output = run_the_step(&project, "markers-clean", |_| {});
        failures.check(
            output.status.success(),
            &project.variant,
            format!(
                "expected the step to pass, it failed:\n{}",
                tail(&output, 20)
            ),
        );
    }
    failures.assert_none("conflict-marker check");
}

#[test]
fn the_conflict_marker_check_fails_naming_a_planted_marker() {
    let default = Variant::default_choice();
    if !variants().contains(&default) {
        return println!("skipped: VARIANTS leaves out {default}");
    }
    let output = run_the_step(&generated(default), "markers-planted", |copy| {
        let text = copy.read("src/main.rs");
        let planted = format!("<<<<<<< HEAD\n{text}=======\n>>>>>>> template\n");
        std::fs::write(copy.path("src/main.rs"), planted).expect("marker planted");
    });
    let printed = tail(&output, 20);
    assert!(
        !output.status.success() && printed.contains("src/main.rs:1:<<<<<<< HEAD"),
        "[{default}] expected the step to fail naming src/main.rs:1; it {}:\n{printed}",
        output.status
    );
}
