//! `node.identity`: the token the kubelet's credential provider asks for,
//! from the instance metadata service, for the kubelet identity that
//! `azure.json` names and the registry's own audience.

use crate::azure::auth::AuthSource;
use crate::azure::credential::{AadToken, NoCredential};
use crate::azure::imds::{Imds, ImdsError};
use crate::check_spec::{CheckSpec, Planned};
use crate::checks::{CheckId, CheckResult};
use crate::codes::ErrorCode;
use crate::net::https_client::Client;
use crate::node::azure_json::KubeletIdentity;

/// The `node.identity` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "node.identity",
    title: "Kubelet identity token",
    proves: "With --kubelet: the instance metadata service gives the kubelet identity of \
        azure.json (client_id or msi_res_id) a token for the registry's audience \
        (https://containerregistry.azure.net), as the credential provider asks; a service \
        principal needs none (containerd is handed its id and secret).",
    warnings: &[],
    codes: &[ErrorCode::KubeletCredentialError],
    planned: Planned::OnNode,
};

/// The registry's audience, which the credential provider asks for.
pub(crate) const REGISTRY_AUDIENCE: &str = "https://containerregistry.azure.net/.default";

/// The kubelet identity's token for `scope` (the registry's audience, as
/// the provider asks).
pub(crate) async fn token(
    imds: &Imds,
    client: &Client,
    identity: &KubeletIdentity,
    scope: &str,
) -> Result<AadToken, NoCredential> {
    let named = match identity {
        KubeletIdentity::Managed(named) => named.as_ref(),
        KubeletIdentity::ServicePrincipal { .. } => return Err(NoCredential::default()),
    };
    let got = imds.token(client, scope, named.map(|n| n.query())).await;
    match got {
        Ok(secret) => {
            let mut t = AadToken::new(secret, AuthSource::ManagedIdentity);
            t.via = Some("kubelet identity");
            Ok(t)
        }
        Err(e) => Err(NoCredential {
            tried: vec![(AuthSource::ManagedIdentity, refusal(&e, identity))],
            unsupported: None,
        }),
    }
}

/// Why IMDS gave no token, in the node's words: an identity that is not
/// assigned to the node's VM scale set is named as such.
fn refusal(e: &ImdsError, identity: &KubeletIdentity) -> String {
    let who = super::azure_json::identity(identity);
    match e {
        ImdsError::Refused { detail, .. }
            if detail.to_ascii_lowercase().contains("identity not found") =>
        {
            format!(
                "the instance metadata service does not know the kubelet's {who} (Identity not \
                found): it is not assigned to this node's virtual machine scale set. Assign it \
                (az vmss identity assign), or correct userAssignedIdentityID in azure.json"
            )
        }
        ImdsError::Refused { status, detail } => format!(
            "the instance metadata service refused a token for the kubelet's {who}: {status} \
            {detail}"
        ),
        other => format!("no token for the kubelet's {who}: {other}"),
    }
}

/// The check's result from the token (or its absence).
pub(crate) fn check(
    identity: &KubeletIdentity,
    token: &Result<AadToken, NoCredential>,
) -> CheckResult {
    let id = CheckId::NodeIdentity;
    let who = super::azure_json::identity(identity);
    if let KubeletIdentity::ServicePrincipal { .. } = identity {
        return CheckResult::pass(
            id,
            format!(
                "Kubelet identity: {who} : OK (the credential provider hands its id and secret \
                to containerd; no Azure AD token is asked for)"
            ),
        );
    }
    match token {
        Ok(_) => CheckResult::pass(
            id,
            format!("Token for the kubelet's {who} from the instance metadata service : OK"),
        )
        .with_detail("audience", REGISTRY_AUDIENCE.trim_end_matches("/.default")),
        Err(none) => {
            let why = none
                .tried
                .first()
                .map_or_else(String::new, |(_, w)| w.clone());
            CheckResult::fail(
                id,
                ErrorCode::KubeletCredentialError,
                format!("The kubelet gets no Azure AD token: {why}."),
            )
        }
    }
}
