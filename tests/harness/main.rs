//! Generates every variant of the template through the real cargo-generate and
//! checks it. Tiers, cheapest first, each a module whose opening comment names every
//! check it makes:
//! - `size`: no harness file or function, nor function of the service, too long to read;
//! - `render`, `hooks`: generation, the files of each variant, refused input;
//! - `deploy`: compose files, Dockerfile, scripts, workflows, environment variables and
//!   the path each setting takes to the app;
//! - `kubernetes`: the manifests rendered, validated against the Kubernetes schemas,
//!   policy-scanned, and held to the service's routes, ports, drain and settings;
//! - `supply`: cargo-deny's licence, ban and source checks on every variant's tree (and
//!   on planted violations), dependabot's configuration, the release's signing;
//! - `build`: each variant as a standalone project: fmt, clippy (built with no database
//!   reachable), its own tests;
//! - `queries`: the SQL checked at compile time, its committed cache current, and a
//!   stale cache or a missing column refused;
//! - `faults`: each variant's service against a Postgres and a Redis that are stopped
//!   and started under it, and stopped under load;
//! - `contract`: each variant's service fuzzed by Schemathesis against its own OpenAPI
//!   document, on a real database (and Redis where chosen); its docs page and metrics;
//! - `update`: a project generated from one release takes the next by a three-way merge;
//! - `container`: production images run end to end on a Docker engine;
//! - `repo`: this repository's Quick start, scripts, workflow and versions.
//!
//! `helpers` holds what every tier shares (variants, generation, commands, HTTP, the
//! shared Postgres, a project's settings); `services` the servers the `faults` and
//! `contract` tiers start; `report` the per-variant table every tier prints.
//!
//! `VARIANTS=sqlite,postgres+redis cargo test` limits the run to some variants.

mod build;
mod container;
mod contract;
mod deploy;
mod faults;
mod helpers;
mod hooks;
mod kubernetes;
mod prometheus;
mod queries;
mod render;
mod repo;
mod report;
mod services;
mod size;
mod supply;
mod update;
