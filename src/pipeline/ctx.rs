//! The shared state of one run that every check chain records into: which
//! checks run, their results in pipeline order, the first failure that stops
//! the run, the progress line.

use crate::check_spec::Planned;
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::config::Config;
use crate::report::{RegistryInfo, Status};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub const STOPPED_REASON: &str =
    "not run: stopped after the first error (use --ignore-errors to run every check)";
pub const INTERRUPTED_REASON: &str = "interrupted";
pub const RAN_UNREPORTED_REASON: &str =
    "not reported: the run stops at the first error (use --ignore-errors to see every result)";

/// Shared state of one run, handed to every check chain.
pub struct Ctx {
    pub config: Arc<Config>,
    results: Mutex<BTreeMap<CheckId, CheckResult>>,
    /// Pipeline index of the earliest failed check so far.
    first_failure: watch::Sender<Option<usize>>,
    /// The registry as finally checked (Resource Manager may name another
    /// login server than the configuration guessed).
    pub(crate) registry: Mutex<Option<RegistryInfo>>,
    /// The status line on a terminal, when shown.
    pub(crate) progress: Option<super::progress::Progress>,
}

impl Ctx {
    pub fn new(config: Arc<Config>) -> Self {
        Ctx {
            config: config.clone(),
            results: Mutex::new(BTreeMap::new()),
            first_failure: watch::Sender::new(None),
            registry: Mutex::new(config.registry_info()),
            progress: config
                .progress
                .then(|| super::progress::Progress::new(planned_checks(&config).len())),
        }
    }

    /// The strings of a recorded check's detail (e.g. the DNS CNAME chain).
    pub fn detail_strings(&self, id: CheckId, key: &str) -> Vec<String> {
        let results = self
            .results
            .lock()
            .expect("no check panics while holding the lock");
        let list = results
            .get(&id)
            .and_then(|r| r.details.get(key)?.as_array().cloned());
        list.into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// The login server the registry chain settled on, as `host[:port]`.
    pub fn login_server(&self) -> Option<String> {
        self.registry.lock().ok()?.as_ref()?.login_server.clone()
    }

    pub fn set_registry(&self, info: RegistryInfo) {
        if let Ok(mut r) = self.registry.lock() {
            *r = Some(info);
        }
    }

    fn stops(&self, failure: Option<usize>, id: CheckId) -> bool {
        !self.config.ignore_errors && failure.is_some_and(|f| f < id.index())
    }

    /// Whether `id` should run: false (and a `skip` recorded) when the user
    /// skipped it; false when an earlier check already stopped the run.
    pub fn wants(&self, id: CheckId) -> bool {
        if let Some(reason) = self.user_skip(id) {
            self.record(CheckResult::skip(id, reason));
            return false;
        }
        !self.stops(*self.first_failure.borrow(), id)
    }

    /// Runs check `id`, whose work yields its result and a value for the
    /// checks that depend on it; records the result with its duration.
    /// `None` when the run stopped before the work finished.
    pub async fn check<T>(
        &self,
        id: CheckId,
        work: impl Future<Output = (CheckResult, T)>,
    ) -> Option<T> {
        let ((mut result, value), took) = self.timed(id, work).await?;
        result.duration_ms = took.as_millis() as u64;
        self.record(result);
        Some(value)
    }

    /// Asks the person at the terminal a y/n question, with the progress
    /// line out of the way.
    pub async fn ask_yes_no(&self, question: &str) -> bool {
        if let Some(p) = &self.progress {
            p.pause(true);
        }
        let yes = super::progress::ask_yes_no(question).await;
        if let Some(p) = &self.progress {
            p.pause(false);
        }
        yes
    }

    /// The reason the user skipped `id` (`--skip`), if they did.
    pub fn user_skip(&self, id: CheckId) -> Option<String> {
        if self.config.cloud_shell && id.is_environment() {
            return Some(
                "not checked in Azure Cloud Shell (ACC_CLOUD is set), as az does not".into(),
            );
        }
        let value = self.config.skip.iter().find(|v| id.matches_skip(v))?;
        Some(format!("requested with --skip {value}"))
    }

    /// Runs the work of check `id`, timing it. Returns `None` when a failure
    /// earlier in the pipeline stops the run before the work finishes.
    pub async fn timed<F: Future>(&self, id: CheckId, work: F) -> Option<(F::Output, Duration)> {
        let start = Instant::now();
        let mut failures = self.first_failure.subscribe();
        if let Some(p) = &self.progress {
            p.started(id);
        }
        tokio::select! {
            out = work => Some((out, start.elapsed())),
            _ = failures.wait_for(|f| self.stops(*f, id)) => None,
        }
    }

    /// Records a finished check; a failure may stop the checks after it.
    pub fn record(&self, result: CheckResult) {
        let id = result.id;
        let mut results = self
            .results
            .lock()
            .expect("no check panics while holding the lock");
        if results.contains_key(&id) {
            return;
        }
        if result.status == Status::Fail {
            let index = result.id.index();
            self.first_failure.send_if_modified(|f| {
                if f.is_none_or(|f| index < f) {
                    *f = Some(index);
                    true
                } else {
                    false
                }
            });
        }
        results.insert(id, result);
        drop(results);
        if let Some(p) = &self.progress {
            p.finished(id);
        }
    }

    /// Records each of `ids` as skipped because of `reason` (a failed or
    /// skipped prerequisite), unless the user skipped it, which is said instead.
    pub fn skip_all(&self, ids: &[CheckId], reason: &str) {
        for id in ids {
            let why = self.user_skip(*id).unwrap_or_else(|| reason.to_string());
            self.record(CheckResult::skip(*id, why));
        }
    }

    /// Every check in pipeline order; checks without a result (or cut off by
    /// an earlier failure) are `skip` with `missing_reason` or the stop reason.
    pub fn results(&self, ids: &[CheckId], missing_reason: &str) -> Vec<CheckResult> {
        let results = self
            .results
            .lock()
            .expect("no check panics while holding the lock");
        let failure = *self.first_failure.borrow();
        ids.iter()
            .map(|id| match results.get(id) {
                // It ran alongside, but the run stops at the first error.
                Some(_) if self.stops(failure, *id) => {
                    CheckResult::skip(*id, RAN_UNREPORTED_REASON).stopped()
                }
                None if self.stops(failure, *id) => {
                    CheckResult::skip(*id, STOPPED_REASON).stopped()
                }
                Some(r) => r.clone(),
                None => CheckResult::skip(*id, missing_reason),
            })
            .collect()
    }
}

/// The checks this configuration runs, in pipeline order.
pub fn planned_checks(config: &Config) -> Vec<CheckId> {
    let registry = config.registry.as_ref();
    CheckId::ALL
        .iter()
        .copied()
        .filter(|id| match id.spec().planned {
            Planned::Always => true,
            Planned::WithRegistry => registry.is_some(),
            Planned::WithImage => registry.is_some_and(|r| r.image.is_some()),
            Planned::WithVnet => registry.is_some_and(|r| r.vnet.is_some()),
        })
        .collect()
}
