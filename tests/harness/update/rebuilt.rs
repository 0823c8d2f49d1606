//! The default and maximal variants take the new release and the other database in one
//! update (`--to` with `--set database=...`, so each direction of the switch), then pass
//! `cargo fmt --check`, clippy and their tests against the real database.

use super::{
    releases::releases,
    take_the_templates_side,
    user::{update, user_project},
};
use crate::helpers::{CLIPPY, Failures, Project, Variant, cargo_for, run, succeeded, variants};

#[test]
fn the_extreme_variants_build_lint_and_pass_their_tests_after_an_update_to_the_other_database() {
    let mut failures = Failures::default();
    for variant in [Variant::default_choice(), Variant::maximal()] {
        if !variants().contains(&variant) {
            println!("skipped {variant}: VARIANTS leaves it out");
            continue;
        }
        if let Err(error) = updated_and_checked(variant) {
            failures.add(&variant, error);
        }
    }
    failures.assert_none("building after an update that switches the database");
}

/// `variant`'s user project updated to the new release on the other database, its
/// conflicts resolved on the template's side, then checked as its CI checks it.
fn updated_and_checked(variant: Variant) -> Result<(), String> {
    let project = user_project(variant, "build")?;
    let other = variant.other_value("database");
    let setting = format!("database={other}");
    let output = update(&project, &["--to", &releases().new, "--set", &setting]);
    succeeded(&output, &format!("the update with --set {setting}"))?;
    take_the_templates_side(&project)?;
    // The switched project runs against the database it now has.
    let switched = Project {
        variant: variant.switched("database", other),
        dir: project.dir,
    };
    for args in [&["fmt", "--check"][..], CLIPPY, &["test", "--locked"][..]] {
        succeeded(
            &run(&mut cargo_for(&switched, args)),
            &format!("cargo {} after --set {setting}", args[0]),
        )?;
    }
    Ok(())
}
