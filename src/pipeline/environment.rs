//! The chains of the local machine's checks: docker (command → daemon and
//! version → pull), this tool's version, helm (command → version), notary.
//! Each step waits on the one it needs; the chains run alongside the
//! registry's.

use super::ctx::Ctx;
use crate::checks::environment::docker::{self, Consent};
use crate::checks::environment::{cli, helm, notary};
use crate::checks::CheckId;

pub(super) async fn docker(ctx: &Ctx) {
    let config = &ctx.config;
    let timeout = config.timeout;
    let command = |()| docker::command(config.docker_command.as_deref(), &config.env, timeout);
    let docker = ctx
        .run(CheckId::DockerCommand, Ok(()), command)
        .await
        .unwrap_or(Err("Docker command check skipped"));
    let docker = docker.as_deref().map_err(|why| *why);
    let both = [CheckId::DockerDaemon, CheckId::DockerVersion];
    let probe = |d| docker::daemon_and_version(d, timeout);
    let daemon = ctx.run_together(&both, docker, probe).await;
    let pull_needs = match (docker, daemon) {
        (_, Some(Err(why))) => Err(why),
        // Up, or not asked (the user skipped both).
        (docker, _) => docker,
    };
    // Asked before the pull runs, so that neither its time nor a
    // cancellation meets the question.
    let consent = match pull_needs.is_ok() && ctx.will_run(CheckId::DockerPull) {
        true => consent(ctx, &docker::pull_question()).await,
        false => Consent::Declined,
    };
    let timeout = config.pull_timeout();
    let pull = |d| docker::pull(d, consent, timeout);
    ctx.run(CheckId::DockerPull, pull_needs, pull).await;
}

/// Whether the person running the check agrees to a pull: `--yes`, or a y
/// at the prompt on a terminal.
pub(super) async fn consent(ctx: &Ctx, question: &str) -> Consent {
    match (ctx.config.yes, ctx.config.interactive) {
        (true, _) => Consent::Given,
        (false, false) => Consent::NoTerminal,
        (false, true) if ctx.ask_yes_no(question).await => Consent::Given,
        (false, true) => Consent::Declined,
    }
}

pub(super) async fn cli(ctx: &Ctx) {
    let notices = &ctx.config.notices;
    ctx.run(CheckId::CliVersion, Ok(()), |()| async {
        cli::version(notices)
    })
    .await;
}

pub(super) async fn helm(ctx: &Ctx) {
    let command = |()| async { helm::command(&ctx.config.env) };
    let helm = ctx
        .run(CheckId::HelmCommand, Ok(()), command)
        .await
        .unwrap_or(Err("Helm command check skipped"));
    let helm = helm.as_deref().map_err(|why| *why);
    let timeout = ctx.config.timeout;
    ctx.run(CheckId::HelmVersion, helm, |h| helm::version(h, timeout))
        .await;
}

pub(super) async fn notary(ctx: &Ctx) {
    let (env, timeout) = (&ctx.config.env, ctx.config.timeout);
    ctx.run(CheckId::NotaryVersion, Ok(()), |()| {
        notary::version(env, timeout)
    })
    .await;
}
