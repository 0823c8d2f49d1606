//! The settings a generated project reads, documents and passes on, by variable name.

use std::{collections::BTreeSet, path::Path};

use super::{Project, files_under};

/// Every environment-variable name written right after `marker` in `text`.
pub fn names_after(text: &str, marker: &str) -> BTreeSet<String> {
    text.split(marker)
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

/// Variable names the service reads: the clap `env = "..."` attributes in any file
/// under `src/`, wherever a setting lives.
pub fn variables_read_by_the_service(project: &Project) -> BTreeSet<String> {
    let sources = files_under(&project.path("src"), &|_: &Path| false);
    sources
        .iter()
        .filter(|path| path.extension().is_some_and(|extension| extension == "rs"))
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_else(|error| {
                panic!(
                    "[{}] cannot read {}: {error}",
                    project.variant,
                    path.display()
                )
            });
            names_after(&text, "env = \"")
        })
        .collect()
}

/// `NAME` of every `NAME=value` line.
pub fn variables_in_env_file(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim().to_owned()))
        .filter(|name| !name.is_empty())
        .collect()
}
