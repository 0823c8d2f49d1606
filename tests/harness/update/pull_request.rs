//! The generated `template-update.yml`, its shell steps run here in order as GitHub
//! would, against the update tier's template copy.

use std::{collections::BTreeMap, path::Path, process::Output};

use super::{
    as_user, git, git_steps,
    releases::{TEMPLATE_CHANGELOG_LINE, releases},
    user::user_project,
    workflow_step,
};
use crate::helpers::{Project, Variant, run, tail, variants};

const WORKFLOW: &str = "template-update.yml";
const JOB: &str = "update";

/// Runs step `name` of the workflow in the project as GitHub does (`bash -e`), with
/// `env` and the runner's `GITHUB_OUTPUT` and `RUNNER_TEMP` under `runner`.
fn run_step(project: &Project, runner: &Path, name: &str, env: &[(&str, &str)]) -> Output {
    let script = workflow_step(project, WORKFLOW, JOB, name);
    let mut command = project.command("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
        .env("GITHUB_OUTPUT", runner.join("output"))
        .env("RUNNER_TEMP", runner)
        .envs(env.iter().copied());
    run(as_user(&mut command))
}

/// The `name=value` lines the steps wrote to `GITHUB_OUTPUT`.
fn outputs(runner: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(runner.join("output"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// The default variant at the old release, its `source` recorded as the template
/// copy, with a bare repository of its own as `origin`.
fn project_with_origin() -> Project {
    let project = user_project(Variant::default_choice(), "pull-request").expect("the project");
    let answers = project.path(".template/answers.toml");
    let text = std::fs::read_to_string(&answers).expect("answers");
    let recorded = text
        .lines()
        .map(|line| match line.starts_with("source = ") {
            true => format!("source = \"{}\"", releases().repository.display()),
            false => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&answers, recorded + "\n").expect("answers written");
    let origin = project.dir.with_extension("origin.git");
    std::fs::remove_dir_all(&origin).ok();
    let origin_path = origin.to_string_lossy();
    git_steps(
        &project.dir,
        &[
            &["commit", "--quiet", "--all", "-m", "the template's source"],
            &["clone", "--quiet", "--bare", ".", &origin_path],
            &["remote", "add", "origin", &origin_path],
        ],
    )
    .expect("origin");
    project
}

/// The body the update step wrote lists the conflicts and the new CHANGELOG section.
fn check_the_pull_request_body(runner: &Path) {
    let body = std::fs::read_to_string(runner.join("body.md")).unwrap_or_default();
    assert!(
        body.contains("- `.env.example`")
            && body.contains("- `docs/deployment.md`")
            && body.contains(TEMPLATE_CHANGELOG_LINE),
        "the pull request's body does not list the conflicts and the CHANGELOG section:\n{body}"
    );
}

#[test]
fn the_template_update_workflow_commits_the_update_on_a_branch_and_pushes_it() {
    if !variants().contains(&Variant::default_choice()) {
        return println!("skipped: VARIANTS leaves out the default variant");
    }
    let project = project_with_origin();
    let runner = project.dir.with_extension("runner");
    std::fs::remove_dir_all(&runner).ok();
    std::fs::create_dir_all(&runner).expect("runner directory");
    let new = &releases().new;
    let branch = format!("template-update/v{new}");

    let checked = run_step(&project, &runner, "Is a newer release out?", &[]);
    let found = outputs(&runner);
    assert!(
        checked.status.success()
            && found.get("version") == Some(new)
            && found.get("branch") == Some(&branch),
        "expected the check to find {new} and name {branch}; saw {found:?}:\n{}",
        tail(&checked, 20)
    );
    let env = [("VERSION", new.as_str()), ("BRANCH", branch.as_str())];
    let updated = run_step(
        &project,
        &runner,
        "Update on a branch, conflicts committed with their markers",
        &env,
    );
    assert!(
        updated.status.success(),
        "the update step failed:\n{}",
        tail(&updated, 30)
    );
    let status = git(&project.dir, &["status", "--porcelain"]);
    assert!(
        status.stdout.is_empty(),
        "the update step left changes uncommitted:\n{}",
        tail(&status, 20)
    );
    assert!(
        project.read(".env.example").contains("<<<<<<< ")
            && project
                .read(".template/answers.toml")
                .contains(&format!("version = \"{new}\"")),
        "the committed update lacks the conflict's markers or the new version"
    );
    check_the_pull_request_body(&runner);
    check_the_push_and_a_second_run(&project, &runner, &branch);
}

/// The push step puts the branch on `origin`; run again from `main`, the check finds
/// the branch and stops.
fn check_the_push_and_a_second_run(project: &Project, runner: &Path, branch: &str) {
    let pushed = run_step(
        project,
        runner,
        "Push the branch",
        &[("BRANCH", branch), ("TOKEN", "unused-here")],
    );
    let remote = git(&project.dir, &["ls-remote", "--heads", "origin", branch]);
    let head = git(&project.dir, &["rev-parse", "HEAD"]);
    assert!(
        pushed.status.success()
            && String::from_utf8_lossy(&remote.stdout)
                .starts_with(String::from_utf8_lossy(&head.stdout).trim()),
        "origin does not hold {branch} at the update:\n{}",
        tail(&pushed, 20)
    );
    git_steps(&project.dir, &[&["switch", "--quiet", "main"]]).expect("back on main");
    std::fs::write(runner.join("output"), "").expect("outputs emptied");
    let again = run_step(project, runner, "Is a newer release out?", &[]);
    assert!(
        again.status.success()
            && outputs(runner).is_empty()
            && tail(&again, 5).contains("exists already"),
        "expected a second run to find {branch} and stop; saw:\n{}",
        tail(&again, 20)
    );
}
