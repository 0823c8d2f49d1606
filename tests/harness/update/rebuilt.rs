//! The default and maximal variants build, lint and pass their tests after an update.

use super::{
    releases::releases,
    take_the_templates_side,
    user::{update, user_project},
};
use crate::helpers::{CLIPPY, Failures, Variant, cargo_for, run, succeeded, variants};

#[test]
fn the_extreme_variants_build_lint_and_pass_their_tests_after_an_update() {
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
    failures.assert_none("building after an update");
}

/// `variant`'s user project updated, its conflicts resolved on the template's side, then
/// `cargo clippy` and `cargo test` as its CI runs them.
fn updated_and_checked(variant: Variant) -> Result<(), String> {
    let project = user_project(variant, "build")?;
    let output = update(&project, &["--to", &releases().new]);
    succeeded(&output, "the update")?;
    take_the_templates_side(&project)?;
    for args in [CLIPPY, &["test", "--locked"][..]] {
        succeeded(
            &run(&mut cargo_for(&project, args)),
            &format!("cargo {}", args[0]),
        )?;
    }
    Ok(())
}
