//! The Resource Manager documents the checks read, as typed structs: the
//! registry, a user-assigned identity, a private endpoint and its network
//! interface. Fields the checks do not use are ignored; a field they need
//! that is missing or of another shape is an error that names it.

use serde::Deserialize;

/// A page of the subscription's registry list. Each entry is read on its
/// own, so that one odd registry does not hide the others.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Page {
    #[serde(default)]
    pub value: Vec<serde_json::Value>,
    #[serde(default)]
    pub next_link: Option<String>,
}

/// The registry resource as Resource Manager returns it.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Registry {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub identity: Option<RegistryIdentity>,
    #[serde(default)]
    pub properties: RegistryProperties,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegistryProperties {
    pub login_server: Option<String>,
    pub public_network_access: Option<String>,
    pub network_rule_set: Option<NetworkRuleSet>,
    pub data_endpoint_enabled: Option<bool>,
    #[serde(default)]
    pub data_endpoint_host_names: Vec<String>,
    /// `Enabled` when each replica also answers at `<name>.<region>.geo.azurecr.io`.
    pub regional_endpoints: Option<String>,
    #[serde(default)]
    pub regional_endpoint_host_names: Vec<String>,
    #[serde(default)]
    pub private_endpoint_connections: Vec<PrivateEndpointConnection>,
    pub encryption: Option<Encryption>,
    pub role_assignment_mode: Option<String>,
    pub policies: Option<Policies>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Policies {
    #[serde(rename = "azureADAuthenticationAsArmPolicy")]
    pub aad_as_arm: Option<PolicyStatus>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct PolicyStatus {
    pub status: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NetworkRuleSet {
    pub default_action: Option<String>,
    #[serde(default)]
    pub ip_rules: Vec<IpRule>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct IpRule {
    pub value: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PrivateEndpointConnection {
    #[serde(default)]
    pub properties: Option<ConnectionProperties>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConnectionProperties {
    pub private_endpoint: Option<ResourceRef>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ResourceRef {
    pub id: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Encryption {
    pub status: Option<String>,
    pub key_vault_properties: Option<KeyVaultProperties>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct KeyVaultProperties {
    pub identity: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegistryIdentity {
    pub principal_id: Option<String>,
    #[serde(default)]
    pub user_assigned_identities: std::collections::BTreeMap<String, UserAssigned>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserAssigned {
    pub client_id: Option<String>,
}

/// The registry's geo-replications (`{registry id}/replications`).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Replications {
    #[serde(default)]
    pub value: Vec<Replication>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Replication {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub properties: ReplicationProperties,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReplicationProperties {
    pub provisioning_state: Option<String>,
    pub status: Option<ReplicationStatus>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReplicationStatus {
    pub display_status: Option<String>,
    pub message: Option<String>,
}

/// A user-assigned identity resource (`Microsoft.ManagedIdentity`).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct IdentityResource {
    pub properties: IdentityProperties,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IdentityProperties {
    pub client_id: String,
}

/// A private endpoint: its subnet and network interfaces.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PrivateEndpoint {
    pub properties: PrivateEndpointProperties,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrivateEndpointProperties {
    pub subnet: ResourceRef,
    #[serde(default)]
    pub network_interfaces: Vec<ResourceRef>,
}

/// A network interface: the private address and the names each of its IP
/// configurations serves.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct NetworkInterface {
    pub properties: NicProperties,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NicProperties {
    #[serde(default)]
    pub ip_configurations: Vec<IpConfiguration>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct IpConfiguration {
    pub properties: IpConfigurationProperties,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IpConfigurationProperties {
    #[serde(rename = "privateIPAddress")]
    pub private_ip_address: Option<String>,
    pub private_link_connection_properties: Option<LinkProperties>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct LinkProperties {
    #[serde(default)]
    pub fqdns: Vec<String>,
}

impl Registry {
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn login_server(&self) -> Option<&str> {
        self.properties
            .login_server
            .as_deref()
            .filter(|s| !s.is_empty())
    }

    pub(crate) fn public_network_access(&self) -> Option<&str> {
        self.properties.public_network_access.as_deref()
    }

    pub(crate) fn default_action(&self) -> Option<&str> {
        self.properties
            .network_rule_set
            .as_ref()?
            .default_action
            .as_deref()
    }

    pub(crate) fn ip_rules(&self) -> Vec<String> {
        let rules = self.properties.network_rule_set.iter();
        rules
            .flat_map(|n| n.ip_rules.iter().map(|r| r.value.clone()))
            .collect()
    }

    /// The regional login servers, when regional endpoints are enabled.
    pub(crate) fn regional_endpoints(&self) -> Vec<String> {
        let enabled = self
            .properties
            .regional_endpoints
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("enabled"));
        if !enabled {
            return Vec::new();
        }
        self.properties.regional_endpoint_host_names.clone()
    }

    pub(crate) fn data_endpoints(&self) -> Vec<String> {
        if self.properties.data_endpoint_enabled != Some(true) {
            return Vec::new();
        }
        self.properties.data_endpoint_host_names.clone()
    }

    pub(crate) fn has_private_endpoints(&self) -> bool {
        !self.properties.private_endpoint_connections.is_empty()
    }

    /// The private endpoints' resource ids.
    pub(crate) fn private_endpoint_ids(&self) -> Vec<String> {
        let connections = self.properties.private_endpoint_connections.iter();
        connections
            .filter_map(|c| Some(c.properties.as_ref()?.private_endpoint.as_ref()?.id.clone()))
            .collect()
    }

    /// `encryption.keyVaultProperties.identity` when a customer-managed key is used.
    pub(crate) fn cmk_identity(&self) -> Option<&str> {
        let enc = self.properties.encryption.as_ref()?;
        let enabled = enc
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("enabled"));
        enc.key_vault_properties
            .as_ref()?
            .identity
            .as_deref()
            .filter(|id| enabled && !id.is_empty())
    }

    pub(crate) fn system_principal(&self) -> Option<&str> {
        self.identity
            .as_ref()?
            .principal_id
            .as_deref()
            .filter(|s| !s.is_empty())
    }

    /// The user-assigned identity (resource id) whose client id is `client_id`.
    pub(crate) fn user_identity_with_client(&self, client_id: &str) -> Option<String> {
        let identities = &self.identity.as_ref()?.user_assigned_identities;
        identities
            .iter()
            .find(|(_, v)| {
                v.client_id
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(client_id))
            })
            .map(|(k, _)| k.clone())
    }

    /// The registry refuses Resource Manager–audience Azure AD tokens in the
    /// exchange (`policies.azureADAuthenticationAsArmPolicy` disabled).
    pub(crate) fn refuses_arm_audience(&self) -> bool {
        let policy = self
            .properties
            .policies
            .as_ref()
            .and_then(|p| p.aad_as_arm.as_ref());
        policy
            .and_then(|p| p.status.as_deref())
            .is_some_and(|s| s.eq_ignore_ascii_case("disabled"))
    }

    pub(crate) fn role_assignment_mode(&self) -> Option<&str> {
        self.properties.role_assignment_mode.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_registry_and_ignores_what_it_does_not_use() {
        let doc = serde_json::json!({
            "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r",
            "name": "r", "location": "eastus", "sku": {"name": "Premium"},
            "properties": {
                "loginServer": "r.azurecr.io",
                "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "1.2.3.4"}]},
                "dataEndpointEnabled": true, "dataEndpointHostNames": ["r.eastus.data.azurecr.io"],
                "privateEndpointConnections": [{"properties": {"privateEndpoint": {"id": "/pe/1"}}}],
                "encryption": {"status": "enabled", "keyVaultProperties": {"identity": "c-1"}},
                "somethingNew": {"nested": [1, 2]}
            },
            "identity": {"principalId": "p", "userAssignedIdentities": {"/uai/1": {"clientId": "C-1"}}}
        });
        let r: Registry = serde_json::from_value(doc).unwrap();
        assert_eq!(r.login_server(), Some("r.azurecr.io"));
        assert_eq!(r.default_action(), Some("Deny"));
        assert_eq!(r.ip_rules(), ["1.2.3.4"]);
        assert_eq!(r.data_endpoints(), ["r.eastus.data.azurecr.io"]);
        assert_eq!(r.private_endpoint_ids(), ["/pe/1"]);
        assert_eq!(r.cmk_identity(), Some("c-1"));
        assert_eq!(
            r.user_identity_with_client("c-1").as_deref(),
            Some("/uai/1")
        );
    }

    #[test]
    fn a_needed_field_of_another_shape_is_named() {
        let err = serde_json::from_value::<Registry>(
            serde_json::json!({"properties": {"loginServer": 7}}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        let err = serde_json::from_value::<IdentityResource>(serde_json::json!({"properties": {}}))
            .unwrap_err();
        assert!(err.to_string().contains("clientId"), "{err}");
    }
}
