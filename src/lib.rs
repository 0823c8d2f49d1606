//! The template's options and their combinations, read from the one place they are
//! declared: the placeholders of `template/cargo-generate.toml`.
//!
//! A placeholder with `choices`, or of type `bool`, is an option: each combination of
//! their values is a variant, generated and checked on its own. Free-text placeholders
//! (the port, the registry) have no effect on which files or crates a project gets.

use std::{fmt, sync::OnceLock};

/// One option: its name and every value it takes, the default first among equals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateOption {
    pub name: String,
    /// `false`, `true` for a flag; the listed choices otherwise, lightest first.
    pub values: Vec<String>,
    pub default: String,
    /// A flag is named in a variant's id when on; a choice always gives its value.
    pub is_flag: bool,
}

/// The template's manifest, built in: no path is baked into this crate, so a build of
/// it from another checkout (the harness's Quick start test) reads the same options.
const MANIFEST: &str = include_str!("../template/cargo-generate.toml");

/// Every option, in the order `cargo-generate.toml` declares them.
pub fn options() -> &'static [TemplateOption] {
    static OPTIONS: OnceLock<Vec<TemplateOption>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        parse_options(MANIFEST)
            .unwrap_or_else(|error| panic!("template/cargo-generate.toml: {error}"))
    })
}

/// The options among a `cargo-generate.toml`'s placeholders.
pub fn parse_options(text: &str) -> Result<Vec<TemplateOption>, String> {
    let manifest: toml::Table = text
        .parse()
        .map_err(|error| format!("does not parse: {error}"))?;
    let placeholders = manifest
        .get("placeholders")
        .and_then(toml::Value::as_table)
        .ok_or("has no [placeholders]")?;
    let mut options = Vec::new();
    for (name, placeholder) in placeholders {
        let field = |key: &str| placeholder.get(key);
        let default = field("default").map(|value| match value {
            toml::Value::String(text) => text.clone(),
            other => other.to_string(),
        });
        let (values, is_flag) =
            if let Some(choices) = field("choices").and_then(toml::Value::as_array) {
                (
                    choices
                        .iter()
                        .filter_map(toml::Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    false,
                )
            } else if field("type").and_then(toml::Value::as_str) == Some("bool") {
                (vec!["false".to_owned(), "true".to_owned()], true)
            } else {
                continue;
            };
        let default = default.ok_or_else(|| format!("option {name} has no default"))?;
        options.push(TemplateOption {
            name: name.clone(),
            values,
            default,
            is_flag,
        });
    }
    // A TOML table forgets its order: keep the file's, which is the order of the prompts.
    options.sort_by_key(|option| text.find(&format!("[placeholders.{}]", option.name)));
    Ok(options)
}

/// One combination of the options' values: an index into every combination, the last
/// option varying fastest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Variant(usize);

impl Variant {
    /// Every combination of the options.
    pub fn every() -> Vec<Variant> {
        let count = options().iter().map(|option| option.values.len()).product();
        (0..count).map(Variant).collect()
    }

    /// Every option at its default: what `cargo generate` with no `-d` makes.
    pub fn default_choice() -> Variant {
        Self::with(|option| option.default.as_str())
    }

    /// Every flag on and every choice at its last (heaviest) value.
    pub fn maximal() -> Variant {
        Self::with(|option| option.values.last().map_or("", String::as_str))
    }

    /// The value of `option` this combination does not have (every option has two).
    pub fn other_value(&self, option: &str) -> &'static str {
        options()
            .iter()
            .find(|candidate| candidate.name == option)
            .and_then(|candidate| {
                candidate
                    .values
                    .iter()
                    .find(|value| !self.is(option, value))
            })
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no other value of {option} in cargo-generate.toml"))
    }

    /// This combination with `option` at `value` instead: the variant an answer changed
    /// after generation (`update-template.sh --set`) turns a project into.
    pub fn switched(&self, option: &str, value: &str) -> Variant {
        Self::with(|candidate| {
            if candidate.name == option {
                value
            } else {
                self.value(&candidate.name)
            }
        })
    }

    fn with<'a>(value_of: impl Fn(&'static TemplateOption) -> &'a str) -> Variant {
        let index = options().iter().fold(0, |index, option| {
            let position = option
                .values
                .iter()
                .position(|value| value == value_of(option))
                .unwrap_or(0);
            index * option.values.len() + position
        });
        Variant(index)
    }

    /// The value of `option` in this combination.
    pub fn value(&self, option: &str) -> &'static str {
        let mut rest = self.0;
        let mut found = None;
        for candidate in options().iter().rev() {
            let count = candidate.values.len();
            if candidate.name == option {
                found = Some(candidate.values[rest % count].as_str());
            }
            rest /= count;
        }
        found.unwrap_or_else(|| panic!("no option named {option} in cargo-generate.toml"))
    }

    /// Whether `option` has `value` in this combination.
    pub fn is(&self, option: &str, value: &str) -> bool {
        self.value(option) == value
    }

    /// Whether flag `option` is on.
    pub fn on(&self, option: &str) -> bool {
        self.is(option, "true")
    }

    /// A readable id, as in `postgres+redis+otel`: each choice's value and each flag
    /// that is on, in the order the options are declared, joined by `+`.
    pub fn id(&self) -> String {
        options()
            .iter()
            .filter_map(|option| match (option.is_flag, self.value(&option.name)) {
                (false, value) => Some(value.to_owned()),
                (true, "true") => Some(option.name.clone()),
                (true, _) => None,
            })
            .collect::<Vec<_>>()
            .join("+")
    }

    /// The name of its lockfile in `template/lockfiles/` (without `.lock`): every option
    /// as `name=value`, joined by `+`, as in `database=postgres+redis=true+sentry=false+otel=false`.
    /// The post-generation hook matches the names against the chosen values, so it needs
    /// no list of the options.
    pub fn lockfile_stem(&self) -> String {
        self.defines().join("+")
    }

    /// The `-d name=value` pairs that make `cargo generate` choose this variant.
    pub fn defines(&self) -> Vec<String> {
        options()
            .iter()
            .map(|option| format!("{}={}", option.name, self.value(&option.name)))
            .collect()
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}
