//! `node.audiences`: which Azure AD audiences the registry exchanges. The
//! kubelet's credential provider has asked for the registry's own audience
//! since 2025; older providers, and `az aks check-acr` (canipull), send a
//! Resource Manager–audience token, which a registry refuses when its
//! `azureADAuthenticationAsArmPolicy` is disabled. Knowing which one the
//! registry takes tells a node that pulls from a tool that cannot.

use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::{CheckId, CheckResult};
use crate::report::Status;

/// The `node.audiences` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "node.audiences",
    title: "Token audiences",
    proves: "With --kubelet and a managed identity: whether the registry also exchanges a \
        Resource Manager-audience token of the kubelet identity (what credential providers \
        before 2025 and az aks check-acr send), beside the registry-audience token the current \
        provider sends.",
    warnings: &[warning(
        "the registry refuses Resource Manager-audience tokens \
            (azureADAuthenticationAsArmPolicy is disabled)",
        "nodes whose credential provider is older than 2025, and az aks check-acr, are refused: \
            upgrade the node pool, and do not read az aks check-acr's failure as the kubelet's",
    )],
    codes: &[],
    planned: Planned::OnNode,
};

/// What became of the Resource Manager–audience token's exchange.
pub(crate) enum ArmAudience {
    Accepted,
    /// Refused, with the registry's status.
    Refused(Option<u16>),
    /// Not tried, and why.
    NotTried(String),
}

pub(crate) fn check(arm: ArmAudience) -> CheckResult {
    let id = CheckId::NodeAudiences;
    match arm {
        ArmAudience::Accepted => CheckResult::pass(
            id,
            "The registry exchanges the registry and the Resource Manager audiences : OK (older \
            credential providers and az aks check-acr work here too)",
        ),
        ArmAudience::Refused(status) => CheckResult::warn(
            id,
            format!(
                "The registry exchanges the registry audience (which this node's current \
                credential provider sends) but refuses the Resource Manager audience{} \
                (its azureADAuthenticationAsArmPolicy is disabled): credential providers older \
                than 2025 and az aks check-acr (canipull) are refused here, though the kubelet \
                of a current node pulls.",
                status.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
        ),
        ArmAudience::NotTried(why) => CheckResult::skip(id, why),
    }
}

/// The outcome of an exchange as this check reads it.
pub(crate) fn outcome(exchanged: &CheckResult, got_refresh_token: bool) -> ArmAudience {
    match (got_refresh_token, exchanged.status) {
        (true, _) => ArmAudience::Accepted,
        (false, Status::Fail) if matches!(exchanged.http_status(), Some(401 | 403)) => {
            ArmAudience::Refused(exchanged.http_status())
        }
        (false, _) => ArmAudience::NotTried(format!(
            "the Resource Manager-audience exchange gave no answer to judge: {}",
            exchanged.message.lines().last().unwrap_or_default()
        )),
    }
}
