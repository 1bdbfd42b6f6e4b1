//! DNS: every address of the login server and the CNAME chain, through
//! hickory (system configuration, or `--dns-server`), compared with the
//! operating system's resolver.

use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::net::dns::{self, DnsAnswer, Resolver};
use crate::net::proxy::Proxy;
use serde_json::json;
use std::net::IpAddr;
use std::time::Duration;

/// The `registry.dns` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.dns",
    title: "DNS lookup",
    proves: "The login server resolves: every address, the CNAME chain, privatelink and \
        private-address notes, and whether the operating system's resolver agrees.",
    warnings: &[
        warning(
            "the operating system's resolver answers other addresses, or fails while the \
                DNS servers \
                answer",
            "docker and other programs may reach a different place: look for a hosts \
                    entry, a VPN resolver or split DNS",
        ),
        warning(
            "only the operating system's resolver finds the name",
            "programs that ask the \
                DNS servers of /etc/resolv.conf themselves may not find the registry: add the name \
                to those servers",
        ),
        warning(
            "the name fails here but HTTPS_PROXY carries the traffic",
            "the proxy resolves \
                names itself; tools that bypass the proxy still fail",
        ),
    ],
    codes: &[ErrorCode::ConnectivityDnsError],
    planned: Planned::WithRegistry,
};

/// What the lookup found: the addresses the TLS check connects to (the
/// name is looked up once) and the CNAME chain (which replica answers).
pub(crate) type Resolved = DnsAnswer;

/// The `registry.dns` check: resolves `host`.
pub(crate) async fn check(
    host: &str,
    resolver: &Resolver,
    timeout: Duration,
) -> (CheckResult, Option<Resolved>) {
    let id = CheckId::RegistryDns;
    if let Ok(ip) = host.parse::<IpAddr>() {
        let r = CheckResult::pass(
            id,
            format!("DNS lookup to {host} : not needed (an IP address)"),
        )
        .with_detail("addresses", json!([ip.to_string()]));
        let resolved = DnsAnswer {
            addresses: vec![ip],
            cname_chain: Vec::new(),
        };
        return (r, Some(resolved));
    }
    // The OS's answer is only worth comparing when both ask the same servers.
    let (answer, os) = if resolver.explicit {
        (resolver.resolve(host).await, None)
    } else {
        let (a, o) = tokio::join!(resolver.resolve(host), dns::resolve_os(host, timeout));
        (a, Some(o))
    };
    crate::debug::log(|| {
        format!(
            "* DNS {host} via {}: {answer:?}; operating system: {os:?}",
            resolver.description
        )
    });
    match answer {
        Err(failure) => match os {
            // az and most programs resolve through the operating system:
            // where it answers, the registry is found, and the run goes on
            // to those addresses.
            Some(Ok(os_addrs)) if !os_addrs.is_empty() => {
                let answer = DnsAnswer {
                    addresses: os_addrs.clone(),
                    cname_chain: Vec::new(),
                };
                let r = describe(host, &answer, resolver, None);
                (os_only(r, &failure, &resolver.description), Some(answer))
            }
            _ => {
                let detail = format!("'{host}': {failure}; asked {}.", resolver.description);
                let r = CheckResult::fail(id, ErrorCode::ConnectivityDnsError, detail)
                    .with_detail("resolver", resolver.description.clone())
                    .with_detail("answer", failure.to_string());
                (r, None)
            }
        },
        Ok(answer) => {
            let r = describe(host, &answer, resolver, os.as_ref());
            (r, Some(answer))
        }
    }
}

/// A lookup that failed here matters less when `HTTPS_PROXY` carries the
/// registry traffic: the proxy resolves the name, so the run goes on through
/// it and the failure is a warning (tools that bypass the proxy still fail).
pub(crate) fn through_proxy(failed: CheckResult, proxy: &Proxy) -> CheckResult {
    let mut r = CheckResult::warn(
        CheckId::RegistryDns,
        format!(
            "DNS lookup failed on this machine, but the registry is reached through the proxy {}, \
                which resolves names itself.",
            proxy.display()
        ),
    )
    .with_note(failed.message.replace('\n', " "));
    r.details.extend(failed.details);
    r.with_detail("proxy", proxy.display())
}

/// Only the operating system's resolver (NSS modules, a VPN's scoped
/// resolver) finds the name; the DNS servers of the system configuration
/// do not. `found` describes the operating system's answer.
fn os_only(found: CheckResult, failure: &dns::DnsFailure, asked: &str) -> CheckResult {
    let mut r = found.with_note(format!(
        "found by the operating system's resolver only: {asked} answers {failure}; programs that \
            ask the DNS servers of /etc/resolv.conf themselves (some container runtimes, kubelet's \
            image pulls through CoreDNS) may not find the registry"
    ));
    r.status = crate::report::Status::Warn;
    r.with_detail("answer", failure.to_string())
}

fn join(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(
    host: &str,
    answer: &DnsAnswer,
    resolver: &Resolver,
    os: Option<&Result<Vec<IpAddr>, dns::DnsFailure>>,
) -> CheckResult {
    let first = answer.addresses[0];
    let mut r = CheckResult::pass(
        CheckId::RegistryDns,
        format!("DNS lookup to {host} at IP {first} : OK"),
    )
    .with_detail(
        "addresses",
        json!(answer
            .addresses
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()),
    )
    .with_detail("cname_chain", json!(answer.cname_chain))
    .with_detail("resolver", resolver.description.clone());
    if answer.addresses.len() > 1 {
        r = r.with_note(format!("all addresses: {}", join(&answer.addresses)));
    }
    if !answer.cname_chain.is_empty() {
        r = r.with_note(format!(
            "CNAME chain: {host} -> {}",
            answer.cname_chain.join(" -> ")
        ));
    }
    let privatelink = answer
        .cname_chain
        .iter()
        .any(|n| n.contains(".privatelink."));
    let private = answer.addresses.iter().all(dns::is_private);
    if privatelink {
        r = r.with_note(if private {
            "resolves through privatelink to a private address: the registry is reached over a \
                private endpoint"
                .to_string()
        } else {
            "the chain goes through privatelink but ends at a public address: the private DNS zone \
                is not linked to this network, so traffic takes the public endpoint"
                .to_string()
        });
    } else if private {
        r = r.with_note(
            "resolves to a private address (private endpoint, hosts entry or split DNS)",
        );
    }
    if let Some(os) = os {
        match os {
            Ok(os_addrs) => {
                let same = os_addrs.iter().all(|a| answer.addresses.contains(a))
                    && answer.addresses.iter().all(|a| os_addrs.contains(a));
                r = r.with_detail(
                    "os_addresses",
                    json!(os_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>()),
                );
                if !same {
                    r.status = crate::report::Status::Warn;
                    r = r.with_note(format!(
                        "the operating system's resolver answers {} instead: docker and other \
                            programs may reach a different place",
                        join(os_addrs)
                    ));
                }
            }
            Err(e) => {
                r.status = crate::report::Status::Warn;
                r = r.with_note(format!(
                    "the operating system's resolver fails for this name ({e}) while {} answers",
                    resolver.description
                ));
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_only_the_operating_system_finds_is_a_warning_with_its_address() {
        let found = CheckResult::pass(
            CheckId::RegistryDns,
            "DNS lookup to r.azurecr.io at IP 10.1.2.3 : OK",
        );
        let r = os_only(
            found,
            &dns::DnsFailure::NxDomain,
            "the system's DNS servers",
        );
        assert_eq!(r.status, crate::report::Status::Warn);
        assert_eq!(r.message, "DNS lookup to r.azurecr.io at IP 10.1.2.3 : OK");
        assert_eq!(r.code, None);
        assert!(r
            .notes()
            .any(|n| n.contains("operating system's resolver only")));
    }
}
