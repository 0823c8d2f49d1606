//! An answer changed after generation (`update-template.sh --set OPTION=VALUE`): on every
//! variant, each option switched to its other value on a user's project gives the project
//! the other variant has, with the user's changes kept.

use std::{
    collections::{BTreeMap, btree_map::Entry},
    path::PathBuf,
};

use super::{
    generate_at,
    releases::{old_release, releases},
    update_command,
    user::{
        USER_DEPENDENCY, USER_DOCKERFILE_LINE, USER_NOTES, update, user_project, user_project_named,
    },
};
use crate::{
    helpers::{Project, Variant, cargo_for, git, run, succeeded, variants, work_dir},
    report::Table,
};

/// The template's files the user's project changes (`user::make_the_users_changes`).
const USERS_FILES: [&str; 4] = [
    ".env.example",
    "docs/deployment.md",
    "Dockerfile",
    "Cargo.toml",
];

fn users_changes_kept(project: &Project) -> bool {
    project.read("Dockerfile").starts_with(USER_DOCKERFILE_LINE)
        && project.read("Cargo.toml").contains(USER_DEPENDENCY.1)
        && project.read("NOTES.md") == USER_NOTES
}

/// The options a variant's answer can change: the choices and flags.
fn switchable() -> Vec<&'static str> {
    template_harness::options()
        .iter()
        .map(|option| option.name.as_str())
        .collect()
}

#[test]
fn changing_an_answer_gives_the_other_variants_project_with_the_users_changes() {
    let mut table = Table::new(
        "changed answers",
        "variant | switched | conflicts | files as generated",
    );
    // Each target variant's fresh generation, made once: every variant switches into it.
    let mut fresh = BTreeMap::new();
    for variant in variants() {
        let project = match user_project_named(variant, "answers", "changed-answers") {
            Ok(project) => project,
            Err(error) => {
                table.outcome(&variant, Err::<String, _>(error));
                continue;
            }
        };
        for option in switchable() {
            let value = variant.other_value(option);
            let target = variant.switched(option, value);
            let setting = format!("{option}={value}");
            let outcome = check_switch(&project, target, &setting, &mut fresh);
            table.outcome(
                &variant,
                outcome.map(|conflicts| format!("{setting} | {conflicts} | yes")),
            );
            // The undo the script prints, so the next option starts from the user's project.
            let undo = git(&project.dir, &["reset", "--quiet", "--hard", "HEAD"]);
            succeeded(&undo, "git reset --hard HEAD").expect("the undo");
        }
    }
    table.finish("changed answers");
}

/// `--set setting` on the user's project: the answer recorded, the conflicts only in
/// files the user changed, every other file as `target` generates it, the user's own
/// file and lines kept, and a consistent `Cargo.lock`. The conflicted files, on success.
fn check_switch(
    project: &Project,
    target: Variant,
    setting: &str,
    fresh: &mut BTreeMap<Variant, Project>,
) -> Result<String, String> {
    // Sixty-four resolutions of crates the build tier has fetched: from cargo's cache, not
    // the registry (`merge` proves the script's online resolution).
    let output = run(
        update_command(project, &releases().repository, &["--set", setting])
            .env("CARGO_NET_OFFLINE", "true"),
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(format!(
            "--set {setting} failed ({}):\n{printed}",
            output.status
        ));
    }
    answer_recorded(project, setting)?;
    let conflicts = succeeded(
        &git(&project.dir, &["diff", "--name-only", "--diff-filter=U"]),
        "git diff",
    )?;
    if let Some(stray) = conflicts.lines().find(|file| !USERS_FILES.contains(file)) {
        return Err(format!(
            "--set {setting}: {stray} conflicts, but only the template changed it:\n{printed}"
        ));
    }
    let fresh = match fresh.entry(target) {
        Entry::Occupied(made) => made.into_mut(),
        Entry::Vacant(entry) => entry.insert(fresh_generation(project, target)?),
    };
    compare_with_fresh(project, fresh, &conflicts)?;
    if !users_changes_kept(project) {
        return Err(format!(
            "--set {setting} lost a change of the user's (Dockerfile, Cargo.toml or NOTES.md)"
        ));
    }
    let locked = run(&mut cargo_for(
        project,
        &["metadata", "--locked", "--format-version", "1"],
    ));
    succeeded(&locked, "cargo metadata --locked after --set").map(drop)?;
    Ok(if conflicts.is_empty() {
        "none".into()
    } else {
        conflicts.lines().collect::<Vec<_>>().join(", ")
    })
}

/// `.template/answers.toml` records `setting` (`OPTION=VALUE`), as a flag or a string.
fn answer_recorded(project: &Project, setting: &str) -> Result<(), String> {
    let (option, value) = setting.split_once('=').expect("OPTION=VALUE");
    let answers = project.read(".template/answers.toml");
    let recorded = [
        format!("{option} = {value}"),
        format!("{option} = \"{value}\""),
    ];
    if answers
        .lines()
        .any(|line| recorded.contains(&line.to_owned()))
    {
        Ok(())
    } else {
        Err(format!(
            "--set {setting}: .template/answers.toml does not record it:\n{answers}"
        ))
    }
}

/// `target` generated afresh at the old release, under the name `project` has.
fn fresh_generation(project: &Project, target: Variant) -> Result<Project, String> {
    let destination = work_dir().join("update/fresh").join(target.id());
    std::fs::remove_dir_all(&destination).ok();
    std::fs::create_dir_all(&destination).map_err(|error| error.to_string())?;
    let name = project
        .dir
        .file_name()
        .expect("a name")
        .to_string_lossy()
        .into_owned();
    let dir = generate_at(
        &old_release(),
        &name,
        &destination,
        &target.defines(),
        "a fresh generation",
    )?;
    Ok(Project {
        variant: target,
        dir,
    })
}

/// Every file of `project` the user did not change is byte for byte what the `fresh`
/// generation of the switched variant holds, and no file is missing or left over.
fn compare_with_fresh(project: &Project, fresh: &Project, conflicts: &str) -> Result<(), String> {
    let target = fresh.variant;
    let ours: Vec<PathBuf> = project
        .files()
        .into_iter()
        .filter(|file| file != &PathBuf::from("NOTES.md"))
        .collect();
    if ours != fresh.files() {
        let missing: Vec<_> = fresh
            .files()
            .into_iter()
            .filter(|file| !ours.contains(file))
            .collect();
        let extra: Vec<_> = ours
            .iter()
            .filter(|file| !fresh.files().contains(file))
            .collect();
        return Err(format!(
            "the files differ from {target}'s: missing {missing:?}, left over {extra:?}"
        ));
    }
    for file in ours {
        let file = file.to_string_lossy();
        if file != "Cargo.lock"
            && !USERS_FILES.contains(&&*file)
            && !conflicts.contains(&*file)
            && project.read(&file) != fresh.read(&file)
        {
            return Err(format!("{file} differs from what {target} generates"));
        }
    }
    Ok(())
}

#[test]
fn a_refused_answer_changes_nothing() {
    let variant = Variant::default_choice();
    if !variants().contains(&variant) {
        return println!("skipped: VARIANTS leaves out {variant}");
    }
    let project = user_project(variant, "answers-refused").expect("the user's project");
    let head =
        succeeded(&git(&project.dir, &["rev-parse", "HEAD"]), "git rev-parse").expect("HEAD");
    for (setting, says) in [
        ("database=mysql", "database is one of"),
        ("queue=true", "the template has no option queue"),
        ("redis=yes", "redis is true or false"),
        ("http_port=99999", "is not a port number"),
    ] {
        let output = update(&project, &["--set", setting]);
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.code() == Some(2) && error.lines().count() == 1 && error.contains(says),
            "--set {setting}: expected exit 2 and one line saying \"{says}\"; saw {} and:\n{error}",
            output.status
        );
        let status = succeeded(&git(&project.dir, &["status", "--porcelain"]), "git status")
            .expect("status");
        let now =
            succeeded(&git(&project.dir, &["rev-parse", "HEAD"]), "git rev-parse").expect("HEAD");
        assert!(
            status.is_empty() && now == head,
            "--set {setting} changed the project:\n{status}"
        );
    }
}
