//! The environment variables across the service's code, its env templates, its docs,
//! its compose files and its scripts: each read is documented, each documented is read.

use std::collections::BTreeSet;

use super::SCRIPTS;
use crate::helpers::{
    Failures, Variant, all_projects,
    settings::{names_after, variables_in_env_file, variables_read_by_the_service},
};

/// Set by the image (HOST, PORT) or fixed by compose (APP_ENV, LOG_FORMAT) in production,
/// so `.env.production.example` does not offer them.
pub const FIXED_IN_PRODUCTION: &[&str] = &["HOST", "PORT", "APP_ENV", "LOG_FORMAT"];

/// Where a project names its variables.
struct Documents {
    production: BTreeSet<String>,
    docs: String,
    readme: String,
}

/// Whether `text` names `variable` as code: `` `NAME` ``.
fn mentions(text: &str, variable: &str) -> bool {
    text.contains(&format!("`{variable}`"))
}

/// Each variable the service reads is in `.env.production.example` (unless fixed in
/// production), `docs/deployment.md` and `README.md`.
fn every_read_variable_is_documented(
    failures: &mut Failures,
    v: &Variant,
    service: &BTreeSet<String>,
    documents: &Documents,
) {
    for variable in service {
        let fixed_in_production = FIXED_IN_PRODUCTION.contains(&variable.as_str());
        failures.check(
            fixed_in_production || documents.production.contains(variable),
            v,
            format!("{variable} is read by the service but not in .env.production.example"),
        );
        failures.check(
            mentions(&documents.docs, variable),
            v,
            format!("{variable} is read by the service but not in docs/deployment.md"),
        );
        failures.check(
            mentions(&documents.readme, variable),
            v,
            format!("{variable} is read by the service but not in README.md"),
        );
    }
}

/// Each variable of `.env.production.example` is read by the service, the production
/// compose file or a script, and explained in `docs/deployment.md`; each the production
/// compose file reads is in `.env.production.example`.
fn every_production_variable_is_read(
    failures: &mut Failures,
    v: &Variant,
    read_in_production: &BTreeSet<String>,
    production_compose: &BTreeSet<String>,
    documents: &Documents,
) {
    for variable in &documents.production {
        failures.check(
            read_in_production.contains(variable),
            v,
            format!("{variable} is in .env.production.example but nothing reads it"),
        );
        failures.check(
            mentions(&documents.docs, variable),
            v,
            format!("{variable} is in .env.production.example but not in docs/deployment.md"),
        );
    }
    for variable in production_compose {
        failures.check(
            documents.production.contains(variable),
            v,
            format!("compose.production.yml reads {variable} but .env.production.example lacks it"),
        );
    }
}

#[test]
fn every_variable_is_read_documented_and_in_the_env_templates() {
    let mut failures = Failures::default();
    for project in all_projects() {
        let v = &project.variant;
        let service = variables_read_by_the_service(&project);
        let documents = Documents {
            production: variables_in_env_file(&project.read(".env.production.example")),
            docs: project.read("docs/deployment.md"),
            readme: project.read("README.md"),
        };
        let development = variables_in_env_file(&project.read(".env.example"));
        let production_compose = names_after(&project.read("compose.production.yml"), "${");
        let development_compose = names_after(&project.read("compose.yml"), "${");
        let scripts: BTreeSet<String> = SCRIPTS
            .iter()
            .chain(&["scripts/common.sh"])
            .flat_map(|script| names_after(&project.read(script), "setting "))
            .collect();

        every_read_variable_is_documented(&mut failures, v, &service, &documents);
        let read_in_production: BTreeSet<String> = service
            .iter()
            .chain(&production_compose)
            .chain(&scripts)
            .cloned()
            .collect();
        every_production_variable_is_read(
            &mut failures,
            v,
            &read_in_production,
            &production_compose,
            &documents,
        );
        let read_in_development: BTreeSet<String> =
            service.union(&development_compose).cloned().collect();
        for variable in &development {
            failures.check(
                read_in_development.contains(variable),
                v,
                format!("{variable} is in .env.example but nothing reads it"),
            );
        }
    }
    failures.assert_none("environment variables");
}
