//! Generation and the files of every variant. The checks:
//! - every variant has the files all variants have, none of the template repository's
//!   own (`cargo-generate.toml`, `lockfiles`, `hooks`, `Cargo.toml.liquid`), and each
//!   optional file exactly when its options choose it;
//! - its `Cargo.toml` depends on `redis`, `sentry` and the OpenTelemetry crates exactly
//!   when chosen, and enables sqlx's `postgres` or `sqlite` feature, not both;
//! - no text file keeps template syntax (`{{`, `{%`, `%}`), but for the GitHub Actions
//!   and docker/metadata-action expressions written on purpose;
//! - no file has two blank lines in a row, starts with a blank line, or ends other than
//!   with exactly one newline;
//! - every TOML, YAML and JSON file parses;
//! - every `Cargo.lock` matches its manifest (`cargo metadata --locked`);
//! - no Liquid sits inside a function body of `template/src` outside the router's
//!   middleware stack, and the counter that finds it is tested itself;
//! - `.template/answers.toml` records every placeholder with the value the variant was
//!   generated with, and the project's name.

use std::path::Path;

use crate::helpers::{Failures, Project, all_projects, files_under, repo_root};

/// Files every variant has.
const ALWAYS: &[&str] = &[
    ".gitignore",
    "Cargo.lock",
    "Caddyfile",
    "Cargo.toml",
    "README.md",
    "build.rs",
    "migrations/20260101000000_create_items.sql",
    ".template/answers.toml",
    "scripts/update-template.sh",
    "src/main.rs",
    "src/config.rs",
    "src/db.rs",
    "src/startup.rs",
    "src/api_doc.rs",
    "src/rate_limit.rs",
    "openapi.json",
    "schemathesis.toml",
    "tests/api/main.rs",
    "tests/api/openapi.rs",
    "tests/api/rate_limit.rs",
    "tests/support/app.rs",
    "tests/cli.rs",
];

/// Files of the template repository that must never reach a generated project.
const NEVER: &[&str] = &[
    "cargo-generate.toml",
    "lockfiles",
    "hooks",
    "Cargo.toml.liquid",
];

/// Files present exactly when the condition holds.
fn optional_files(project: &Project) -> Vec<(&'static str, bool)> {
    let v = project.variant;
    vec![
        ("src/cache.rs", v.on("redis")),
        ("src/items/cached.rs", v.on("redis")),
        ("tests/api/cache.rs", v.on("redis")),
        ("src/telemetry/sentry.rs", v.on("sentry")),
        ("tests/sentry.rs", v.on("sentry")),
        ("src/telemetry/otel.rs", v.on("otel")),
        ("tests/otel.rs", v.on("otel")),
        ("tests/support/receiver.rs", v.on("sentry") || v.on("otel")),
        ("src/db/postgres.rs", v.is("database", "postgres")),
        ("tests/api/postgres.rs", v.is("database", "postgres")),
        ("tests/support/postgres.rs", v.is("database", "postgres")),
        ("src/db/sqlite.rs", !v.is("database", "postgres")),
        ("tests/api/sqlite.rs", !v.is("database", "postgres")),
        ("tests/support/sqlite.rs", !v.is("database", "postgres")),
        (
            "deploy/kubernetes/base/horizontalpodautoscaler.yaml",
            v.is("database", "postgres"),
        ),
        (
            "deploy/kubernetes/base/poddisruptionbudget.yaml",
            v.is("database", "postgres"),
        ),
        (
            "deploy/kubernetes/base/persistentvolumeclaim.yaml",
            !v.is("database", "postgres"),
        ),
    ]
}

#[test]
fn every_variant_has_its_files_and_none_of_the_others() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let variant = &project.variant;
        for file in ALWAYS {
            failures.check(project.exists(file), variant, format!("{file} is missing"));
        }
        for file in NEVER {
            failures.check(
                !project.exists(file),
                variant,
                format!("{file} should not be generated"),
            );
        }
        for (file, expected) in optional_files(&project) {
            let present = project.exists(file);
            failures.check(
                present == expected,
                variant,
                format!("{file}: expected present={expected}, saw present={present}"),
            );
        }
    }
    failures.assert_none("files per variant");
}

#[test]
fn every_variant_depends_on_exactly_the_crates_its_options_need() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let variant = &project.variant;
        let manifest: toml::Table = project
            .read("Cargo.toml")
            .parse()
            .expect("Cargo.toml parses");
        let dependencies = manifest["dependencies"].as_table().expect("[dependencies]");
        for (krate, expected) in [
            ("redis", variant.on("redis")),
            ("sentry", variant.on("sentry")),
            ("opentelemetry", variant.on("otel")),
            ("tracing-opentelemetry", variant.on("otel")),
        ] {
            let present = dependencies.contains_key(krate);
            failures.check(
                present == expected,
                variant,
                format!("dependency {krate}: expected {expected}, saw {present}"),
            );
        }
        let sqlx_features = dependencies["sqlx"]["features"]
            .as_array()
            .expect("sqlx features");
        for (feature, expected) in [
            ("postgres", variant.is("database", "postgres")),
            ("sqlite", !variant.is("database", "postgres")),
        ] {
            let present = sqlx_features.iter().any(|f| f.as_str() == Some(feature));
            failures.check(
                present == expected,
                variant,
                format!("sqlx feature {feature}: expected {expected}, saw {present}"),
            );
        }
    }
    failures.assert_none("dependencies per variant");
}

fn is_text(path: &Path) -> bool {
    !matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("png" | "ico" | "db")
    )
}

/// `{{` that belongs to GitHub Actions (`${{ }}`), docker/metadata-action
/// (`{{version}}`) or a Go template given to docker's `--format '{{ ... }}'`, written
/// verbatim on purpose.
fn is_other_template_syntax(line: &str, at: usize) -> bool {
    let rest = &line[at..];
    line[..at].ends_with('$')
        || line[..at].ends_with("--format '")
        || ["{{version}}", "{{major}}", "{{minor}}"]
            .iter()
            .any(|pattern| rest.starts_with(pattern))
}

#[test]
fn no_template_syntax_is_left_in_any_file() {
    let mut failures = Failures::default();
    for project in all_projects() {
        for file in project.files().into_iter().filter(|file| is_text(file)) {
            let text = project.read(&file.to_string_lossy());
            for (number, line) in text.lines().enumerate() {
                let liquid_output = line
                    .match_indices("{{")
                    .any(|(at, _)| !is_other_template_syntax(line, at));
                if liquid_output || line.contains("{%") || line.contains("%}") {
                    failures.add(
                        &project.variant,
                        format!("{}:{}: {line}", file.display(), number + 1),
                    );
                }
            }
        }
    }
    failures.assert_none("leftover template syntax");
}

#[test]
fn no_file_has_blank_line_clutter() {
    let mut failures = Failures::default();
    for project in all_projects() {
        for file in project.files().into_iter().filter(|file| is_text(file)) {
            let text = project.read(&file.to_string_lossy());
            let file = file.display();
            failures.check(
                !text.contains("\n\n\n"),
                &project.variant,
                format!("{file}: two blank lines in a row"),
            );
            failures.check(
                !text.starts_with('\n'),
                &project.variant,
                format!("{file}: starts with a blank line"),
            );
            failures.check(
                text.is_empty() || (text.ends_with('\n') && !text.ends_with("\n\n")),
                &project.variant,
                format!("{file}: does not end with exactly one newline"),
            );
        }
    }
    failures.assert_none("blank-line clutter");
}

#[test]
fn every_toml_yaml_and_json_file_parses() {
    let mut failures = Failures::default();
    for project in all_projects() {
        for file in project.files() {
            let name = file.to_string_lossy().into_owned();
            let extension = file
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default();
            let parsed: Result<(), String> = match extension {
                "toml" | "lock" => project
                    .read(&name)
                    .parse::<toml::Table>()
                    .map(drop)
                    .map_err(|e| e.to_string()),
                "yml" | "yaml" => serde_yaml::from_str::<serde_yaml::Value>(&project.read(&name))
                    .map(drop)
                    .map_err(|e| e.to_string()),
                "json" => serde_json::from_str::<serde_json::Value>(&project.read(&name))
                    .map(drop)
                    .map_err(|e| e.to_string()),
                _ => Ok(()),
            };
            if let Err(error) = parsed {
                failures.add(&project.variant, format!("{name} does not parse: {error}"));
            }
        }
    }
    failures.assert_none("parsing");
}

#[test]
fn every_lockfile_matches_its_manifest() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let output = project
            .command("cargo")
            .args(["metadata", "--locked", "--format-version", "1"])
            .output()
            .expect("cargo metadata runs");
        failures.check(
            output.status.success(),
            &project.variant,
            format!(
                "Cargo.lock is stale (run scripts/update-lockfiles.sh):\n{}",
                crate::helpers::tail(&output, 5)
            ),
        );
    }
    failures.assert_none("lockfiles");
}

/// Lines of Liquid (`{% %}`) inside a function body, with the function's name: a brace
/// count over the template source, skipping strings, comments and Liquid itself.
fn liquid_inside_functions(source: &str) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    let (mut depth, mut open_functions, mut pending): (
        usize,
        Vec<(usize, String)>,
        Option<String>,
    ) = (0, Vec::new(), None);
    for (number, line) in source.lines().enumerate() {
        if let (true, Some((_, name))) = (line.contains("{%"), open_functions.last()) {
            found.push((number + 1, name.clone(), line.trim().to_owned()));
        }
        let code = rust_code_of(line);
        let mut words = code
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|word| !word.is_empty());
        while let Some(word) = words.next() {
            if word == "fn" {
                pending = words.next().map(str::to_owned);
            }
        }
        for c in code.chars() {
            match c {
                '{' => {
                    depth += 1;
                    if let Some(name) = pending.take() {
                        open_functions.push((depth, name));
                    }
                }
                '}' => {
                    if open_functions.last().is_some_and(|(at, _)| *at == depth) {
                        open_functions.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                ';' => pending = None,
                _ => {}
            }
        }
    }
    found
}

/// A line's Rust code without Liquid, string and char literals, or a comment.
fn rust_code_of(line: &str) -> String {
    let mut line = line.to_owned();
    for (open, close) in [("{%", "%}"), ("{{", "}}")] {
        while let Some(start) = line.find(open) {
            let end = line[start..]
                .find(close)
                .map_or(line.len(), |end| start + end + close.len());
            line.replace_range(start..end, "");
        }
    }
    let (mut code, mut chars, mut in_string) = (String::new(), line.chars().peekable(), false);
    while let Some(c) = chars.next() {
        match (in_string, c) {
            (true, '\\') => {
                chars.next();
            }
            (true, '"') | (false, '"') => in_string = !in_string,
            (true, _) => {}
            (false, '/') if chars.peek() == Some(&'/') => break,
            (false, '\'') if line.contains("'{'") || line.contains("'}'") => {}
            (false, c) => code.push(c),
        }
    }
    code
}

/// Variant code lives in its own files; Liquid chooses them at wiring points (`mod`
/// lines, struct fields, lists of what each variant file contributes), never inside a
/// function, except in the middleware stack of `startup::router`.
#[test]
fn no_liquid_sits_inside_a_function_body() {
    let template = repo_root().join("template");
    let mut found = Vec::new();
    for directory in ["src", "tests"] {
        for file in rust_files(&template.join(directory)) {
            let source = std::fs::read_to_string(&file).expect("template source");
            let relative = file
                .strip_prefix(&template)
                .unwrap_or(&file)
                .display()
                .to_string();
            for (line, function, text) in liquid_inside_functions(&source) {
                if !(relative == "src/startup.rs" && function == "router") {
                    found.push(format!("{relative}:{line} in fn {function}: {text}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "Liquid inside function bodies (move the variant's code into its own file):\n{}",
        found.join("\n")
    );
}

fn rust_files(directory: &Path) -> Vec<std::path::PathBuf> {
    let mut files = files_under(directory, &|_: &Path| false);
    files.retain(|path| path.extension().is_some_and(|extension| extension == "rs"));
    files
}

#[test]
fn the_liquid_counter_finds_liquid_in_a_function_and_not_at_a_mod_line() {
    let source = "{% if a %}\nmod a;\n{% endif %}\nfn f() {\n    let s = \"{\";\n{% if a %}\n    a::go();\n{% endif %}\n}\n";

    let found = liquid_inside_functions(source);

    assert_eq!(
        found
            .iter()
            .map(|(line, name, _)| (*line, name.as_str()))
            .collect::<Vec<_>>(),
        [(6, "f"), (8, "f")]
    );
}

/// `.template/answers.toml` names every placeholder of `cargo-generate.toml` with the
/// value this variant was generated with: `scripts/update-template.sh` renders the
/// template again from it.
#[test]
fn every_variant_records_the_answers_it_was_generated_with() {
    let manifest: toml::Table =
        std::fs::read_to_string(repo_root().join("template/cargo-generate.toml"))
            .expect("cargo-generate.toml")
            .parse()
            .expect("it parses");
    let placeholders: Vec<&String> = manifest["placeholders"]
        .as_table()
        .expect("[placeholders]")
        .keys()
        .collect();
    let mut failures = Failures::default();
    for project in all_projects() {
        let variant = &project.variant;
        let answers: toml::Table = match project.read(".template/answers.toml").parse() {
            Ok(answers) => answers,
            Err(error) => {
                failures.add(
                    variant,
                    format!(".template/answers.toml does not parse: {error}"),
                );
                continue;
            }
        };
        let values = answers
            .get("values")
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default();
        let recorded: Vec<&String> = values.keys().collect();
        failures.check(
            recorded == placeholders,
            variant,
            format!("[values] names {recorded:?}, cargo-generate.toml has {placeholders:?}"),
        );
        for define in variant.defines() {
            let (name, value) = define.split_once('=').expect("name=value");
            let seen = values.get(name).map(|value| {
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned)
            });
            failures.check(
                seen.as_deref() == Some(value),
                variant,
                format!("{name}: expected {value}, recorded {seen:?}"),
            );
        }
        failures.check(
            answers["template"]["name"].as_str()
                == Some(crate::helpers::project_name(variant).as_str()),
            variant,
            "the recorded name is not the project's",
        );
    }
    failures.assert_none("recorded answers");
}
