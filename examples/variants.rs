//! Lists the template's variants for scripts and CI, from `template/cargo-generate.toml`.
//!
//! Usage: `cargo run --quiet --example variants [-- --defines | --lockfiles | --json]`
//! - no flag: one id per line (`sqlite`, `sqlite+otel`, ...);
//! - `--defines`: each id followed by the `-d name=value` arguments that generate it;
//! - `--lockfiles`: the same, with the name of the variant's lockfile instead of its id;
//! - `--json`: a JSON array of the ids, for a CI matrix.

use std::process::ExitCode;

use template_harness::Variant;

fn main() -> ExitCode {
    let every = Variant::every();
    match std::env::args().nth(1).as_deref() {
        None => every.iter().for_each(|variant| println!("{variant}")),
        Some(flag @ ("--defines" | "--lockfiles")) => {
            for variant in every {
                let defines: Vec<String> = variant
                    .defines()
                    .iter()
                    .map(|define| format!("-d {define}"))
                    .collect();
                let name = if flag == "--defines" {
                    variant.id()
                } else {
                    variant.lockfile_stem()
                };
                println!("{name} {}", defines.join(" "));
            }
        }
        // Ids hold only letters and `+`: nothing to escape.
        Some("--json") => {
            let quoted: Vec<String> = every
                .iter()
                .map(|variant| format!("\"{variant}\""))
                .collect();
            println!("[{}]", quoted.join(","));
        }
        Some(other) => {
            eprintln!("unknown argument {other}: use --defines, --lockfiles, --json or nothing");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
