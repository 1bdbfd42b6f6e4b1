//! `/etc/kubernetes/azure.json`, the cloud provider configuration the
//! kubelet's credential provider reads (its first argument): the tenant, the
//! node's region, and the identity it asks tokens for.

use crate::secret::Secret;
use serde::Deserialize;

/// Where AKS writes it.
pub(crate) const PATH: &str = "/etc/kubernetes/azure.json";

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Raw {
    tenant_id: Option<String>,
    location: Option<String>,
    aad_client_id: Option<String>,
    aad_client_secret: Option<String>,
    use_managed_identity_extension: Option<bool>,
    #[serde(rename = "userAssignedIdentityID")]
    user_assigned_identity_id: Option<String>,
}

/// The cloud `azure.json` names, as acr-health (and az) name it: `None`
/// when the file cannot be read or names none of the known clouds.
pub(crate) fn cloud_of(host: &super::host_root::HostRoot) -> Option<&'static str> {
    #[derive(Deserialize)]
    struct Cloud {
        cloud: Option<String>,
    }
    let text = host.read(PATH).ok()?;
    let named = serde_json::from_str::<Cloud>(text.trim_start_matches('\u{feff}'))
        .ok()?
        .cloud?;
    match named.to_ascii_lowercase().as_str() {
        "azurepubliccloud" | "azurecloud" => Some("AzureCloud"),
        "azurechinacloud" => Some("AzureChinaCloud"),
        "azureusgovernmentcloud" | "azureusgovernment" => Some("AzureUSGovernment"),
        _ => None,
    }
}

/// The identity the credential provider uses.
#[derive(Clone, Debug)]
pub(crate) enum KubeletIdentity {
    /// A managed identity through IMDS: the kubelet identity (user-assigned)
    /// by client id or resource id, or the system-assigned one.
    Managed(Option<IdentityRef>),
    /// A service principal: containerd is handed its id and secret.
    ServicePrincipal { client_id: String, secret: Secret },
}

/// How a user-assigned identity is named to IMDS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IdentityRef {
    ClientId(String),
    ResourceId(String),
}

impl IdentityRef {
    /// The IMDS query parameter that names it.
    pub(crate) fn query(&self) -> (&'static str, &str) {
        match self {
            IdentityRef::ClientId(id) => ("client_id", id),
            IdentityRef::ResourceId(id) => ("msi_res_id", id),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            IdentityRef::ClientId(id) => format!("client id {id}"),
            IdentityRef::ResourceId(id) => format!("resource id {id}"),
        }
    }
}

/// What the node's configuration says.
#[derive(Clone, Debug)]
pub(crate) struct AzureJson {
    pub tenant: String,
    pub location: Option<String>,
    pub identity: KubeletIdentity,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum AzureJsonError {
    #[error("it is not valid JSON: {0}")]
    Parse(String),
    #[error("it has no tenantId")]
    NoTenant,
    #[error(
        "it names no identity: neither useManagedIdentityExtension nor aadClientId and \
        aadClientSecret"
    )]
    NoIdentity,
}

impl AzureJson {
    pub(crate) fn parse(text: &str) -> Result<AzureJson, AzureJsonError> {
        let raw: Raw = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| AzureJsonError::Parse(e.to_string()))?;
        let tenant = raw
            .tenant_id
            .filter(|t| !t.trim().is_empty())
            .ok_or(AzureJsonError::NoTenant)?;
        let identity = identity(
            raw.use_managed_identity_extension.unwrap_or(false),
            raw.user_assigned_identity_id,
            (raw.aad_client_id, raw.aad_client_secret),
        )?;
        Ok(AzureJson {
            tenant,
            location: raw.location.filter(|l| !l.is_empty()),
            identity,
        })
    }
}

/// As cloud-provider-azure decides: the managed identity extension first
/// (AKS writes `msi`/`msi` for the id and secret then), else a service
/// principal's id and secret.
fn identity(
    managed: bool,
    user_assigned: Option<String>,
    (id, secret): (Option<String>, Option<String>),
) -> Result<KubeletIdentity, AzureJsonError> {
    if managed {
        let named = user_assigned
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        return Ok(KubeletIdentity::Managed(named.map(|s| {
            match s.to_ascii_lowercase().contains("/subscriptions/") {
                true => IdentityRef::ResourceId(s),
                false => IdentityRef::ClientId(s),
            }
        })));
    }
    match (id, secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() && id != "msi" => {
            crate::secret::remember(&secret);
            Ok(KubeletIdentity::ServicePrincipal {
                client_id: id,
                secret: Secret::new(secret),
            })
        }
        _ => Err(AzureJsonError::NoIdentity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_is_read_as_the_provider_reads_it() {
        let mi = r#"{"cloud":"AzurePublicCloud","tenantId":"t","location":"eastus","aadClientId":"msi","aadClientSecret":"msi","useManagedIdentityExtension":true,"userAssignedIdentityID":"0f0f0f0f-1111-2222-3333-444444444444"}"#;
        let a = AzureJson::parse(mi).unwrap();
        assert!(matches!(
            a.identity,
            KubeletIdentity::Managed(Some(IdentityRef::ClientId(_)))
        ));
        let by_resource = mi.replace(
            "0f0f0f0f-1111-2222-3333-444444444444",
            "/subscriptions/s/resourceGroups/MC_rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-agentpool",
        );
        let a = AzureJson::parse(&by_resource).unwrap();
        assert!(matches!(
            a.identity,
            KubeletIdentity::Managed(Some(IdentityRef::ResourceId(_)))
        ));
        let sp = r#"{"tenantId":"t","aadClientId":"app","aadClientSecret":"s3cr3t-value","useManagedIdentityExtension":false}"#;
        assert!(matches!(
            AzureJson::parse(sp).unwrap().identity,
            KubeletIdentity::ServicePrincipal { .. }
        ));
        assert!(matches!(
            AzureJson::parse("{}"),
            Err(AzureJsonError::NoTenant)
        ));
        assert!(matches!(
            AzureJson::parse(r#"{"tenantId":"t"}"#),
            Err(AzureJsonError::NoIdentity)
        ));
    }
}
