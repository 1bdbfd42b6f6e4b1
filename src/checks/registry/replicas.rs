//! Geo-replicas: Resource Manager lists the registry's replications (one
//! more request, alongside the other Resource Manager checks). A replica
//! that is not `Succeeded` and `Ready` fails the pulls routed to it; the
//! DNS chain says which region serves this machine.

use super::arm::Found;
use crate::azure::documents::Replication;
use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::untrusted::Untrusted;

/// The `registry.replicas` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.replicas",
    title: "Geo-replicas",
    proves:
        "With geo-replication: every replica is Succeeded and Ready, and which replica the DNS \
        chain points this machine at.",
    warnings: &[warning(
        "a replica is not Succeeded and Ready",
        "pulls routed to it fail or see \
        stale content: look at az acr replication show, or disable its region endpoint until it \
        recovers",
    )],
    codes: &[],
    planned: Planned::WithRegistry,
};

fn healthy(r: &Replication) -> bool {
    let ok = |s: Option<&str>, want: &str| s.is_none_or(|s| s.eq_ignore_ascii_case(want));
    ok(r.properties.provisioning_state.as_deref(), "Succeeded")
        && ok(
            r.properties
                .status
                .as_ref()
                .and_then(|s| s.display_status.as_deref()),
            "Ready",
        )
}

fn describe(r: &Replication) -> String {
    let state = r
        .properties
        .provisioning_state
        .as_deref()
        .unwrap_or("unknown");
    let status = r.properties.status.as_ref();
    let display = status
        .and_then(|s| s.display_status.as_deref())
        .unwrap_or("unknown");
    let message = status.and_then(|s| s.message.as_deref()).unwrap_or("");
    Untrusted::new(
        format!(
            "'{}' ({}): {state}, {display} {message}",
            r.name, r.location
        )
        .trim(),
    )
    .shown()
}

/// The replicas, and the one this machine's DNS answer points at.
pub(crate) async fn check(found: &Found, cname_chain: &[String]) -> CheckResult {
    let id = CheckId::RegistryReplicas;
    let list = match found.replications().await {
        Some(Ok(Some(list))) => list.value,
        Some(Ok(None)) => Vec::new(),
        None => return CheckResult::skip(id, "the registry's replications were not asked for"),
        Some(Err(why)) => {
            return CheckResult::warn(
                id,
                format!("The registry's replications could not be read: {why}"),
            )
        }
    };
    if list.len() < 2 {
        return CheckResult::skip(id, "the registry is not geo-replicated");
    }
    let serving = list.iter().find(|r| {
        let region = r.location.to_ascii_lowercase().replace(' ', "");
        !region.is_empty()
            && cname_chain
                .iter()
                .any(|n| n.to_ascii_lowercase().contains(&region))
    });
    let names: Vec<String> = list
        .iter()
        .map(|r| Untrusted::new(&r.location).shown())
        .collect();
    let bad: Vec<String> = list.iter().filter(|r| !healthy(r)).map(describe).collect();
    let mut r = if bad.is_empty() {
        CheckResult::pass(id, format!("Geo-replicas {} : OK", names.join(", ")))
    } else {
        CheckResult::warn(
            id,
            format!(
                "Geo-replica {} is not ready: pulls that Traffic Manager routes to it fail or \
                see stale content.",
                bad.join("; ")
            ),
        )
    };
    if let Some(s) = serving {
        r = r.with_note(format!(
            "this machine is served by the replica in {} (by the DNS chain)",
            Untrusted::new(&s.location)
        ));
    }
    r.with_detail("replicas", names)
}
