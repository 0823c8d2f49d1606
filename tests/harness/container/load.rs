//! Load from the host: [`Load`], steady requests while replicas are replaced, and
//! [`stop_under_load`], which stops the app mid-load and sorts every request.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use super::stack::Stack;
use crate::helpers::{http, succeeded};

/// Requests from four threads, each on a new connection, until stopped (or 5 minutes).
pub(super) struct Load {
    stopping: Arc<AtomicBool>,
    workers: Vec<thread::JoinHandle<(usize, Vec<String>)>>,
}

impl Load {
    pub(super) fn start(address: &str, paths: Vec<String>, authorization: &str) -> Self {
        let stopping = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + Duration::from_secs(300);
        let workers = (0..4)
            .map(|worker| {
                let (address, paths, stopping) =
                    (address.to_owned(), paths.clone(), Arc::clone(&stopping));
                let authorization = authorization.to_owned();
                thread::spawn(move || {
                    let (mut served, mut failed) = (0, Vec::new());
                    for path in paths.iter().cycle().skip(worker) {
                        if stopping.load(Ordering::SeqCst) || Instant::now() > deadline {
                            break;
                        }
                        let headers = [("authorization", authorization.as_str())];
                        match http(&address, "GET", path, &headers, "") {
                            Ok((200, _)) => served += 1,
                            Ok((status, body)) => failed.push(format!("{path}: {status} {body}")),
                            Err(error) => failed.push(format!("{path}: {error}")),
                        }
                    }
                    (served, failed)
                })
            })
            .collect();
        Self { stopping, workers }
    }

    /// Requests answered 200, and every other outcome.
    pub(super) fn stop(mut self) -> Result<(usize, Vec<String>), String> {
        self.stopping.store(true, Ordering::SeqCst);
        let mut totals = (0, Vec::new());
        for worker in std::mem::take(&mut self.workers) {
            let (served, failed) = worker
                .join()
                .map_err(|_| "a load thread panicked".to_owned())?;
            totals.0 += served;
            totals.1.extend(failed);
        }
        Ok(totals)
    }
}

/// A check that returns early stops the load too.
impl Drop for Load {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
}

/// How the requests sent while the app stopped ended, and how long the stop took.
#[derive(Default)]
pub(super) struct Stopped {
    /// A complete 200.
    pub(super) served: usize,
    /// Never accepted by the service: connection refused, or reset before any byte
    /// of a response.
    pub(super) refused: usize,
    /// Anything else.
    pub(super) failed: Vec<String>,
    pub(super) stop: Duration,
}

/// Loads the service from four threads, stops it mid-load with `docker compose stop`,
/// and sorts every request: served, refused or failed (see [`Stopped`]).
pub(super) fn stop_under_load(stack: &Stack, authorization: &str) -> Result<Stopped, String> {
    let address = stack.app_address()?;
    let stopping = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Stopped::default()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (address, stopping, outcomes) = (
                address.clone(),
                Arc::clone(&stopping),
                Arc::clone(&outcomes),
            );
            let authorization = authorization.to_owned();
            thread::spawn(move || {
                let caller = (address.as_str(), authorization.as_str());
                load_until_refused(caller, &stopping, &outcomes, deadline)
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(3));
    stopping.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let stopped = stack.compose(120, &["stop", "app"]);
    let stop = started.elapsed();
    for worker in workers {
        worker
            .join()
            .map_err(|_| "a load thread panicked".to_owned())?;
    }
    succeeded(&stopped, "compose stop")?;
    let outcomes = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
    if outcomes.served == 0 {
        return Err("the load generator got no answer at all".into());
    }
    Ok(Stopped { stop, ..outcomes })
}

/// Requests one after another until `deadline`, or once `stopping` is set and the
/// service has refused connections for a second.
fn load_until_refused(
    (address, authorization): (&str, &str),
    stopping: &AtomicBool,
    outcomes: &Mutex<Stopped>,
    deadline: Instant,
) {
    let mut refused_since: Option<Instant> = None;
    while Instant::now() < deadline {
        let headers = [("authorization", authorization)];
        let result = http(address, "GET", "/api/v1/items?limit=20", &headers, "");
        let mut outcomes = outcomes.lock().expect("outcomes");
        match result {
            Ok((200, _)) => outcomes.served += 1,
            Ok((status, body)) => outcomes.failed.push(format!("{status} {body}")),
            Err(error) if error.starts_with("connect") || error.starts_with("unanswered") => {
                outcomes.refused += 1;
                let since = *refused_since.get_or_insert_with(Instant::now);
                if stopping.load(Ordering::SeqCst) && since.elapsed() > Duration::from_secs(1) {
                    break;
                }
            }
            Err(error) => outcomes.failed.push(error),
        }
    }
}
