//! The registry chain. Resource Manager is asked for the registry while
//! DNS → TLS → challenge already run on the login server it most likely has
//! (the flag, or name + suffix); only when Resource Manager names another
//! login server (a hash suffix) is that one checked in turn. The Azure AD
//! token for the exchange is requested at the start too. Then the refresh
//! and access tokens over the same connection, the data endpoints and the
//! customer-managed key identity.

use super::challenge::{self, Bearer};
use super::Ctx;
use super::{
    arm, cmk, data_endpoints, dns, image, login_server, private_endpoint, tls, token, CheckId,
};
use crate::azure::credential::{CredentialSetup, NoCredential, ACR_SCOPE};
use crate::codes::ErrorCode;
use crate::config::RegistryConfig;
use crate::net::connection::Session;
use crate::net::dns::{DnsSetupError, Resolver};
use crate::net::https_client::Client;
use crate::report::{CheckResult, Status};
use crate::secret::Secret;
use crate::target::LoginServerSource;
use crate::target::{parse_login_server, LoginServer};
use std::time::Instant;

/// What DNS → TLS → challenge found on one login server, not yet recorded.
struct Path {
    results: Vec<CheckResult>,
    /// The connection and challenge, when every step passed.
    ready: Option<(Session, Bearer)>,
}

const PATH: [CheckId; 3] = [CheckId::Dns, CheckId::Tls, CheckId::Challenge];

/// Aborts a background task when the chain ends early.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn timed(mut r: CheckResult, since: Instant) -> CheckResult {
    r.duration_ms = since.elapsed().as_millis() as u64;
    r
}

/// DNS, TLS and the challenge on `ls`; the steps after a failed or skipped
/// one are skipped with the reason.
async fn probe(
    ctx: &Ctx,
    reg: &RegistryConfig,
    resolver: &Result<Resolver, DnsSetupError>,
    ls: &LoginServer,
) -> Path {
    let timeout = ctx.config.timeout;
    let mut results = Vec::new();
    let stop = |mut results: Vec<CheckResult>, after: usize, reason: &str| {
        for id in &PATH[after + 1..] {
            let why = ctx.user_skip(*id).unwrap_or_else(|| reason.to_string());
            results.push(CheckResult::skip(*id, why));
        }
        Path {
            results,
            ready: None,
        }
    };
    // A step the user skipped is recorded so, and the steps after it wait on it.
    let skipped = |results: &mut Vec<CheckResult>, i: usize| {
        let why = ctx.user_skip(PATH[i])?;
        results.push(CheckResult::skip(PATH[i], why));
        Some(format!(
            "needs the {} check, which was skipped",
            PATH[i].as_str()
        ))
    };
    if let Some(reason) = skipped(&mut results, 0) {
        return stop(results, 0, &reason);
    }
    let start = Instant::now();
    let resolver = match resolver {
        Ok(r) => r,
        Err(why) => {
            results.push(CheckResult::fail(
                CheckId::Dns,
                ErrorCode::ConnectivityDnsError,
                why.to_string(),
            ));
            return stop(results, 0, "DNS lookup failed");
        }
    };
    let (r, addrs) = dns::check(&ls.host, resolver, timeout).await;
    let (r, addrs) = match (addrs, &reg.proxy) {
        (None, Some(proxy)) => (dns::through_proxy(r, proxy), Some(Vec::new())),
        (addrs, _) => (r, addrs),
    };
    results.push(timed(r, start));
    let Some(addrs) = addrs else {
        return stop(results, 0, "DNS lookup failed");
    };
    if let Some(reason) = skipped(&mut results, 1) {
        return stop(results, 1, &reason);
    }
    let start = Instant::now();
    let (r, conn) = tls::check(ls, &addrs, reg.proxy.as_ref(), &reg.tls, timeout).await;
    results.push(timed(r, start));
    let Some(conn) = conn else {
        return stop(results, 1, "no connection to the registry");
    };
    if let Some(reason) = skipped(&mut results, 2) {
        return stop(results, 2, &reason);
    }
    let mut session = Session::new(conn, addrs, reg.proxy.clone(), reg.tls.clone(), timeout);
    let start = Instant::now();
    let (r, bearer) = challenge::check(&mut session, ls).await;
    results.push(timed(r, start));
    let ready = bearer.map(|b| (session, b));
    Path { results, ready }
}

/// The login server to check once Resource Manager has answered.
fn decide_login_server(
    reg: &RegistryConfig,
    arm: Option<&arm::Outcome>,
) -> (CheckResult, Option<LoginServer>) {
    let from_arm = arm
        .and_then(|o| o.as_ref().ok())
        .and_then(|found| found.registry.login_server())
        .map(|s| s.to_string());
    let guess = &reg.target.login_server;
    let flag = matches!(guess, Ok(ls) if ls.source == LoginServerSource::Flag);
    let in_cloud = |host: &str| match &reg.target.cloud.acr_suffix {
        Some(suffix) => host.ends_with(&format!(".{}", suffix.trim_start_matches('.'))),
        None => true,
    };
    match from_arm {
        Some(arm_ls) if !flag => match parse_login_server(&arm_ls) {
            // The Azure AD token goes to this host: it must be a registry
            // of this cloud, whatever Resource Manager says.
            Ok((host, _)) if !in_cloud(&host) => {
                let (r, ls) = login_server::check(&reg.target);
                let note = format!(
                    "Resource Manager's login server '{}' is not a registry host of the {} cloud; it was not used",
                    crate::untrusted::inline(&arm_ls),
                    reg.target.cloud.name
                );
                (r.with_note(note), ls)
            }
            Ok((host, port)) => {
                let ls = LoginServer {
                    host,
                    port,
                    source: LoginServerSource::Arm,
                };
                let mut target = reg.target.clone();
                target.login_server = Ok(ls.clone());
                let (mut r, _) = login_server::check(&target);
                if let Ok(g) = guess {
                    if g.authority() != ls.authority() {
                        r = r.with_note(format!(
                            "not {} (name + {} suffix): the registry's domain name label carries a hash",
                            g.authority(),
                            reg.target.cloud.name
                        ));
                    }
                }
                (r, Some(ls))
            }
            Err(why) => {
                let (r, ls) = login_server::check(&reg.target);
                let note = format!(
                    "Resource Manager's login server '{}' is unusable: {why}",
                    crate::untrusted::inline(&arm_ls)
                );
                (r.with_note(note), ls)
            }
        },
        _ => login_server::check(&reg.target),
    }
}

/// On a 403, what the registry's network rules say about this client.
fn explain_firewall(mut r: CheckResult, found: &arm::Found) -> CheckResult {
    let reg = &found.registry;
    let public = reg.public_network_access().unwrap_or("Enabled");
    let default = reg.default_action().unwrap_or("Allow");
    let rules = reg.ip_rules();
    let client_ip = r
        .details
        .get("client_ip")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok());
    let mut lines = vec![format!(
        "Registry network settings: publicNetworkAccess {public}, networkRuleSet.defaultAction {default}, {} IP rule(s).",
        rules.len()
    )];
    if public.eq_ignore_ascii_case("disabled") {
        lines.push("Public network access is disabled: reach the registry through its private endpoint, or enable public access (az acr update --public-network-enabled true).".into());
    } else if let Some(ip) = client_ip {
        if crate::azure::arm::ip_allowed(ip, &rules) {
            lines.push(format!("{ip} is in the IP rules, so the denial comes from elsewhere (a firewall rule still propagating, or a different public IP per connection)."));
        } else {
            lines.push(format!("{ip} is not in the IP rules: add it (az acr network-rule add --ip-address {ip}) or set the default action to Allow."));
        }
    }
    r.message.push('\n');
    r.message.push_str(&lines.join("\n"));
    r.with_detail("public_network_access", public)
        .with_detail("default_action", default)
        .with_detail("ip_rules", rules)
}

/// A registry with private endpoints (or without public access) that DNS
/// resolves to public addresses is reached the wrong way from here.
fn private_endpoint_dns(mut r: CheckResult, found: &arm::Found) -> CheckResult {
    let public_disabled = found
        .registry
        .public_network_access()
        .is_some_and(|p| p.eq_ignore_ascii_case("disabled"));
    if !(found.registry.has_private_endpoints() || public_disabled) || r.status != Status::Pass {
        return r;
    }
    let addrs: Vec<std::net::IpAddr> = r.details["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str()?.parse().ok())
        .collect();
    if addrs.iter().any(crate::net::dns::is_private) {
        return r;
    }
    r.status = Status::Warn;
    let why = if public_disabled {
        "public network access is disabled"
    } else {
        "the registry has private endpoints"
    };
    r.with_note(format!(
        "{why}, but DNS answers a public address: this machine does not use the private DNS zone (privatelink.azurecr.io), so it reaches the public endpoint"
    ))
}

pub async fn run(ctx: &Ctx) {
    let Some(reg) = &ctx.config.registry else {
        return;
    };
    let timeout = ctx.config.timeout;
    let client = Client::new(reg.tls.clone(), timeout);
    let credentials = || CredentialSetup {
        mode: reg.auth,
        cloud: reg.target.cloud.clone(),
        client: client.clone(),
        timeout,
    };

    let wants_aad = reg.password.is_none()
        && ctx.user_skip(CheckId::RefreshToken).is_none()
        && ctx.user_skip(CheckId::AccessToken).is_none();
    let aad_task = wants_aad.then(|| {
        let setup = credentials();
        tokio::spawn(async move { setup.aad_token(ACR_SCOPE).await })
    });
    let _abort_aad = aad_task.as_ref().map(|t| AbortOnDrop(t.abort_handle()));
    let arm_task = match &reg.arm {
        Ok(target) if ctx.user_skip(CheckId::Arm).is_none() => {
            let (setup, target) = (credentials(), target.clone());
            Some(tokio::spawn(arm::lookup(setup, target)))
        }
        _ => None,
    };
    let _abort_arm = arm_task.as_ref().map(|t| AbortOnDrop(t.abort_handle()));

    let resolver = match reg.dns_server {
        Some(server) => Resolver::server(server, timeout),
        None => Resolver::system(timeout),
    };
    let guess = reg.target.login_server.as_ref().ok();
    let work = async {
        let arm = async {
            match arm_task {
                Some(task) => Some(
                    task.await
                        .unwrap_or_else(|e| Err(format!("lookup failed: {e}"))),
                ),
                None => None,
            }
        };
        let path = async {
            match guess {
                Some(ls) => Some(probe(ctx, reg, &resolver, ls).await),
                None => None,
            }
        };
        tokio::join!(arm, path)
    };
    let Some(((arm, guessed_path), _)) = ctx.timed(CheckId::Arm, work).await else {
        return;
    };
    if ctx.wants(CheckId::Arm) {
        ctx.record(arm::result(&reg.arm, arm.as_ref()));
    }
    let found = arm.as_ref().and_then(|o| o.as_ref().ok());

    let (ls_result, ls) = decide_login_server(reg, arm.as_ref());
    ctx.record(ls_result);
    if let Some(ls) = &ls {
        ctx.set_registry(crate::report::RegistryInfo {
            name: reg.target.name.clone(),
            login_server: Some(ls.authority()),
            login_server_source: Some(ls.source),
        });
    }
    let path = match (&ls, guessed_path) {
        (Some(ls), Some(p)) if guess.is_some_and(|g| g.authority() == ls.authority()) => Some(p),
        (Some(ls), _) => ctx
            .timed(CheckId::Dns, probe(ctx, reg, &resolver, ls))
            .await
            .map(|(p, _)| p),
        (None, _) => None,
    };
    let ready = match path {
        Some(path) => {
            for mut r in path.results {
                if let Some(found) = found {
                    if r.code == Some(ErrorCode::ConnectivityForbiddenError) {
                        r = explain_firewall(r, found);
                    }
                    if r.id == CheckId::Dns {
                        r = private_endpoint_dns(r, found);
                    }
                }
                ctx.record(r);
            }
            path.ready
        }
        None => {
            ctx.skip_all(&PATH, "no login server");
            None
        }
    };

    let authorized = match ready {
        Some((session, bearer)) => tokens(ctx, reg, session, bearer, aad_task, found).await,
        None => {
            ctx.skip_all(
                &[CheckId::RefreshToken, CheckId::AccessToken],
                "no challenge from the registry",
            );
            None
        }
    };
    if let (Some(reference), Some(repository)) = (&reg.image, &reg.repository) {
        match (authorized, &resolver) {
            (Some((mut session, _, access)), Ok(resolver)) if ctx.wants(CheckId::Image) => {
                let fetch = image::Fetch {
                    repository,
                    reference,
                    resolver,
                    tls: &reg.tls,
                    timeout,
                };
                let work = async { (image::check(&mut session, &access, fetch).await, Some(())) };
                ctx.check(CheckId::Image, work).await;
            }
            _ => ctx.skip_all(&[CheckId::Image], "no access token"),
        }
    }

    let needs_arm = |id| match (&reg.arm, &arm) {
        (Err(why), _) => ctx.skip_all(
            &[id],
            &format!("needs Resource Manager, which was not used: {why}"),
        ),
        (Ok(_), Some(Err(why))) => ctx.skip_all(&[id], &format!("needs Resource Manager: {why}")),
        _ => ctx.skip_all(&[id], "needs Resource Manager, which was not asked"),
    };
    match found {
        Some(found) => {
            if let (Some(vnet), Ok(resolver)) = (&reg.vnet, &resolver) {
                if ctx.wants(CheckId::PrivateEndpoint) {
                    let work = async {
                        (
                            private_endpoint::check(found, vnet, resolver).await,
                            Some(()),
                        )
                    };
                    ctx.check(CheckId::PrivateEndpoint, work).await;
                }
            }
            let hosts = found.registry.data_endpoints();
            if hosts.is_empty() {
                ctx.skip_all(
                    &[CheckId::DataEndpoints],
                    "the registry has no dedicated data endpoints",
                );
            } else if ctx.wants(CheckId::DataEndpoints) {
                if let Ok(resolver) = &resolver {
                    let work = async {
                        (
                            data_endpoints::check(&hosts, resolver, &reg.tls, timeout).await,
                            Some(()),
                        )
                    };
                    ctx.check(CheckId::DataEndpoints, work).await;
                }
            }
            if ctx.wants(CheckId::Cmk) {
                ctx.check(CheckId::Cmk, async { (cmk::check(found).await, Some(())) })
                    .await;
            }
        }
        None => {
            if reg.vnet.is_some() {
                needs_arm(CheckId::PrivateEndpoint);
            }
            needs_arm(CheckId::DataEndpoints);
            needs_arm(CheckId::Cmk);
        }
    }
}

/// The refresh token (or the password grant) and the access token.
async fn tokens(
    ctx: &Ctx,
    reg: &RegistryConfig,
    mut session: Session,
    bearer: Bearer,
    aad_task: Option<
        tokio::task::JoinHandle<Result<crate::azure::credential::AadToken, NoCredential>>,
    >,
    found: Option<&arm::Found>,
) -> Option<(Session, Bearer, Secret)> {
    let scope = match &reg.repository {
        Some(repo) => format!("repository:{repo}:pull"),
        None => "registry:catalog:*".to_string(),
    };
    let refresh = if reg.password.is_some() {
        ctx.record(CheckResult::skip(
            CheckId::RefreshToken,
            "not used with --username/--password: the password grant returns an access token directly",
        ));
        None
    } else {
        if !ctx.wants(CheckId::RefreshToken) {
            ctx.skip_all(
                &[CheckId::AccessToken],
                "needs the registry.refresh_token check, which was skipped",
            );
            return None;
        }
        let work = async {
            let aad = match aad_task {
                Some(task) => task.await.unwrap_or_else(|_| Err(NoCredential::default())),
                None => Err(NoCredential::default()),
            };
            token::refresh_token(&mut session, &bearer, aad).await
        };
        match ctx.check(CheckId::RefreshToken, work).await {
            None => return None,
            Some(None) => {
                ctx.skip_all(&[CheckId::AccessToken], "no refresh token");
                return None;
            }
            Some(Some(refresh)) => Some(refresh),
        }
    };
    if !ctx.wants(CheckId::AccessToken) {
        return None;
    }
    let grant = match (&refresh, &reg.password) {
        (Some(r), _) => token::Grant::Refresh(r),
        (None, Some(login)) => token::Grant::Password(login),
        (None, None) => return None,
    };
    let abac = found
        .and_then(|f| f.registry.role_assignment_mode())
        .is_some_and(|m| m.to_ascii_lowercase().contains("abac"));
    let wanted = reg
        .repository
        .as_deref()
        .map(|repository| token::Wanted { repository, abac });
    let work = token::access_token(&mut session, &bearer, grant, &scope, wanted.as_ref());
    let access = ctx.check(CheckId::AccessToken, work).await??;
    Some((session, bearer, access))
}
