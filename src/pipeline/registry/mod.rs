//! The registry chain. The Azure AD token and Resource Manager are asked at
//! the start; meanwhile the whole path (DNS → TLS → challenge → refresh and
//! access tokens) is walked on the login server the registry most likely
//! has (the flag, or name + suffix). Resource Manager's answer is attached
//! when it comes; only when it names another login server (a hash suffix)
//! is that one walked in turn, and the first walk is not reported. Then the
//! image, and the checks that need the registry's properties.

mod arm_facts;
mod node;
mod walk;

use crate::azure::credential::{self, CredentialSetup, NoCredential, ACR_SCOPE};
use crate::azure::imds::Imds;
use crate::checks::environment::docker::{self, Consent};
use crate::checks::node::{identity, region};
use crate::checks::registry::login_hint::LoginHint;
use crate::checks::registry::{
    access_token, arm, containerd_hosts, docker_credential, docker_daemon, docker_pull, image,
    response_time,
};
use crate::checks::{CheckId, CheckResult};
use crate::config::RegistryConfig;
use crate::net::connection::{Dial, Session};
use crate::net::dns::{DnsSetupError, Resolver};
use crate::net::https_client::Client;
use crate::node::azure_json::AzureJson;
use crate::pipeline::ctx::Ctx;
use crate::report::{RegistryInfo, Status};
use crate::secret::Secret;
use std::sync::Arc;
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;
use walk::{Along, Walk, Walked};

/// Aborts a background task when the chain ends early.
pub(super) struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type AadResult = Result<credential::AadToken, NoCredential>;

/// The Azure AD token for the exchange, asked for once at the start and
/// shared by every walk.
pub(super) struct AadToken {
    task: std::sync::Mutex<Option<JoinHandle<AadResult>>>,
    value: OnceCell<AadResult>,
    setup: Option<CredentialSetup>,
}

impl AadToken {
    fn start(setup: Option<CredentialSetup>) -> (AadToken, Option<AbortOnDrop>) {
        let task = setup
            .clone()
            .map(|s| tokio::spawn(async move { s.aad_token(ACR_SCOPE).await }));
        Self::from_task(task, setup)
    }

    /// The token a task gets (the kubelet identity's, on a node).
    pub(super) fn from_task(
        task: Option<JoinHandle<AadResult>>,
        setup: Option<CredentialSetup>,
    ) -> (AadToken, Option<AbortOnDrop>) {
        let abort = task.as_ref().map(|t| AbortOnDrop(t.abort_handle()));
        let token = AadToken {
            task: std::sync::Mutex::new(task),
            value: OnceCell::new(),
            setup,
        };
        (token, abort)
    }

    /// A token of the registry's own audience from az, for a registry that
    /// refused the Resource Manager–audience token from az's cache.
    pub(super) async fn registry_audience(&self) -> Option<credential::AadToken> {
        self.setup.as_ref()?.registry_audience_from_az().await.ok()
    }

    pub(super) async fn get(&self) -> AadResult {
        self.value
            .get_or_init(|| async {
                let task = self.task.lock().ok().and_then(|mut t| t.take());
                match task {
                    Some(t) => t.await.unwrap_or_else(|_| Err(NoCredential::default())),
                    None => Err(NoCredential::default()),
                }
            })
            .await
            .clone()
    }
}

pub(super) async fn run(ctx: &Ctx) {
    let Some(reg) = &ctx.config.registry else {
        return;
    };
    let timeout = ctx.config.timeout;
    let client = Client::new(reg.tls.clone(), reg.proxies.clone(), timeout);
    // The instance metadata service is probed at once, alongside
    // everything else: it costs nothing when another credential is found.
    // (On a node, only the kubelet identity's token asks it.)
    let imds = Imds::from_env(&ctx.config.env);
    let _abort_probe = ctx.config.node.is_none().then(|| {
        let imds = imds.clone();
        let task = tokio::spawn(async move { imds.reachable().await });
        AbortOnDrop(task.abort_handle())
    });
    let credentials = || CredentialSetup {
        mode: reg.auth,
        cloud: reg.target.cloud.clone(),
        client: client.clone(),
        timeout,
        az_login: reg.az_login.clone(),
        az_subscription: reg.az_login.as_ref().map(|l| l.subscription.clone()),
        imds: imds.clone(),
        env: ctx.config.env.clone(),
    };
    let kubelet = match &ctx.config.node {
        Some(host) => Some(node::files(ctx, host, reg).await),
        None => None,
    };
    let registry_scope = identity::REGISTRY_AUDIENCE.to_string();
    let (aad, _abort_aad) = match &kubelet {
        Some(files) => node::identity_token(files.azure.as_ref(), (&imds, &client), registry_scope),
        None => {
            let wants_aad = reg.password.is_none()
                && ctx.user_skip(CheckId::RegistryRefreshToken).is_none()
                && ctx.user_skip(CheckId::RegistryAccessToken).is_none();
            AadToken::start(wants_aad.then(credentials))
        }
    };
    let (arm_task, _abort_arm) = start_arm(ctx, reg, &client, credentials());
    let resolver = resolver(ctx, reg);
    let covered = kubelet.as_ref().is_none_or(|f| f.covered);
    let kubelet = kubelet.as_ref().and_then(|f| f.azure.as_ref());
    // On a node, the Resource Manager audience too: which audiences the
    // registry takes is asked beside the exchange.
    let (arm_audience, _abort_arm_audience) =
        node::identity_token(kubelet, (&imds, &client), node::arm_scope(reg));
    // A node's service principal is signed in to Azure AD only when the
    // registry refuses it, to tell a bad secret from a missing role.
    let sign_in = kubelet.and_then(|azure| node::sign_in(azure, credentials()));
    let along = Along {
        ctx,
        reg,
        resolver: &resolver,
        aad: &aad,
        kubelet,
        covered,
        sign_in: sign_in.as_ref(),
        arm_audience: kubelet.map(|_| &arm_audience),
    };
    let identity = node::identity(ctx, along.kubelet, &aad);
    let (walked, ()) = tokio::join!(walk_with_arm(&along, arm_task), identity);
    let Some((arm, walk)) = walked else {
        return;
    };
    let (authorized, walked) = record_walk(&along, walk, arm.as_ref());
    let kubelet = along.kubelet;
    after_walk(
        ctx,
        reg,
        &resolver,
        (arm.as_ref(), &walked, kubelet),
        authorized,
    )
    .await;
}

/// Resource Manager's lookup, started at once when it is wanted, with its
/// connection opened while the Azure AD token for it is still being
/// fetched, so that its request waits for nothing else; what aborts both.
fn start_arm(
    ctx: &Ctx,
    reg: &RegistryConfig,
    client: &Arc<Client>,
    credentials: CredentialSetup,
) -> (Option<JoinHandle<arm::Outcome>>, Vec<AbortOnDrop>) {
    let target = match &reg.arm {
        Ok(target) if ctx.user_skip(CheckId::RegistryArm).is_none() => target,
        _ => return (None, Vec::new()),
    };
    let replications = ctx.user_skip(CheckId::RegistryReplicas).is_none();
    let task = tokio::spawn(arm::lookup(credentials, target.clone(), replications));
    let mut aborts = vec![AbortOnDrop(task.abort_handle())];
    if let Ok(url) = url::Url::parse(&target.endpoint) {
        let client = client.clone();
        let preconnect = tokio::spawn(async move { client.preconnect(&url).await });
        aborts.push(AbortOnDrop(preconnect.abort_handle()));
    }
    (Some(task), aborts)
}

/// The resolver the walk asks: `--dns-server`'s, a node's, or the system's.
fn resolver(ctx: &Ctx, reg: &RegistryConfig) -> Result<Resolver, DnsSetupError> {
    let timeout = ctx.config.timeout;
    match (reg.dns_server, &ctx.config.node) {
        (Some(server), _) => Resolver::server(server, timeout),
        (None, Some(host)) => node::resolver(host, timeout),
        (None, None) => Resolver::system(timeout),
    }
}

/// The reason the checks that need a login server give when there is none.
const NO_LOGIN_SERVER: &str = "no login server";

/// What follows the walk: docker's own view of the login server (local
/// tools) alongside the image and the Resource Manager checks.
async fn after_walk(
    ctx: &Ctx,
    reg: &RegistryConfig,
    resolver: &Result<Resolver, DnsSetupError>,
    (arm, walked, kubelet): (Option<&arm::Outcome>, &Walked, Option<&AzureJson>),
    authorized: Option<(Session, Secret)>,
) {
    let data_hosts = arm
        .and_then(|o| o.as_ref().ok())
        .map(|f| f.registry.data_endpoints())
        .unwrap_or_default();
    let host = ctx.login_server();
    let host = host.as_deref().ok_or(NO_LOGIN_SERVER);
    let login = host.map(|h| login_hint(reg, h, arm));
    let login = login.as_ref().map_err(|why| *why);
    let (config, env, timeout) = (&ctx.config, &ctx.config.env, ctx.config.timeout);
    let docker = docker::locate(config.docker_command.as_deref(), env);
    let with_docker = host.and_then(|h| match &docker {
        Ok(docker) => Ok((h, docker.as_path())),
        Err(_) => Err("no docker client to ask"),
    });
    // What docker itself would do (local tools) alongside what is left to
    // ask the registry and Resource Manager.
    let local = async {
        let credential = |login| docker_credential::check(login, env, timeout);
        let daemon = |(h, docker)| {
            let proxy = reg.proxy.as_ref();
            docker_daemon::check(docker, &config.sysconfdir, h, proxy, &data_hosts, timeout)
        };
        let containerd = |h| async move { containerd_hosts::check(&config.sysconfdir, h) };
        let challenge_skipped = ctx.user_skip(CheckId::RegistryChallenge).is_some();
        let answered = host.and_then(|h| match walked.took.get(&CheckId::RegistryChallenge) {
            Some(took) => Ok((h, *took)),
            None if challenge_skipped => {
                Err("needs the registry.challenge check, which was skipped")
            }
            None => Err("no challenge from the registry"),
        });
        let response_time = |(h, took)| async move { response_time::check(h, took) };
        let chain = walked.resolved.as_ref().map(|r| r.cname_chain.as_slice());
        let region = |location: Option<&str>| {
            let found = region::check(location, chain.unwrap_or_default());
            async move { found }
        };
        let azure = kubelet.ok_or("no node cloud configuration (node.azure_json)");
        let azure = azure.map(|a| a.location.as_deref());
        tokio::join!(
            ctx.run(CheckId::NodeRegion, azure, region),
            ctx.run(CheckId::RegistryDockerCredential, login, credential),
            ctx.run(CheckId::RegistryDockerDaemon, with_docker, daemon),
            ctx.run(CheckId::RegistryContainerdHosts, host, containerd),
            ctx.run(CheckId::RegistryResponseTime, answered, response_time),
        )
    };
    let spare = authorized.as_ref().map(|(s, _)| s.spare());
    let provider = node::provider_run(ctx, reg, (spare, walked.bearer.as_ref()));
    let remote = async {
        if let (Some(reference), Some(repository)) = (&reg.image, &reg.repository) {
            let image = (repository.as_str(), reference.as_str());
            pull_image(ctx, reg, resolver, authorized, image).await;
            daemon_pull(ctx, login, image).await;
        }
        arm_facts::after_arm(ctx, reg, (arm, walked), resolver).await;
    };
    tokio::join!(local, remote, provider);
}

/// Resource Manager and the walk on the expected login server at the same
/// time; then the walk on the login server Resource Manager names, if it is
/// another one. `None` when the run stopped meanwhile.
async fn walk_with_arm(
    along: &Along<'_>,
    arm_task: Option<JoinHandle<arm::Outcome>>,
) -> Option<(Option<arm::Outcome>, Option<Walk>)> {
    let (ctx, reg) = (along.ctx, along.reg);
    let guess = reg.target.login_server.as_ref().ok();
    let arm = async {
        let task = arm_task?;
        Some(
            task.await
                .unwrap_or_else(|e| Err(arm::ArmFailure::Aborted(e.to_string()))),
        )
    };
    let on_guess = async {
        match guess {
            Some(ls) => Some(walk::walk(along, ls).await),
            None => None,
        }
    };
    let work = async { tokio::join!(arm, on_guess) };
    let ((arm, on_guess), _) = ctx.timed(CheckId::RegistryArm, work).await?;
    let arm_result = || async { arm::result(&reg.arm, arm.as_ref()) };
    ctx.run(CheckId::RegistryArm, Ok(()), |()| arm_result())
        .await;
    // The login server is decided whatever the user skipped: the walk needs it.
    let (ls_result, ls) = arm_facts::decide_login_server(reg, arm.as_ref());
    ctx.run(CheckId::RegistryLoginServer, Ok(()), |()| async {
        ls_result
    })
    .await;
    let Some(ls) = ls else {
        return Some((arm, None));
    };
    ctx.set_registry(RegistryInfo {
        name: reg.target.name.clone(),
        login_server: Some(ls.authority()),
        login_server_source: Some(ls.source),
    });
    if guess.is_some_and(|g| g.authority() == ls.authority()) {
        return Some((arm, on_guess));
    }
    let (walk, _) = ctx
        .timed(CheckId::RegistryDns, walk::walk(along, &ls))
        .await?;
    Some((arm, Some(walk)))
}

/// Records the walk's results with Resource Manager's facts attached; the
/// session and access token when the walk reached them, and what it learned.
fn record_walk(
    along: &Along<'_>,
    walk: Option<Walk>,
    arm: Option<&arm::Outcome>,
) -> (Option<(Session, Secret)>, Walked) {
    let ctx = along.ctx;
    let found = arm.and_then(|o| o.as_ref().ok());
    let Some(walk) = walk else {
        ctx.skip(&walk::steps(ctx), NO_LOGIN_SERVER);
        ctx.skip(&[CheckId::NodeAudiences], NO_LOGIN_SERVER);
        return (None, Walked::default());
    };
    let mut authorized = walk.authorized;
    for r in walk.results {
        let r = arm_facts::enrich(r, found, &walk.facts);
        let r = match (&authorized, r.id) {
            (Some((_, access)), CheckId::RegistryAccessToken) => {
                check_grant(along.reg, r, access, found)
            }
            _ => r,
        };
        if r.id == CheckId::RegistryAccessToken && r.status == Status::Fail {
            authorized = None;
        }
        ctx.record(r);
    }
    match walk.audiences {
        Some(r) => ctx.record(r),
        None => ctx.skip(&[CheckId::NodeAudiences], node::NO_AUDIENCES),
    }
    (authorized, walk.facts)
}

/// With `--repository`, the access token must grant pull on it (ACR answers
/// 200 with an empty grant rather than refusing); the role to name depends
/// on the registry's role assignment mode.
fn check_grant(
    reg: &RegistryConfig,
    r: CheckResult,
    access: &Secret,
    found: Option<&arm::Found>,
) -> CheckResult {
    let abac = found
        .and_then(|f| f.registry.role_assignment_mode())
        .is_some_and(|m| m.to_ascii_lowercase().contains("abac"));
    let Some(repository) = reg.repository.as_deref() else {
        // az's note for a registry whose permissions are per repository.
        return if abac && r.status == Status::Pass {
            r.with_note(
                "Note: Please run the command with the '--repository' flag to check your \
                read and write access to a specific repository.",
            )
        } else {
            r
        };
    };
    let wanted = access_token::Wanted {
        repository,
        abac,
        required: &reg.require,
    };
    access_token::check_grant(r, access, &wanted)
}

/// What the docker checks tell the user to run to log docker in: the
/// registry's name (Resource Manager's, else the one given) for a registry
/// of the cloud, else the login server.
fn login_hint(reg: &RegistryConfig, host: &str, arm: Option<&arm::Outcome>) -> LoginHint {
    let bare = crate::target::parse_login_server(host).map_or(host.to_string(), |(h, _)| h);
    let in_cloud = reg.target.cloud.is_registry_host(&bare) == Some(true);
    let name = arm
        .and_then(|o| o.as_ref().ok())
        .map_or(reg.target.name.as_str(), |f| f.registry.name.as_str());
    LoginHint {
        registry: in_cloud.then(|| name.to_string()),
        host: host.to_string(),
    }
}

/// With consent, the docker daemon pulls the image itself.
async fn daemon_pull(
    ctx: &Ctx,
    login: Result<&LoginHint, &str>,
    (repository, reference): (&str, &str),
) {
    let config = &ctx.config;
    let needs = login.and_then(|login| {
        let host = login.host.as_str();
        let docker = docker::locate(config.docker_command.as_deref(), &config.env);
        let docker = docker.map_err(|_| "no docker client")?;
        let at = if reference.starts_with("sha256:") {
            "@"
        } else {
            ":"
        };
        Ok((
            docker,
            format!("{host}/{repository}{at}{reference}"),
            login.clone(),
        ))
    });
    // Asked before the pull runs, so that neither its time nor a
    // cancellation meets the question.
    let needs = match needs {
        Ok((docker, image, login)) if ctx.will_run(CheckId::RegistryDockerPull) => {
            let question = format!("This will pull the image {image}. Proceed? (y/n): ");
            match super::environment::consent(ctx, &question).await {
                Consent::Given => Ok((docker, image, login)),
                _ => Err("the daemon pulls only with --yes (or a y at the prompt)"),
            }
        }
        other => other,
    };
    let pull = |(docker, image, login): (std::path::PathBuf, String, LoginHint)| async move {
        docker_pull::check(&docker, (&image, &login), config.pull_timeout()).await
    };
    ctx.run(CheckId::RegistryDockerPull, needs, pull).await;
}

/// With `--image`, the manifest and the smallest layer, on the walk's
/// connection with its access token.
async fn pull_image(
    ctx: &Ctx,
    reg: &RegistryConfig,
    resolver: &Result<Resolver, DnsSetupError>,
    authorized: Option<(Session, Secret)>,
    (repository, reference): (&str, &str),
) {
    let needs = match (authorized, resolver) {
        (Some(authorized), Ok(resolver)) => Ok((authorized, resolver)),
        _ => Err("no access token"),
    };
    let fetch = |((mut session, access), resolver): ((Session, Secret), _)| async move {
        let fetch = image::Fetch {
            repository,
            reference,
            platform: reg.platform.clone(),
            dial: Dial {
                resolver,
                tls: &reg.tls,
                proxies: &reg.proxies,
                timeout: ctx.config.timeout,
            },
        };
        image::check(&mut session, &access, fetch).await
    };
    ctx.run(CheckId::RegistryImage, needs, fetch).await;
}
