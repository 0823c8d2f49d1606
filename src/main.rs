//! `cargo generate`, built from the version pinned in this repository's
//! `Cargo.lock`, for machines where `cargo install cargo-generate` cannot build.
//!
//! Usage: `cargo run --release -- generate --path . template --name my-svc`

use std::process::ExitCode;

use cargo_generate::{Cli, generate};
use clap::Parser;

fn main() -> ExitCode {
    let Cli::Generate(args) = Cli::parse();
    match generate(args) {
        Ok(_) => ExitCode::SUCCESS,
        // cargo-generate has already printed the reason.
        Err(_) => ExitCode::FAILURE,
    }
}
