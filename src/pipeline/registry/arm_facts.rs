//! What Resource Manager adds to the walk: the login server it names, the
//! firewall rules that explain a 403, the private endpoints that explain a
//! public DNS answer, and the checks that need the registry's properties
//! (private endpoint DNS, data endpoints, customer-managed key).

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
pub fn decide_login_server(
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
    } else if default.eq_ignore_ascii_case("allow") {
        lines.push("The registry's firewall allows every address (defaultAction Allow), so it does not explain the 403. Something else refuses: a network security perimeter around the registry, a registry reached only through private endpoints from its virtual network, or a proxy answering 403 on the registry's behalf.".into());
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

/// Resource Manager's facts attached to a result of the walk.
pub fn enrich(r: CheckResult, found: Option<&arm::Found>) -> CheckResult {
    let Some(found) = found else {
        return r;
    };
    match (r.id, r.code) {
        (_, Some(ErrorCode::ConnectivityForbiddenError)) => explain_firewall(r, found),
        (CheckId::RegistryDns, _) => private_endpoint_dns(r, found),
        _ => r,
    }
}

/// The checks that need the registry's properties from Resource Manager.
pub async fn after_arm(
    ctx: &Ctx,
    reg: &RegistryConfig,
    arm: Option<&arm::Outcome>,
    resolver: &Result<Resolver, DnsSetupError>,
) {
    let Some(found) = arm.and_then(|o| o.as_ref().ok()) else {
        let why = match (&reg.arm, arm) {
            (Err(why), _) => format!("needs Resource Manager, which was not used: {why}"),
            (Ok(_), Some(Err(why))) => format!("needs Resource Manager: {why}"),
            _ => "needs Resource Manager, which was not asked".to_string(),
        };
        if reg.vnet.is_some() {
            ctx.skip_all(&[CheckId::RegistryPrivateEndpoint], &why);
        }
        ctx.skip_all(
            &[
                CheckId::RegistryDataEndpoints,
                CheckId::RegistryReplicas,
                CheckId::RegistryRegionalEndpoints,
                CheckId::RegistryCmk,
            ],
            &why,
        );
        return;
    };
    // Independent of each other: asked at the same time.
    tokio::join!(
        check_private_endpoints(ctx, reg, found, resolver),
        check_data_endpoints(ctx, reg, found, resolver),
        check_regional_endpoints(ctx, reg, found, resolver),
        async {
            if ctx.wants(CheckId::RegistryReplicas) {
                let chain = ctx.detail_strings(CheckId::RegistryDns, "cname_chain");
                let work = async { (replicas::check(found, &chain).await, ()) };
                ctx.check(CheckId::RegistryReplicas, work).await;
            }
        },
        async {
            if ctx.wants(CheckId::RegistryCmk) {
                ctx.check(CheckId::RegistryCmk, async {
                    (cmk::check(found).await, ())
                })
                .await;
            }
        },
    );
}

async fn check_private_endpoints(
    ctx: &Ctx,
    reg: &RegistryConfig,
    found: &arm::Found,
    resolver: &Result<Resolver, DnsSetupError>,
) {
    if let (Some(vnet), Ok(resolver)) = (&reg.vnet, resolver) {
        if ctx.wants(CheckId::RegistryPrivateEndpoint) {
            let work = async { (private_endpoint::check(found, vnet, resolver).await, ()) };
            ctx.check(CheckId::RegistryPrivateEndpoint, work).await;
        }
    }
}

async fn check_data_endpoints(
    ctx: &Ctx,
    reg: &RegistryConfig,
    found: &arm::Found,
    resolver: &Result<Resolver, DnsSetupError>,
) {
    let hosts = found.registry.data_endpoints();
    let why_not = "the registry has no dedicated data endpoints";
    let Some(dial) = endpoints_dial(
        ctx,
        reg,
        CheckId::RegistryDataEndpoints,
        &hosts,
        resolver,
        why_not,
    ) else {
        return;
    };
    let work = async { (data_endpoints::check(&hosts, &dial).await, ()) };
    ctx.check(CheckId::RegistryDataEndpoints, work).await;
}

async fn check_regional_endpoints(
    ctx: &Ctx,
    reg: &RegistryConfig,
    found: &arm::Found,
    resolver: &Result<Resolver, DnsSetupError>,
) {
    let hosts = found.registry.regional_endpoints();
    let why_not = "the registry has no regional endpoints";
    let id = CheckId::RegistryRegionalEndpoints;
    let Some(dial) = endpoints_dial(ctx, reg, id, &hosts, resolver, why_not) else {
        return;
    };
    let work = async { (regional_endpoints::check(&hosts, &dial).await, ()) };
    ctx.check(id, work).await;
}

/// How to reach a registry's other endpoints, when check `id` has `hosts`
/// to probe and is wanted; without hosts it is skipped for `why_not`.
fn endpoints_dial<'a>(
    ctx: &Ctx,
    reg: &'a RegistryConfig,
    id: CheckId,
    hosts: &[String],
    resolver: &'a Result<Resolver, DnsSetupError>,
    why_not: &str,
) -> Option<Dial<'a>> {
    if hosts.is_empty() {
        ctx.skip_all(&[id], why_not);
        return None;
    }
    let resolver = resolver.as_ref().ok().filter(|_| ctx.wants(id))?;
    Some(Dial {
        resolver,
        tls: &reg.tls,
        proxies: &reg.proxies,
        timeout: ctx.config.timeout,
    })
}
