//! Container end to end: each chosen variant's production image is built from
//! its Dockerfile and run through compose.production.yml on the local Docker
//! engine, against Postgres and Redis running on the host as external services.
//!
//! The facts, each its own test, checked in this order on every variant, and every
//! variant reported even after one fails (the list is [`facts!`] below):
//! - built (`image.rs`): a cold `docker build --no-cache` (the old image, `:1`); then a
//!   one-line change in src/lib.rs, committed, and the build `scripts/deploy.sh --build`
//!   makes of it (the new image, `:2`) takes the dependency layer from the cache;
//! - auditable (`auditable.rs`): the old image's binary carries `cargo auditable`'s
//!   `.dep-v0` section, read back offline (objcopy, zlib): the service as its root, each
//!   crate at its `Cargo.lock` version, each of `Cargo.toml`'s dependencies listed;
//! - healthy (`image.rs`): that deploy.sh run, as on a host (a clone of a remote, build,
//!   migrate, `up --wait`), ends healthy, says how to roll back, and `/health/ready` is 200;
//! - hardened, persistent, logged, migrate, metrics (`runtime.rs`): uid 65532 as the
//!   kernel sees it, read-only root, no capability, no secret in the environment; an
//!   item survives the container being recreated; every log line is JSON and a request
//!   id reaches them; the migrate profile runs on its own; the metrics port answers a
//!   scrape on the compose network only, reporting the commit built;
//! - proxy/TLS (`proxy.rs`): the proxy profile serves the API over TLS with HSTS, and
//!   answers 404 for the probes, which are not public;
//! - proxy/buckets (`proxy.rs`): with the example's settings and a small rate limit, two
//!   clients in containers of their own on the compose network reach the API through
//!   the proxy: one empties its bucket, the other is still served, and the first naming
//!   another address in `X-Forwarded-For` gains nothing;
//! - drain (`runtime.rs`, load in `load.rs`): stopped under load, no request fails and
//!   the service exits 0 within the grace period;
//! - telemetry (`telemetry.rs`, stand-in backends in `upstreams.rs`): a request's span,
//!   in the trace its access line names, reaches an OTLP receiver, a server error reaches a Sentry endpoint;
//! - replicas (`replicas.rs`, Postgres variants): three started at once on an empty
//!   database, then replaced one by one from `:1` to `:2` behind a Caddy, under load,
//!   failing nothing and sending nothing to an upstream that is never ready.
//!
//! Each variant's cold build starts once the variant before it is built, while that
//! variant's other facts are checked, at low CPU priority (`docker build --cpu-shares`):
//! it takes the CPU those checks leave idle, and its time in the report is longer than
//! a build's on an idle machine.
//!
//! Authentication stays on: the stack verifies HMAC tokens with `AUTH_HMAC_SECRET` from
//! its secret file, and every API call carries a token the variant's own `dev-token`
//! signs with that secret ([`Deployment::authorization`]).
//!
//! `stack.rs` holds the compose stack the checks share: on a subnet no network on the
//! engine overlaps, and cleared first of what an earlier run left under its project name
//! (a volume holding that run's items). Builds on stand-in base images
//! (tests/container/stand-in-images.sh, run here; `HARNESS_STAND_INS=0` uses the real
//! ones where a registry is reachable). `E2E_VARIANTS` picks variants (comma-separated
//! ids, or `all`); by default the two extremes run. Without a Docker engine it fails
//! under `CI=true` and is skipped, loudly, elsewhere.

use std::{path::PathBuf, process::Command, sync::OnceLock, thread::JoinHandle, time::Duration};

use crate::helpers::{
    Failures, Project, Variant, generated, project_name, repo_root, run, succeeded, tail, variants,
    work_dir,
};

mod auditable;
mod image;
mod load;
mod proxy;
mod replicas;
mod runtime;
mod stack;
mod telemetry;
mod upstreams;

use image::{ColdBuild, DeployRun, cold_build_ahead};
use stack::Stack;
use upstreams::Receiver;

/// Declares the facts. One entry per fact: its name in the report, the fact it cannot
/// be checked without, the variants it applies to (`only`, every variant when left
/// out), the [`Deployment`] method that checks it, and its test. From the entries come
/// [`Fact`], [`Fact::ALL`] in the order of the entries, the dispatch to the checks and
/// one `#[test]` per fact, so a fact cannot exist without its test.
macro_rules! facts {
    (@needs) => { None };
    (@needs $needed:ident) => { Some(Fact::$needed) };
    (@applies $variant:ident) => { true };
    (@applies $variant:ident $applies:path) => { $applies($variant) };
    ($(
        $(#[$doc:meta])*
        $fact:ident $name:literal, needs [$($needed:ident)?], $(only $applies:path,)?
            check $check:ident, test $test:ident;
    )*) => {
        /// What the tier establishes for each variant, in the order it checks them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Fact {
            $($(#[$doc])* $fact,)*
        }

        impl Fact {
            const ALL: &[Fact] = &[$(Fact::$fact),*];

            fn name(self) -> &'static str {
                match self {
                    $(Fact::$fact => $name,)*
                }
            }

            /// The fact this one cannot be checked without.
            fn needs(self) -> Option<Fact> {
                match self {
                    $(Fact::$fact => facts!(@needs $($needed)?),)*
                }
            }

            /// Whether `variant` has anything to check.
            fn applies_to(self, variant: &Variant) -> bool {
                match self {
                    $(Fact::$fact => facts!(@applies variant $($applies)?),)*
                }
            }
        }

        impl Deployment<'_> {
            fn check(&mut self, fact: Fact) -> Result<(), String> {
                match fact {
                    $(Fact::$fact => self.$check(),)*
                }
            }
        }

        $(
            #[test]
            fn $test() {
                assert_fact(Fact::$fact);
            }
        )*
    };
}

facts! {
    /// The image builds cold; rebuilt after a source change, on cached dependencies.
    Built "built", needs [],
        check build, test the_image_builds_cold_and_a_source_change_rebuilds_on_cached_dependencies;
    /// The binary lists its crates for scanners (cargo auditable).
    Auditable "auditable", needs [Built],
        check check_auditable, test the_images_binary_lists_the_crates_it_was_built_from;
    /// scripts/deploy.sh brought the stack to healthy.
    Healthy "healthy", needs [Built],
        check deploy, test deploy_sh_brings_the_production_stack_to_healthy_and_says_how_to_roll_back;
    Hardened "hardened", needs [Healthy],
        check check_hardening, test the_service_runs_hardened_as_uid_65532;
    Persistent "persistent", needs [Healthy],
        check check_persistence, test an_item_survives_the_container_being_recreated;
    Logged "logged", needs [Healthy],
        check check_logs, test every_log_line_is_json_and_a_request_id_reaches_the_logs;
    Migrates "migrate", needs [Healthy],
        check check_migrate_profile, test the_migrate_profile_runs_on_its_own;
    Proxied "proxy/TLS", needs [Healthy],
        check check_proxy, test the_proxy_profile_serves_the_api_over_tls_with_hsts_and_not_the_probes;
    /// Recreates the app with a small rate limit, and then on its deployed settings.
    Buckets "proxy/buckets", needs [Healthy],
        check check_client_buckets,
        test behind_the_proxy_each_client_has_its_own_bucket_and_a_forwarded_for_of_its_own_gains_nothing;
    Metrics "metrics", needs [Healthy],
        check check_metrics, test the_metrics_port_answers_a_scrape_on_the_compose_network_only;
    /// Stops the app: the facts after it start it again when they need it.
    Drains "drain", needs [Healthy],
        check check_drain, test stopping_under_load_fails_no_request_and_exits_0_in_time;
    Telemetry "telemetry", needs [Healthy], only telemetry_chosen,
        check check_telemetry, test traces_and_error_reports_reach_their_backends;
    /// Last: it tears the deployed stack down to run its own. It needs the two images
    /// only, old and rebuilt, not the deployed stack.
    Replicas "replicas", needs [Built], only on_postgres,
        check check_replicas,
        test replicas_start_together_and_are_replaced_one_by_one_under_load_failing_nothing;
}

/// Telemetry has something to deliver only with Sentry or OpenTelemetry chosen.
fn telemetry_chosen(variant: &Variant) -> bool {
    variant.on("otel") || variant.on("sentry")
}

/// SQLite allows one writer process: its manifests never scale it.
fn on_postgres(variant: &Variant) -> bool {
    variant.is("database", "postgres")
}

/// How checking one fact on one variant went.
#[derive(Debug, Clone)]
enum Outcome {
    Held,
    Failed(String),
    /// Not checked: the fact it needs did not hold.
    Unchecked(Fact),
    /// The variant has nothing to check (telemetry without Sentry or OpenTelemetry,
    /// replicas of a SQLite variant).
    NotApplicable,
}

impl Outcome {
    fn mark(&self) -> &'static str {
        match self {
            Outcome::Held => "pass",
            Outcome::Failed(_) => "FAIL",
            Outcome::Unchecked(_) => "not checked",
            Outcome::NotApplicable => "n/a",
        }
    }
}

/// What one variant's run measured.
#[derive(Default)]
struct Report {
    image_mb: f64,
    /// Crates the binary's audit data lists.
    audited_crates: usize,
    cold_build: Duration,
    /// The build scripts/deploy.sh --build makes after the source change.
    rebuild: Duration,
    /// All of scripts/deploy.sh --build, its build included.
    to_healthy: Duration,
    served: usize,
    refused: usize,
    stop: Duration,
    /// The replicas fact's figures, when it ran.
    replicas: String,
}

impl Report {
    fn figures(&self) -> String {
        format!(
            "{:.1} MB | {} | {} | {} | {} | {}/{} | {} | {}",
            self.image_mb,
            self.audited_crates,
            secs(self.cold_build),
            secs(self.rebuild),
            secs(self.to_healthy),
            self.served,
            self.refused,
            secs(self.stop),
            self.replicas
        )
    }
}

fn secs(duration: Duration) -> String {
    format!("{:.0}s", duration.as_secs_f64())
}

type Runs = Vec<(Variant, Vec<(Fact, Outcome)>)>;

fn e2e_variants() -> Vec<Variant> {
    let every = variants();
    match std::env::var("E2E_VARIANTS").as_deref() {
        Ok("all") => every,
        Ok(ids) if !ids.trim().is_empty() => every
            .into_iter()
            .filter(|v| ids.split(',').any(|id| id.trim() == v.id()))
            .collect(),
        _ => every
            .into_iter()
            .filter(|v| *v == Variant::default_choice() || *v == Variant::maximal())
            .collect(),
    }
}

/// Every chosen variant run once through every fact, on first use; `None` when no
/// Docker engine answers outside CI. An error stops every fact's test with the same
/// message, without running the tier again.
fn runs() -> Option<&'static Runs> {
    static RUNS: OnceLock<Result<Option<Runs>, String>> = OnceLock::new();
    match RUNS.get_or_init(run_every_variant) {
        Ok(runs) => runs.as_ref(),
        Err(error) => panic!("{error}"),
    }
}

/// Whether a Docker engine answers, with the stand-in base images built on it.
fn engine_ready() -> Result<bool, String> {
    let docker_up = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !docker_up {
        if std::env::var("CI").as_deref() == Ok("true") {
            return Err("CI=true but no Docker engine answers `docker info`".into());
        }
        eprintln!(
            "\n!!! SKIPPED: container end-to-end tests need a Docker engine (`docker info` failed) !!!\n"
        );
        return Ok(false);
    }
    if std::env::var("HARNESS_STAND_INS").as_deref() != Ok("0") {
        let stand_ins =
            run(Command::new("bash").arg(repo_root().join("tests/container/stand-in-images.sh")));
        if !stand_ins.status.success() {
            return Err(format!("stand-in images:\n{}", tail(&stand_ins, 30)));
        }
    }
    Ok(true)
}

fn run_every_variant() -> Result<Option<Runs>, String> {
    if !engine_ready()? {
        return Ok(None);
    }
    let names: Vec<&str> = Fact::ALL.iter().map(|fact| fact.name()).collect();
    let mut facts = vec![format!("variant | {}", names.join(" | "))];
    let mut figures = vec!["variant | image | crates listed | cold build | rebuild | deploy.sh to healthy | drain (served/refused, failed=0) | stop | replicas".to_owned()];
    let variants = e2e_variants();
    let mut ahead = None;
    let runs: Vec<_> = variants
        .iter()
        .enumerate()
        .map(|(index, &variant)| {
            let next = variants.get(index + 1).copied();
            let start_next = || {
                next.map(|next| {
                    let (dir, image) = build_dir_and_image(&next);
                    cold_build_ahead(&generated(next).dir, &dir, &image)
                })
            };
            let (outcomes, r);
            (outcomes, r, ahead) = run_variant(&generated(variant), ahead.take(), start_next);
            let marks: Vec<&str> = outcomes.iter().map(|(_, outcome)| outcome.mark()).collect();
            facts.push(format!("{variant} | {}", marks.join(" | ")));
            figures.push(format!("{variant} | {}", r.figures()));
            (variant, outcomes)
        })
        .collect();
    println!("\n{}\n\n{}", facts.join("\n"), figures.join("\n"));
    Ok(Some(runs))
}

/// Fails naming every variant on which `fact` did not hold, or could not be checked.
fn assert_fact(fact: Fact) {
    let Some(runs) = runs() else { return };
    let mut failures = Failures::default();
    for (variant, outcomes) in runs {
        match outcomes
            .iter()
            .find(|(checked, _)| *checked == fact)
            .map(|(_, outcome)| outcome)
        {
            Some(Outcome::Failed(error)) => failures.add(variant, error),
            Some(Outcome::Unchecked(needed)) => failures.add(
                variant,
                format!("not checked: {} did not hold", needed.name()),
            ),
            Some(Outcome::Held | Outcome::NotApplicable) => {}
            None => failures.add(variant, "never checked"),
        }
    }
    failures.assert_none(fact.name());
}

/// One variant's production stack, as the checks share it.
struct Deployment<'a> {
    generated: &'a Project,
    variant: Variant,
    dir: PathBuf,
    image: String,
    /// The cold build, when it was started ahead of the variant's turn.
    cold: Ahead,
    database: Option<String>,
    /// The app's port published on loopback.
    published: String,
    otlp: Receiver,
    sentry: Receiver,
    stack: Option<Stack>,
    /// The run of scripts/deploy.sh that the built fact's rebuild comes from, until the
    /// healthy fact reads how it ended.
    deployed: Option<DeployRun>,
    report: Report,
}

impl Deployment<'_> {
    fn stack(&self) -> Result<&Stack, String> {
        self.stack
            .as_ref()
            .ok_or_else(|| "no stack is running".to_owned())
    }

    fn request_id(&self) -> String {
        format!("e2e-{}", project_name(&self.variant))
    }

    /// `Bearer <token>` for the deployed service, granting every scope: signed with
    /// [`AUTH_SECRET`] by the variant's own `dev-token`, run on the host in development
    /// with the production stack's secret, issuer and audience.
    fn authorization(&self) -> Result<String, String> {
        let binary = crate::services::binary(self.generated)?;
        let minted = run(Command::new(binary)
            .arg("dev-token")
            .env_clear()
            .env("AUTH_HMAC_SECRET", AUTH_SECRET));
        let token = succeeded(&minted, "dev-token")?;
        Ok(format!("Bearer {}", token.trim()))
    }
}

/// The deployed stack's `AUTH_HMAC_SECRET`: the service verifies every API call's token.
const AUTH_SECRET: &str = "e2e-shared-secret-that-signs-the-test-tokens";

/// Where `variant`'s images are built (a copy of the project of its own: the rebuild's
/// one-line change must not touch the shared one), and the images' name.
fn build_dir_and_image(variant: &Variant) -> (PathBuf, String) {
    (
        work_dir().join("container").join(variant.id()),
        format!("e2e/{}", project_name(variant)),
    )
}

type Ahead = Option<JoinHandle<Result<ColdBuild, String>>>;

/// Checks every fact in order; a fact whose prerequisite failed is reported unchecked.
/// `cold` is the variant's cold build, when it was started ahead. Once the built fact is
/// checked, `start_next` starts the next variant's cold build, which is returned: it
/// runs while this variant's other facts are checked. Not sooner: builds made with
/// `--no-cache` at once lay down twin first layers, and a later build finds its cache
/// only under the newest of them.
fn run_variant(
    generated: &Project,
    cold: Ahead,
    start_next: impl FnOnce() -> Ahead,
) -> (Vec<(Fact, Outcome)>, Report, Ahead) {
    let variant = generated.variant;
    let (dir, image) = build_dir_and_image(&variant);
    let mut deployment = Deployment {
        generated,
        variant,
        dir,
        image,
        cold,
        database: on_postgres(&variant)
            .then(|| format!("e2e_{}", project_name(&variant).replace('-', "_"))),
        published: String::new(),
        otlp: Receiver::start(),
        sentry: Receiver::start(),
        stack: None,
        deployed: None,
        report: Report::default(),
    };
    let mut outcomes: Vec<(Fact, Outcome)> = Vec::new();
    let (mut start_next, mut next) = (Some(start_next), None);
    for &fact in Fact::ALL {
        let held = |needed: Fact| {
            outcomes
                .iter()
                .any(|(f, o)| *f == needed && matches!(o, Outcome::Held))
        };
        let outcome = match fact.needs() {
            Some(needed) if !held(needed) => Outcome::Unchecked(needed),
            _ if !fact.applies_to(&variant) => Outcome::NotApplicable,
            _ => match deployment.check(fact) {
                Ok(()) => Outcome::Held,
                Err(error) => Outcome::Failed(error),
            },
        };
        outcomes.push((fact, outcome));
        if fact == Fact::Built {
            next = start_next.take().and_then(|start| start());
        }
    }
    // Tears the stack down before the next variant's starts.
    deployment.stack.take();
    (outcomes, deployment.report, next)
}

#[test]
fn every_container_fact_comes_after_the_fact_it_needs() {
    let position = |fact: Fact| Fact::ALL.iter().position(|f| *f == fact);

    let misplaced: Vec<String> = Fact::ALL
        .iter()
        .filter_map(|&fact| Some((fact, fact.needs()?)))
        .filter(|&(fact, needed)| position(needed) >= position(fact))
        .map(|(fact, needed)| format!("{} needs {}, checked later", fact.name(), needed.name()))
        .collect();

    assert!(
        misplaced.is_empty(),
        "expected every fact after the fact it needs, saw:\n{}",
        misplaced.join("\n")
    );
}
