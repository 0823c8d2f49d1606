//! The image's binary records the crates it was built from (`cargo auditable`), read
//! back offline as a scanner reads it: the zlib-compressed JSON of its `.dep-v0` section.

use std::{collections::BTreeMap, process::Command};

use super::{Deployment, stack::docker};
use crate::helpers::{project_name, run, succeeded};

/// The section cargo-auditable writes.
const SECTION: &str = ".dep-v0";

impl Deployment<'_> {
    /// Every crate the binary lists is in `Cargo.lock` at the same version, the service
    /// is its root, and each of its own dependencies is listed.
    pub(super) fn check_auditable(&mut self) -> Result<(), String> {
        let listed = self.audit_data()?;
        let locked = self.locked_versions()?;
        let mut root = None;
        let mut names = Vec::new();
        for package in listed["packages"]
            .as_array()
            .ok_or("no `packages` in the audit data")?
        {
            let (name, version) = (
                package["name"].as_str().unwrap_or_default(),
                package["version"].as_str().unwrap_or_default(),
            );
            names.push(name);
            if package["root"] == true {
                root = Some(name.to_owned());
            }
            if locked
                .get(name)
                .is_none_or(|versions| !versions.iter().any(|locked| locked == version))
            {
                return Err(format!(
                    "the binary lists {name} {version}, which Cargo.lock does not hold"
                ));
            }
        }
        let service = project_name(&self.variant);
        if root.as_deref() != Some(service.as_str()) {
            return Err(format!("expected the root package {service}, saw {root:?}"));
        }
        let missing: Vec<String> = self
            .direct_dependencies()?
            .into_iter()
            .filter(|name| !names.contains(&name.as_str()))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the binary does not list these dependencies of Cargo.toml: {missing:?}"
            ));
        }
        self.report.audited_crates = names.len();
        Ok(())
    }

    /// The binary's audit data, from a copy taken out of the old image.
    fn audit_data(&self) -> Result<serde_json::Value, String> {
        let binary = self.dir.join("audited-binary");
        let section = self.dir.join("audited-section");
        let created = succeeded(
            &run(docker(60).args(["create", &format!("{}:1", self.image)])),
            "docker create",
        )?;
        let container = created.trim();
        let path = format!("{container}:/usr/local/bin/{}", project_name(&self.variant));
        let copied = run(docker(60).arg("cp").arg(&path).arg(&binary));
        run(docker(60).args(["rm", container]));
        succeeded(&copied, "docker cp of the binary")?;
        let dumped = run(Command::new("objcopy")
            .arg(format!("--dump-section={SECTION}={}", section.display()))
            .arg(&binary));
        succeeded(
            &dumped,
            &format!("objcopy of the {SECTION} section (no audit data?)"),
        )?;
        let inflate = "import sys, zlib; sys.stdout.write(zlib.decompress(open(sys.argv[1], 'rb').read()).decode())";
        let json = succeeded(
            &run(Command::new("python3").args(["-c", inflate]).arg(&section)),
            "inflating the audit data",
        )?;
        serde_json::from_str(&json).map_err(|error| format!("the audit data is not JSON: {error}"))
    }

    /// Each crate's versions in the project's `Cargo.lock`.
    fn locked_versions(&self) -> Result<BTreeMap<String, Vec<String>>, String> {
        let lock: toml::Table = self
            .generated
            .read("Cargo.lock")
            .parse()
            .map_err(|error| format!("Cargo.lock: {error}"))?;
        let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for package in lock
            .get("package")
            .and_then(|packages| packages.as_array())
            .into_iter()
            .flatten()
        {
            let field = |key: &str| {
                package
                    .get(key)
                    .and_then(|value| value.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            versions
                .entry(field("name"))
                .or_default()
                .push(field("version"));
        }
        Ok(versions)
    }

    /// The crates under `[dependencies]` in the project's `Cargo.toml`.
    fn direct_dependencies(&self) -> Result<Vec<String>, String> {
        let manifest: toml::Table = self
            .generated
            .read("Cargo.toml")
            .parse()
            .map_err(|error| format!("Cargo.toml: {error}"))?;
        let dependencies = manifest
            .get("dependencies")
            .and_then(|table| table.as_table())
            .ok_or("no [dependencies]")?;
        Ok(dependencies.keys().cloned().collect())
    }
}
