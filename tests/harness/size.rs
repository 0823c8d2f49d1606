//! Sizes a reader can hold in mind: no harness file over 500 lines, no harness
//! function over 60, and no function of the generated service over 50 (the
//! standard the template sets, kept for the code that tests it too).

use std::path::{Path, PathBuf};

use crate::helpers::{files_under, repo_root};

const HARNESS_FILE_LINES: usize = 500;
const HARNESS_FUNCTION_LINES: usize = 60;
const SERVICE_FUNCTION_LINES: usize = 50;

/// The Rust files under `dir` of this repository.
fn rust_files(dir: &str) -> Vec<PathBuf> {
    let mut files = files_under(&repo_root().join(dir), &|_: &Path| false);
    files.retain(|path| path.extension().is_some_and(|extension| extension == "rs"));
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Each function of rustfmt-formatted `source` longer than `limit` lines, as
/// `(its first line, its length)`: a function runs from its `fn` line to the
/// first `}` at the same indentation.
fn functions_longer_than(source: &str, limit: usize) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut long = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let declaration = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "async fn ",
            "pub async fn ",
        ]
        .iter()
        .any(|prefix| code.starts_with(prefix));
        if !declaration || code.ends_with(';') {
            continue;
        }
        let closing = format!("{}}}", &line[..line.len() - code.len()]);
        let end = lines[start..].iter().position(|line| *line == closing);
        if let Some(length) = end.map(|offset| offset + 1)
            && length > limit
        {
            long.push((start + 1, length));
        }
    }
    long
}

fn assert_functions_at_most(dirs: &[&str], limit: usize) {
    let mut found = Vec::new();
    for file in dirs.iter().flat_map(|dir| rust_files(dir)) {
        let source = std::fs::read_to_string(&file).expect("a readable source file");
        for (line, length) in functions_longer_than(&source, limit) {
            found.push(format!("{}:{line}: {length} lines", relative(&file)));
        }
    }
    assert!(
        found.is_empty(),
        "expected no function over {limit} lines, saw:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_harness_file_runs_past_500_lines() {
    let long: Vec<String> = ["tests", "src", "examples", "bench/src"]
        .iter()
        .flat_map(|dir| rust_files(dir))
        .filter_map(|file| {
            let lines = std::fs::read_to_string(&file).ok()?.lines().count();
            (lines > HARNESS_FILE_LINES).then(|| format!("{}: {lines} lines", relative(&file)))
        })
        .collect();
    assert!(
        long.is_empty(),
        "expected no file over {HARNESS_FILE_LINES} lines, saw:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_harness_function_runs_past_60_lines() {
    assert_functions_at_most(
        &["tests", "src", "examples", "bench/src"],
        HARNESS_FUNCTION_LINES,
    );
}

#[test]
fn no_function_of_the_generated_service_runs_past_50_lines() {
    assert_functions_at_most(&["template/src"], SERVICE_FUNCTION_LINES);
}

#[test]
fn the_function_counter_measures_from_fn_to_its_closing_brace() {
    let source = "mod m {\n    fn short() {\n        one();\n    }\n\n    pub fn long() {\n        let s = \"}\";\n        if s.is_empty() {\n        }\n    }\n    fn declared();\n}\n";

    let long = functions_longer_than(source, 3);

    assert_eq!(
        long,
        vec![(6, 5)],
        "expected only `long`, at line 6, 5 lines long"
    );
}
