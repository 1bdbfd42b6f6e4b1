//! What Resource Manager adds to the walk: the login server it names, the
//! firewall rules that explain a 403, the private endpoints that explain a
//! public DNS answer, and the checks that need the registry's properties
//! (private endpoint DNS, data endpoints, customer-managed key).

use super::walk::Walked;
use crate::checks::registry::challenge::Forbidden;
use crate::checks::registry::dns::Resolved;
use crate::checks::registry::{
    arm, cmk, data_endpoints, login_server, private_endpoint, regional_endpoints, replicas,
};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::config::RegistryConfig;
use crate::net::connection::Dial;
use crate::net::dns::{DnsSetupError, Resolver};
use crate::pipeline::ctx::Ctx;
use crate::report::Status;
use crate::target::{parse_login_server, LoginServer, LoginServerSource};

/// The login server to check once Resource Manager has answered.
pub(super) fn decide_login_server(
    reg: &RegistryConfig,
    arm: Option<&arm::Outcome>,
) -> (CheckResult, Option<LoginServer>) {
    let from_arm = arm
        .and_then(|o| o.as_ref().ok())
        .and_then(|found| found.registry.login_server())
        .map(|s| s.to_string());
    let guess = &reg.target.login_server;
    let flag = matches!(guess, Ok(ls) if ls.source == LoginServerSource::Flag);
    let in_cloud = |host: &str| reg.target.cloud.is_registry_host(host).unwrap_or(true);
    match from_arm {
        Some(arm_ls) if !flag => match parse_login_server(&arm_ls) {
            // The Azure AD token goes to this host: it must be a registry
            // of this cloud, whatever Resource Manager says.
            Ok((host, _)) if !in_cloud(&host) => {
                let (r, ls) = login_server::check(&reg.target);
                let note = format!(
                    "Resource Manager's login server '{}' is not a registry host of the {} cloud; \
                        it was not used",
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
                            "not {} (name + {} suffix): the registry's domain name label carries a \
                                hash",
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
fn explain_firewall(
    r: CheckResult,
    found: &arm::Found,
    forbidden: Option<&Forbidden>,
) -> CheckResult {
    let reg = &found.registry;
    let public = reg.public_network_access().unwrap_or("Enabled");
    let default = reg.default_action().unwrap_or("Allow");
    let rules = reg.ip_rules();
    let client_ip = forbidden.and_then(|f| f.client_ip);
    let mut r = r.with_explanation(format!(
        "Registry network settings: publicNetworkAccess {public}, networkRuleSet.defaultAction \
            {default}, {} IP rule(s).",
        rules.len()
    ));
    let why = if public.eq_ignore_ascii_case("disabled") {
        Some(
            "Public network access is disabled: reach the registry through its private endpoint, \
            or enable public access (az acr update --public-network-enabled true)."
                .to_string(),
        )
    } else if default.eq_ignore_ascii_case("allow") {
        Some(
            "The registry's firewall allows every address (defaultAction Allow), so it does not \
            explain the 403. Something else refuses: a network security perimeter around the \
            registry, a registry reached only through private endpoints from its virtual network, \
            or a proxy answering 403 on the registry's behalf."
                .to_string(),
        )
    } else {
        client_ip.map(|ip| match crate::azure::arm::ip_allowed(ip, &rules) {
            true => format!(
                "{ip} is in the IP rules, so the denial comes from elsewhere (a \
                firewall rule still propagating, or a different public IP per connection)."
            ),
            false => format!(
                "{ip} is not in the IP rules: add it (az acr network-rule add \
                --ip-address {ip}) or set the default action to Allow."
            ),
        })
    };
    if let Some(why) = why {
        r = r.with_explanation(why);
    }
    r.with_detail("public_network_access", public)
        .with_detail("default_action", default)
        .with_detail("ip_rules", rules)
}

/// A registry with private endpoints (or without public access) that DNS
/// resolves to public addresses is reached the wrong way from here.
fn private_endpoint_dns(r: CheckResult, found: &arm::Found, resolved: &Resolved) -> CheckResult {
    let public_disabled = found
        .registry
        .public_network_access()
        .is_some_and(|p| p.eq_ignore_ascii_case("disabled"));
    if !(found.registry.has_private_endpoints() || public_disabled) || r.status != Status::Pass {
        return r;
    }
    if resolved.addresses.iter().any(crate::net::dns::is_private) {
        return r;
    }
    let why = if public_disabled {
        "public network access is disabled"
    } else {
        "the registry has private endpoints"
    };
    r.warning_because(format!(
        "{why}, but DNS answers a public address: this machine does not use the private DNS zone \
            (privatelink.azurecr.io), so it reaches the public endpoint"
    ))
}

/// Resource Manager's facts attached to a result of the walk.
pub(super) fn enrich(r: CheckResult, found: Option<&arm::Found>, walked: &Walked) -> CheckResult {
    let Some(found) = found else {
        return r;
    };
    match (r.id, r.code, &walked.resolved) {
        (_, Some(ErrorCode::ConnectivityForbiddenError), _) => {
            explain_firewall(r, found, walked.forbidden.as_ref())
        }
        (CheckId::RegistryDns, _, Some(resolved)) => private_endpoint_dns(r, found, resolved),
        _ => r,
    }
}

/// The checks that need the registry's properties from Resource Manager.
pub(super) async fn after_arm(
    ctx: &Ctx,
    reg: &RegistryConfig,
    (arm, walked): (Option<&arm::Outcome>, &Walked),
    resolver: &Result<Resolver, DnsSetupError>,
) {
    let Some(found) = arm.and_then(|o| o.as_ref().ok()) else {
        let why = match (&reg.arm, arm) {
            (Err(why), _) => format!("needs Resource Manager, which was not used: {why}"),
            (Ok(_), Some(Err(why))) => format!("needs Resource Manager: {why}"),
            _ => "needs Resource Manager, which was not asked".to_string(),
        };
        if reg.vnet.is_some() {
            ctx.skip(&[CheckId::RegistryPrivateEndpoint], &why);
        }
        let ids = [
            CheckId::RegistryDataEndpoints,
            CheckId::RegistryReplicas,
            CheckId::RegistryRegionalEndpoints,
            CheckId::RegistryCmk,
        ];
        ctx.skip(&ids, &why);
        return;
    };
    let resolver = resolver.as_ref().map_err(|_| "no DNS resolver");
    let dial = |hosts: &[String], why_not| match hosts.is_empty() {
        true => Err(why_not),
        false => resolver.map(|resolver| Dial {
            resolver,
            tls: &reg.tls,
            proxies: &reg.proxies,
            timeout: ctx.config.timeout,
        }),
    };
    let data_hosts = found.registry.data_endpoints();
    let data = dial(&data_hosts, "the registry has no dedicated data endpoints");
    let regional_hosts = found.registry.regional_endpoints();
    let regional = dial(&regional_hosts, "the registry has no regional endpoints");
    let cname_chain = walked
        .resolved
        .as_ref()
        .map(|r| r.cname_chain.clone())
        .unwrap_or_default();
    // Independent of each other: asked at the same time.
    tokio::join!(
        private_endpoints(ctx, reg, found, resolver),
        ctx.run(CheckId::RegistryDataEndpoints, data, |dial| async move {
            data_endpoints::check(&data_hosts, &dial).await
        }),
        ctx.run(
            CheckId::RegistryRegionalEndpoints,
            regional,
            |dial| async move { regional_endpoints::check(&regional_hosts, &dial).await }
        ),
        ctx.run(CheckId::RegistryReplicas, Ok(()), |()| {
            replicas::check(found, &cname_chain)
        }),
        ctx.run(CheckId::RegistryCmk, Ok(()), |()| cmk::check(found)),
    );
}

/// With `--vnet`: the private endpoint's names in that network.
async fn private_endpoints(
    ctx: &Ctx,
    reg: &RegistryConfig,
    found: &arm::Found,
    resolver: Result<&Resolver, &str>,
) {
    let Some(vnet) = &reg.vnet else {
        return;
    };
    ctx.run(CheckId::RegistryPrivateEndpoint, resolver, |resolver| {
        private_endpoint::check(found, vnet, resolver)
    })
    .await;
}
