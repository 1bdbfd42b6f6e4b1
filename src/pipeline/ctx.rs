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

/// What a check's work returns: its result, and the facts later steps need
/// (none for most checks).
pub(crate) trait Outcome {
    type Facts;
    fn split(self) -> (CheckResult, Self::Facts);
}

impl Outcome for CheckResult {
    type Facts = ();
    fn split(self) -> (CheckResult, ()) {
        (self, ())
    }
}

impl<T> Outcome for (CheckResult, T) {
    type Facts = T;
    fn split(self) -> (CheckResult, T) {
        self
    }
}

pub(crate) const STOPPED_REASON: &str =
    "not run: stopped after the first error (use --ignore-errors to run every check)";
pub(crate) const INTERRUPTED_REASON: &str = "interrupted";
pub(crate) const RAN_UNREPORTED_REASON: &str =
    "not reported: the run stops at the first error (use --ignore-errors to see every result)";

/// Shared state of one run, handed to every check chain.
pub(crate) struct Ctx {
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
    pub(crate) fn new(config: Arc<Config>) -> Self {
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

    /// The login server the registry chain settled on, as `host[:port]`.
    pub(crate) fn login_server(&self) -> Option<String> {
        self.registry.lock().ok()?.as_ref()?.login_server.clone()
    }

    pub(crate) fn set_registry(&self, info: RegistryInfo) {
        if let Ok(mut r) = self.registry.lock() {
            *r = Some(info);
        }
    }

    fn stops(&self, failure: Option<usize>, id: CheckId) -> bool {
        !self.config.ignore_errors && failure.is_some_and(|f| f < id.index())
    }

    /// The runner, the one way a check runs: skipped as the user asked,
    /// else not run when an earlier failure stopped the run, else skipped
    /// for `needs`' reason when a prerequisite is missing; otherwise `work`
    /// is given what it needs, timed, cancelled if an earlier check fails
    /// meanwhile, and its result recorded. Returns the facts the check hands
    /// on to later steps, or `None` when it did not run to the end.
    pub(crate) async fn run<P, O, Fut>(
        &self,
        id: CheckId,
        needs: Result<P, &str>,
        work: impl FnOnce(P) -> Fut,
    ) -> Option<O::Facts>
    where
        O: Outcome,
        Fut: Future<Output = O>,
    {
        let one = |input| async {
            let (result, facts) = work(input).await.split();
            (vec![result], facts)
        };
        self.run_together(&[id], needs, one).await
    }

    /// The runner for checks that one piece of work answers together (one
    /// `docker version` tells the daemon's status and the version): each is
    /// skipped as the user asked, the work runs once if any is left, and
    /// each result keeps a duration the work measured itself, else the
    /// work's.
    pub(crate) async fn run_together<P, T, Fut>(
        &self,
        ids: &[CheckId],
        needs: Result<P, &str>,
        work: impl FnOnce(P) -> Fut,
    ) -> Option<T>
    where
        Fut: Future<Output = (Vec<CheckResult>, T)>,
    {
        let mut wanted = Vec::new();
        for id in ids {
            match self.user_skip(*id) {
                Some(reason) => self.record(CheckResult::skip(*id, reason)),
                None => wanted.push(*id),
            }
        }
        let first = *wanted.first()?;
        if self.stops(*self.first_failure.borrow(), first) {
            return None;
        }
        let input = match needs {
            Ok(input) => input,
            Err(reason) => {
                wanted
                    .iter()
                    .for_each(|id| self.record(CheckResult::skip(*id, reason)));
                return None;
            }
        };
        let ((results, facts), took) = self.timed(first, work(input)).await?;
        for mut result in results.into_iter().filter(|r| wanted.contains(&r.id)) {
            result.duration.get_or_insert(took);
            self.record(result);
        }
        Some(facts)
    }

    /// Whether check `id` would run now: the user did not skip it and no
    /// earlier failure stopped the run. For what must happen before the
    /// runner starts it (a question to the person at the terminal).
    pub(crate) fn will_run(&self, id: CheckId) -> bool {
        self.user_skip(id).is_none() && !self.stops(*self.first_failure.borrow(), id)
    }

    /// Records each of `ids` as skipped because a prerequisite is missing
    /// (`reason`), unless the user skipped it, which is said instead.
    pub(crate) fn skip(&self, ids: &[CheckId], reason: &str) {
        for id in ids {
            let why = self.user_skip(*id).unwrap_or_else(|| reason.to_string());
            self.record(CheckResult::skip(*id, why));
        }
    }

    /// Asks the person at the terminal a y/n question, with the progress
    /// line out of the way.
    pub(crate) async fn ask_yes_no(&self, question: &str) -> bool {
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
    pub(crate) fn user_skip(&self, id: CheckId) -> Option<String> {
        if self.config.cloud_shell && id.is_environment() {
            return Some(
                "not checked in Azure Cloud Shell (ACC_CLOUD is set), as az does not".into(),
            );
        }
        if self.config.node.is_some() && is_workstation_check(id) {
            return Some(NODE_MODE.into());
        }
        let value = self.config.skip.get(&id)?;
        Some(format!("requested with --skip {value}"))
    }

    /// Runs the work of check `id`, timing it. Returns `None` when a failure
    /// earlier in the pipeline stops the run before the work finishes.
    pub(super) async fn timed<F: Future>(
        &self,
        id: CheckId,
        work: F,
    ) -> Option<(F::Output, Duration)> {
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
    pub(super) fn record(&self, result: CheckResult) {
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

    /// Every check in pipeline order; checks without a result (or cut off by
    /// an earlier failure) are `skip` with `missing_reason` or the stop reason.
    pub(crate) fn results(&self, ids: &[CheckId], missing_reason: &str) -> Vec<CheckResult> {
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
/// Why a node-mode run leaves a check out.
const NODE_MODE: &str =
    "node mode (--kubelet): the kubelet and containerd pull here, not docker, helm or notary";

/// The checks of a workstation's tools, which a node does not pull with.
fn is_workstation_check(id: CheckId) -> bool {
    matches!(id.group(), "docker" | "helm" | "notary")
        || matches!(
            id,
            CheckId::RegistryDockerCredential
                | CheckId::RegistryDockerDaemon
                | CheckId::RegistryDockerPull
        )
}

pub(crate) fn planned_checks(config: &Config) -> Vec<CheckId> {
    let registry = config.registry.as_ref();
    CheckId::ALL
        .iter()
        .copied()
        .filter(|id| match id.spec().planned {
            Planned::Always => true,
            Planned::WithRegistry => registry.is_some(),
            Planned::WithImage => registry.is_some_and(|r| r.image.is_some()),
            Planned::WithVnet => registry.is_some_and(|r| r.vnet.is_some()),
            Planned::OnNode => registry.is_some() && config.node.is_some(),
            Planned::ProviderRun => registry.is_some() && config.run_credential_provider,
        })
        .collect()
}
