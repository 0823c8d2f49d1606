//! Refused input: each rule stops generation with a message saying what to fix,
//! and leaves no half-written project behind. The checks:
//! - refused, each with its sentence: a name starting with a digit, a name reserved in
//!   Rust or Cargo (`std`, `core`, `alloc`, `test`, `proc-macro`, `self`, `crate`,
//!   `super`), a name longer than a DNS label (63), uppercase letters or underscores and
//!   a trailing hyphen kept by `--force`, an unknown database, an `http_port` that is
//!   not a number or out of range, an `image_registry` ending in a slash;
//! - accepted: no options at all give the default variant (SQLite), and the template
//!   generates from a `git` URL;
//! - the harness generates from the checkout's `template/`, not from a template copy
//!   left under `target/` (which cargo-generate, given the checkout, would expand first).

use crate::helpers::{
    CARGO_GENERATE, Project, Variant, files_under, repo_root, run_cargo_generate, tail, work_dir,
};

/// Runs a generation expected to be refused; returns what it printed.
fn refused(case: &str, name: &str, extra: &[&str]) -> String {
    let destination = work_dir().join("refused").join(case);
    std::fs::remove_dir_all(&destination).ok();
    let args: Vec<String> = extra.iter().map(ToString::to_string).collect();
    let output = run_cargo_generate(name, &args, &destination);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.status.success(),
        "[{case}] generation was not refused:\n{printed}"
    );
    let leftovers: Vec<_> = files_under(&destination, &|_: &std::path::Path| false);
    assert!(
        leftovers.is_empty(),
        "[{case}] a refused generation left files: {leftovers:?}"
    );
    printed
}

fn assert_says(printed: &str, expected: &str) {
    assert!(
        printed.contains(expected),
        "expected the message to say `{expected}`, saw:\n{printed}"
    );
}

#[test]
fn it_refuses_a_name_starting_with_a_digit() {
    let printed = refused("digit", "1service", &[]);
    assert_says(
        &printed,
        "the project name '1service' must start with a lowercase letter (a-z)",
    );
}

#[test]
fn it_refuses_a_reserved_name() {
    for name in [
        "std",
        "core",
        "alloc",
        "test",
        "proc-macro",
        "self",
        "crate",
        "super",
    ] {
        let printed = refused(&format!("reserved-{name}"), name, &[]);
        assert_says(
            &printed,
            &format!("the project name '{name}' is reserved in Rust or Cargo"),
        );
    }
}

#[test]
fn it_refuses_a_name_longer_than_a_dns_label() {
    let name = format!("s{}", "e".repeat(63));
    let printed = refused("long", &name, &[]);
    assert_says(&printed, "has 64 characters: a host name allows at most 63");
}

#[test]
fn it_refuses_uppercase_and_underscores_kept_by_force() {
    let printed = refused("force", "svc_With_Caps", &["--force"]);
    assert_says(
        &printed,
        "may contain only lowercase letters, digits and hyphens",
    );
}

#[test]
fn it_refuses_a_trailing_hyphen_kept_by_force() {
    let printed = refused("hyphen", "service-", &["--force"]);
    assert_says(&printed, "must not end with a hyphen");
}

#[test]
fn it_refuses_an_unknown_database() {
    let printed = refused("database", "svc", &["-d", "database=mysql"]);
    assert_says(&printed, "\"mysql\" is not a valid value for database");
}

#[test]
fn it_refuses_a_port_that_is_not_a_number() {
    let printed = refused("port-text", "svc", &["-d", "http_port=http"]);
    assert_says(&printed, "http_port 'http' is not a port number");
}

#[test]
fn it_refuses_a_port_out_of_range() {
    let printed = refused("port-range", "svc", &["-d", "http_port=70000"]);
    assert_says(&printed, "http_port '70000' is not a port number");
}

#[test]
fn it_refuses_an_image_registry_with_a_trailing_slash() {
    let printed = refused("registry", "svc", &["-d", "image_registry=ghcr.io/acme/"]);
    assert_says(
        &printed,
        "image_registry 'ghcr.io/acme/' is not a registry path",
    );
}

#[test]
fn generation_reads_the_checkouts_template_not_a_copy_under_target() {
    // Named to come first in path order, before the copies the other tiers leave.
    let stale = repo_root().join("target/a-stale-template-copy/template");
    std::fs::create_dir_all(&stale).expect("the stale copy's directory");
    std::fs::write(stale.join("cargo-generate.toml"), "[template]\n").expect("its config");
    std::fs::write(stale.join("STALE"), "from the copy under target/\n").expect("its file");
    let destination = work_dir().join("beside-a-stale-copy");
    std::fs::remove_dir_all(&destination).ok();

    let output = run_cargo_generate("fresh-service", &[], &destination);

    std::fs::remove_dir_all(stale.parent().expect("a parent")).ok();
    let project = destination.join("fresh-service");
    assert!(output.status.success(), "{}", tail(&output, 20));
    assert!(
        project.join("Cargo.toml").is_file() && !project.join("STALE").exists(),
        "expected the template's project, saw the stale copy's: {:?}",
        files_under(&project, &|_: &std::path::Path| false)
    );
}

#[test]
fn it_generates_the_default_variant_with_no_options() {
    let destination = work_dir().join("defaults");
    std::fs::remove_dir_all(&destination).ok();

    let output = run_cargo_generate("plain-service", &[], &destination);

    assert!(output.status.success(), "{}", tail(&output, 20));
    let project = Project {
        variant: Variant::default_choice(),
        dir: destination.join("plain-service"),
    };
    assert!(
        project.read("Cargo.toml").contains("\"sqlite\""),
        "the default database is not SQLite"
    );
}

#[test]
fn it_generates_from_a_git_url() {
    let destination = work_dir().join("from-git");
    std::fs::remove_dir_all(&destination).ok();
    std::fs::create_dir_all(&destination).expect("destination");

    let output = std::process::Command::new(CARGO_GENERATE)
        .args(["generate", "--silent", "--git"])
        .arg(format!("file://{}", repo_root().display()))
        .args(["--name", "git-service", "--destination"])
        .arg(&destination)
        .env("USER", "harness")
        .output()
        .expect("cargo-generate runs");

    assert!(output.status.success(), "{}", tail(&output, 20));
    assert!(destination.join("git-service/Cargo.toml").is_file());
}
