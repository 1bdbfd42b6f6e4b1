//! The fixed pipeline: which checks run, in what order, what depends on what,
//! and when the run stops.
//!
//! Independent chains (docker, helm, notary, the registry) run
//! concurrently; inside a chain each step waits for the one it depends on.
//! Results are kept by check id, so the report is always in pipeline order
//! whatever finished first. Without `--ignore-errors` a failure cancels every
//! step that comes after it in pipeline order, as az stops at its first
//! error, and those steps are reported as skipped.

pub(crate) mod ctx;
mod environment;
mod progress;
mod registry;

use crate::config::Config;
use crate::report::{CutShort, Report};
use ctx::{planned_checks, Ctx, INTERRUPTED_REASON};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs every check chain concurrently and records into `ctx`.
pub(crate) async fn run_checks(ctx: &Ctx) {
    tokio::join!(
        environment::docker(ctx),
        environment::cli(ctx),
        registry::run(ctx),
        environment::helm(ctx),
        environment::notary(ctx),
    );
}

/// Runs the whole pipeline; `interrupt` resolving (Ctrl-C, SIGTERM, SIGHUP)
/// cuts it short, the tools still running are stopped with their helpers,
/// and the unfinished checks are reported as such. The report's duration
/// counts from `start`, the process's own start: the total a user reads is
/// the time the command took.
pub(crate) async fn run(
    config: Arc<Config>,
    interrupt: impl Future<Output = CutShort>,
    start: Instant,
) -> Report {
    let ctx = Ctx::new(config.clone());
    let deadline = config.deadline();
    let ticker = async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Some(p) = &ctx.progress {
                p.tick();
            }
        }
    };
    let cut_short = tokio::select! {
        _ = run_checks(&ctx) => None,
        _ = ticker, if ctx.progress.is_some() => None,
        signal = interrupt => Some(signal),
        _ = tokio::time::sleep(deadline) => Some(CutShort::Deadline),
    };
    let deadline_reason = format!(
        "not finished within the run's deadline of {} (10 x --timeout)",
        crate::duration::format_duration(deadline)
    );
    let missing = match cut_short {
        Some(CutShort::Interrupted) => INTERRUPTED_REASON,
        Some(CutShort::Terminated) => "terminated (SIGTERM)",
        Some(CutShort::HungUp) => "hung up (SIGHUP)",
        Some(CutShort::Deadline) => deadline_reason.as_str(),
        None => "not run",
    };
    if let Some(p) = &ctx.progress {
        p.clear();
    }
    let registry = ctx.registry.lock().ok().and_then(|r| r.clone());
    let checks = ctx
        .results(&planned_checks(&config), missing)
        .into_iter()
        .map(|r| r.into_report(registry.as_ref()))
        .collect();
    Report::new(
        registry,
        checks,
        start.elapsed().as_millis() as u64,
        cut_short,
    )
}
