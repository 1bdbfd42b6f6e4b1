//! A node's part of the registry chain (`--kubelet`): its files checked
//! first (a moment's work), then the kubelet identity's token asked for at
//! once and reported alongside the walk, which exchanges it.

use super::{AadResult, AadToken, AbortOnDrop};
use crate::azure::auth::AuthSource;
use crate::azure::credential::{CredentialSetup, NoCredential};
use crate::azure::imds::Imds;
use crate::checks::node::{azure_json, credential_provider, identity, provider_run};
use crate::checks::registry::challenge::Bearer;
use crate::checks::CheckId;
use crate::config::RegistryConfig;
use crate::env::Env;
use crate::net::connection::SpareSession;
use crate::net::dns::{DnsSetupError, Resolver};
use crate::net::https_client::Client;
use crate::node::azure_json::{AzureJson, KubeletIdentity};
use crate::node::host_root::HostRoot;
use crate::pipeline::ctx::Ctx;
use crate::report::Status;
use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

/// Why `node.audiences` has nothing to say.
pub(super) const NO_AUDIENCES: &str = "no exchange to compare: the walk did not reach the token \
    steps, or the kubelet uses a service principal (no Azure AD token)";

/// Why the registry's own refresh step is not run on a node.
const EXCHANGED_BY_THE_KUBELET: &str =
    "node mode (--kubelet): the kubelet's exchange is node.exchange";

/// What the node's files say: its configuration when it could be read, and
/// whether the kubelet's credential provider covers the registry (when it
/// does not, the kubelet hands out no credential, and neither does the
/// check).
pub(super) struct NodeFiles {
    pub azure: Option<AzureJson>,
    pub covered: bool,
}

/// `node.azure_json` and `node.credential_provider`.
pub(super) async fn files(ctx: &Ctx, host: &HostRoot, reg: &RegistryConfig) -> NodeFiles {
    ctx.skip(&[CheckId::RegistryRefreshToken], EXCHANGED_BY_THE_KUBELET);
    let azure = ctx
        .run(CheckId::NodeAzureJson, Ok(()), |()| async {
            azure_json::check(host)
        })
        .await
        .flatten();
    let ls = reg.target.login_server.as_ref().map(|ls| ls.authority());
    let ls = ls.as_deref().map_err(|_| "no login server");
    let covered = ctx
        .run(CheckId::NodeCredentialProvider, ls, |ls| async move {
            let r = credential_provider::check(host, ls);
            let covered = r.status != Status::Fail;
            (r, covered)
        })
        .await;
    NodeFiles {
        azure,
        // Skipped by the user: the provider is taken to cover it.
        covered: covered.unwrap_or(true),
    }
}

/// The kubelet identity's token for `scope`, asked for at once (a managed
/// identity's, from IMDS); none for a service principal or without a
/// configuration.
pub(super) fn identity_token(
    azure: Option<&AzureJson>,
    (imds, client): (&Arc<Imds>, &Arc<Client>),
    scope: String,
) -> (AadToken, Option<AbortOnDrop>) {
    let identity = azure
        .map(|a| a.identity.clone())
        .filter(|i| matches!(i, KubeletIdentity::Managed(_)));
    let task = identity.map(|identity| {
        let (imds, client) = (imds.clone(), client.clone());
        tokio::spawn(async move { identity::token(&imds, &client, &identity, &scope).await })
    });
    AadToken::from_task(task, None)
}

/// The Resource Manager audience of the registry's cloud, as older
/// credential providers and `az aks check-acr` ask for it.
pub(super) fn arm_scope(reg: &RegistryConfig) -> String {
    let cloud = &reg.target.cloud;
    let audience = (cloud.arm_audience.as_deref())
        .or(cloud.resource_manager.as_deref())
        .unwrap_or("https://management.azure.com/");
    format!("{}/.default", audience.trim_end_matches('/'))
}

/// `node.identity`, when the token is in.
pub(super) async fn identity(ctx: &Ctx, azure: Option<&AzureJson>, aad: &AadToken) {
    let needs = azure.ok_or("no node cloud configuration (node.azure_json)");
    ctx.run(CheckId::NodeIdentity, needs, |azure| async move {
        let token: AadResult = match azure.identity {
            KubeletIdentity::Managed(_) => aad.get().await,
            KubeletIdentity::ServicePrincipal { .. } => Err(NoCredential::default()),
        };
        identity::check(&azure.identity, &token)
    })
    .await;
}

/// The node's resolver: its `/etc/resolv.conf` (a symlink on Ubuntu,
/// resolved under the root).
#[cfg(target_os = "linux")]
pub(super) fn resolver(host: &HostRoot, timeout: Duration) -> Result<Resolver, DnsSetupError> {
    const RESOLV_CONF: &str = "/etc/resolv.conf";
    let data = host
        .read(RESOLV_CONF)
        .map_err(|e| DnsSetupError::SystemConfig(e.to_string()))?;
    Resolver::node(data.as_bytes(), &host.shown(RESOLV_CONF), timeout)
}

/// Node mode is for Linux nodes (the configuration refuses `--kubelet`
/// elsewhere).
#[cfg(not(target_os = "linux"))]
pub(super) fn resolver(_: &HostRoot, _: Duration) -> Result<Resolver, DnsSetupError> {
    Err(DnsSetupError::SystemConfig(
        "node mode needs a Linux node".into(),
    ))
}

/// A node's service principal, to sign in to Azure AD with only when the
/// registry refuses it (to tell a bad secret from a missing role); `None`
/// for a managed identity.
pub(super) fn sign_in(azure: &AzureJson, base: CredentialSetup) -> Option<CredentialSetup> {
    let env = service_principal_env(azure, &base.env)?;
    Some(CredentialSetup {
        mode: AuthSource::ServicePrincipal,
        env: Arc::new(env),
        ..base
    })
}

/// The environment the Azure SDK signs a node's service principal in with:
/// its id, secret and tenant from `azure.json`, and the Azure AD endpoint
/// this run uses.
fn service_principal_env(azure: &AzureJson, env: &Env) -> Option<Env> {
    let KubeletIdentity::ServicePrincipal { client_id, secret } = &azure.identity else {
        return None;
    };
    let mut vars: Vec<(OsString, OsString)> = vec![
        ("AZURE_TENANT_ID".into(), azure.tenant.clone().into()),
        ("AZURE_CLIENT_ID".into(), client_id.clone().into()),
        ("AZURE_CLIENT_SECRET".into(), secret.expose().into()),
    ];
    if let Some(authority) = env.var_os("AZURE_AUTHORITY_HOST") {
        vars.push(("AZURE_AUTHORITY_HOST".into(), authority.to_owned()));
    }
    Some(Env::new(vars, None))
}

/// `node.provider_run`: the node's credential provider run, and its
/// credential tried at the registry on another connection when the walk
/// reached it.
pub(super) async fn provider_run(
    ctx: &Ctx,
    reg: &RegistryConfig,
    (spare, bearer): (Option<SpareSession>, Option<&Bearer>),
) {
    let Some(host) = ctx
        .config
        .node
        .as_ref()
        .filter(|_| ctx.config.run_credential_provider)
    else {
        return;
    };
    let ls = ctx.login_server();
    let needs = ls.as_deref().ok_or("no login server");
    let reach = spare.zip(bearer);
    let timeout = ctx.config.timeout;
    ctx.run(CheckId::NodeProviderRun, needs, |ls| async move {
        let repository = reg.repository.as_deref();
        let reference = reg.image.as_deref().unwrap_or("latest");
        let at = if reference.starts_with("sha256:") {
            "@"
        } else {
            ":"
        };
        let image = format!(
            "{ls}/{}{at}{reference}",
            repository.unwrap_or("acr-health/probe")
        );
        let scope = match repository {
            Some(repo) => format!("repository:{repo}:pull"),
            None => "registry:catalog:*".to_string(),
        };
        let registry = provider_run::Registry {
            login_server: ls,
            image,
            reach,
            scope,
        };
        provider_run::check(host, registry, timeout).await
    })
    .await;
}
