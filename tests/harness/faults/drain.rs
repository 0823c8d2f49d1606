//! SIGTERM under load: the service drains what it accepted and exits 0, and no client
//! loses a request.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use super::{millis, postgres_for, scratch, timed};
use crate::{
    helpers::{Project, Variant, all_projects, exchange},
    report::Table,
    services::{Postgres, Service, binary, database_url, poll},
};

/// SIGTERM trials of a variant other than the default and the maximal one.
const OTHER_VARIANTS_TRIALS: usize = 3;
/// Clients of the SIGTERM trials.
const LOAD_CLIENTS: usize = 16;
/// How long the clients keep sending, and the service may take to exit.
const TRIAL_LIMIT: Duration = Duration::from_secs(30);

#[test]
fn sigterm_under_load_loses_no_request() {
    let trials: usize = std::env::var("FAULT_TRIALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    // The drain is the same code in every variant; what differs is what each one starts
    // and stops. The extremes get every trial, the others a few.
    let trials_for = |variant: Variant| {
        if variant == Variant::default_choice() || variant == Variant::maximal() {
            trials
        } else {
            trials.min(OTHER_VARIANTS_TRIALS)
        }
    };
    let projects = all_projects();
    let postgres = postgres_for(&projects);
    let title = format!(
        "SIGTERM under load ({LOAD_CLIENTS} clients; {trials} trials for the default and maximal variants, at most {OTHER_VARIANTS_TRIALS} for the others)"
    );
    let mut table = Table::new(
        &title,
        "variant | trials | served | refused | lost | slowest exit after SIGTERM",
    );
    for project in projects {
        let n = trials_for(project.variant);
        let outcome = stop_trials(&project, postgres.as_ref(), n).map(|row| format!("{n} | {row}"));
        table.outcome(&project.variant, outcome);
    }
    table.finish(&title);
}

/// What the clients of one trial saw: complete 200s, refused connections, and anything
/// else (a reset after the request was sent, an empty or partial answer, another status).
#[derive(Default)]
struct Outcomes {
    served: usize,
    refused: usize,
    lost: Vec<String>,
}

fn stop_trials(
    project: &Project,
    postgres: Option<&Postgres>,
    trials: usize,
) -> Result<String, String> {
    let v = project.variant;
    let binary = binary(project)?;
    let dir = scratch("sigterm", &v);
    let env = [("DATABASE_URL", database_url(&v, postgres, &dir, "sigterm")?)];
    let mut total = Outcomes::default();
    let mut slowest_exit = Duration::ZERO;
    for trial in 0..trials {
        let log = dir.join(format!("trial-{trial}.log"));
        let (outcomes, took) =
            one_trial(&binary, &env, &log).map_err(|error| format!("trial {trial}: {error}"))?;
        slowest_exit = slowest_exit.max(took);
        total.served += outcomes.served;
        total.refused += outcomes.refused;
        total.lost.extend(
            outcomes
                .lost
                .into_iter()
                .map(|lost| format!("trial {trial}: {lost}")),
        );
    }
    if !total.lost.is_empty() {
        return Err(format!(
            "{} request(s) lost over {trials} trials: {:?}",
            total.lost.len(),
            &total.lost[..total.lost.len().min(5)]
        ));
    }
    if total.served == 0 {
        return Err("no request was served".into());
    }
    Ok(format!(
        "{} | {} | 0 | {}",
        total.served,
        total.refused,
        millis(slowest_exit)
    ))
}

/// One service started, loaded by the clients, sent SIGTERM as soon as the load is on
/// (the service has answered as many requests as there are clients), and waited for:
/// what the clients saw, and how long the service took to exit.
fn one_trial(
    binary: &Path,
    env: &[(&str, String)],
    log: &Path,
) -> Result<(Outcomes, Duration), String> {
    let mut service = Service::start(binary, env, log)?;
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let clients = load(&service.address, &service.authorization, &outcomes);
    let loaded = || Ok(outcomes.lock().expect("outcomes").served >= LOAD_CLIENTS);
    if !poll(Duration::from_secs(10), Duration::from_millis(5), loaded)? {
        return Err(format!(
            "the load never started: fewer than {LOAD_CLIENTS} answers in 10 s:\n{}",
            service.log()
        ));
    }
    service.terminate();
    let (status, took) = timed(|| service.exit_within(TRIAL_LIMIT));
    let status = status?;
    for client in clients {
        client
            .join()
            .map_err(|_| "a load client panicked".to_owned())?;
    }
    if !status.success() {
        return Err(format!("exit {status} on SIGTERM:\n{}", service.log()));
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
    Ok((outcomes, took))
}

/// `LOAD_CLIENTS` clients listing items from `address` in a loop, each until its
/// connection is refused (the service stopped listening) or `TRIAL_LIMIT` has passed.
fn load(
    address: &str,
    authorization: &str,
    outcomes: &Arc<Mutex<Outcomes>>,
) -> Vec<JoinHandle<()>> {
    let deadline = Instant::now() + TRIAL_LIMIT;
    (0..LOAD_CLIENTS)
        .map(|_| {
            let (address, outcomes) = (address.to_owned(), Arc::clone(outcomes));
            let authorization = authorization.to_owned();
            thread::spawn(move || {
                while Instant::now() < deadline {
                    let headers = [("authorization", authorization.as_str())];
                    let path = "/api/v1/items?limit=5";
                    let result = exchange(&address, "GET", path, &headers, "");
                    let mut outcomes = outcomes.lock().expect("outcomes");
                    match result {
                        Ok(response) if response.status == 200 => outcomes.served += 1,
                        Ok(response) => outcomes
                            .lost
                            .push(format!("{} {}", response.status, response.body)),
                        // Refused: the port is closed, and the client knows nothing was sent.
                        Err(error) if error.starts_with("connect") => {
                            outcomes.refused += 1;
                            return;
                        }
                        Err(error) => outcomes.lost.push(error),
                    }
                }
            })
        })
        .collect()
}
