//! `node.provider_run` (`--run-credential-provider`): the node's image
//! credential provider run as the kubelet runs it, the entry the kubelet
//! would take from its answer, and that credential tried at the registry
//! as containerd sends it (basic authentication on the token request).

use crate::check_spec::{CheckSpec, Planned};
use crate::checks::registry::access_token::{self, Grant};
use crate::checks::registry::challenge::Bearer;
use crate::checks::{CheckId, CheckResult};
use crate::codes::ErrorCode;
use crate::net::connection::SpareSession;
use crate::node::host_root::HostRoot;
use crate::node::kubelet::{KubeletFlags, ProviderConfig, FLAGS_PATH};
use crate::node::provider;
use crate::report::Status;
use crate::untrusted::Untrusted;
use std::time::Duration;

/// The `node.provider_run` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "node.provider_run",
    title: "Credential provider run",
    proves: "With --kubelet --run-credential-provider: the node's credential provider, run as \
        the kubelet runs it (a CredentialProviderRequest on stdin, its arguments under the host \
        root, its configured environment), answers with a credential for the login server, and \
        the registry gives an access token for it as containerd asks.",
    warnings: &[],
    codes: &[
        ErrorCode::KubeletCredentialError,
        ErrorCode::ConnectivityAccessTokenError,
    ],
    planned: Planned::ProviderRun,
};

/// Where the registry is, to try the credential at.
pub(crate) struct Registry<'a> {
    pub login_server: &'a str,
    pub image: String,
    /// Another connection to it, and its challenge, when the walk got there.
    pub reach: Option<(SpareSession, &'a Bearer)>,
    pub scope: String,
}

pub(crate) async fn check(
    host: &HostRoot,
    registry: Registry<'_>,
    timeout: Duration,
) -> CheckResult {
    let id = CheckId::NodeProviderRun;
    let fail = |why: String| CheckResult::fail(id, ErrorCode::KubeletCredentialError, why);
    let Some((bin_dir, provider)) = provider_of(host, registry.login_server) else {
        return CheckResult::skip(
            id,
            "no credential provider covers the registry (node.credential_provider)",
        );
    };
    let name = Untrusted::new(&provider.name).shown();
    let answer = match provider::run(host, (&bin_dir, &provider), &registry.image, timeout).await {
        Ok(answer) => answer,
        Err(e) => return fail(format!("The credential provider '{name}' {e}.")),
    };
    let Some((key, username, secret)) = answer.chosen else {
        return fail(format!(
            "The credential provider '{name}' answered no credential for {} (its entries: {}).",
            registry.login_server,
            answer.keys.join(", ")
        ));
    };
    let line = format!(
        "Credential provider '{name}' gives a credential for {} (entry {key})",
        registry.login_server
    );
    let Some((spare, bearer)) = registry.reach else {
        return CheckResult::warn(
            id,
            format!("{line}, not tried at the registry: the walk ended before its token steps"),
        );
    };
    let mut session = match spare.open().await {
        Ok(s) => s,
        Err(e) => return CheckResult::warn(id, format!("{line}, not tried at the registry: {e}")),
    };
    let grant = Grant::Basic {
        username: &username,
        secret: &secret,
    };
    let (r, _) =
        access_token::access_token(&mut session, bearer, grant, (&registry.scope, None)).await;
    match r.status {
        Status::Pass => CheckResult::pass(id, format!("{line}, and the registry accepts it : OK")),
        _ => CheckResult::fail(
            id,
            ErrorCode::ConnectivityAccessTokenError,
            format!("{line}, but the registry refuses it: {}", r.message),
        )
        .with_status(r.http_status().unwrap_or_default()),
    }
}

/// The kubelet's provider folder and the provider that covers the login
/// server.
fn provider_of(
    host: &HostRoot,
    login_server: &str,
) -> Option<(String, crate::node::kubelet::Provider)> {
    let flags = KubeletFlags::parse(&host.read(FLAGS_PATH).ok()?);
    let config = ProviderConfig::parse(&host.read(flags.provider_config.as_deref()?).ok()?).ok()?;
    let provider = config.provider_for(login_server)?.clone();
    Some((flags.provider_bin_dir?, provider))
}
