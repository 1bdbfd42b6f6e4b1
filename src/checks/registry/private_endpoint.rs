//! `--vnet`: for each private endpoint of the registry in that virtual
//! network, every FQDN of its network interface must resolve to the private
//! IP address assigned to it, as `az acr check-health --vnet` verifies.

use super::arm::Found;
use crate::azure::arm::get_resource;
use crate::azure::documents::{NetworkInterface, PrivateEndpoint};
use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::net::dns::Resolver;
use serde_json::Value;

/// The `registry.private_endpoint` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.private_endpoint",
    title: "Private endpoint DNS",
    proves: "With --vnet: DNS routes each FQDN of the registry's private endpoint in that virtual \
        network to its private IP.",
    warnings: &[],
    codes: &[ErrorCode::ConnectivityDnsError],
    planned: Planned::WithVnet,
};

pub(crate) const NETWORK_API: &str = "2023-09-01";

/// Whether `subnet_id` lies in the virtual network named or identified by `vnet`.
fn in_vnet(subnet_id: &str, vnet: &str) -> bool {
    let subnet = subnet_id.to_ascii_lowercase();
    let vnet = vnet.trim_end_matches('/').to_ascii_lowercase();
    if vnet.starts_with("/subscriptions/") {
        subnet.starts_with(&format!("{vnet}/subnets/"))
    } else {
        subnet.contains(&format!("/virtualnetworks/{vnet}/subnets/"))
    }
}

/// Reads the network resource `id`; it must exist.
async fn read<T: serde::de::DeserializeOwned>(found: &Found, id: &str) -> Result<T, String> {
    get_resource(
        &found.client,
        &found.token,
        &found.endpoint,
        id,
        NETWORK_API,
    )
    .await
    .map_err(|e| e.to_string())?
    .ok_or_else(|| format!("{} does not exist", crate::untrusted::inline(id)))
}

/// (FQDN, private IP) pairs of the private endpoints in `vnet`.
async fn mappings(found: &Found, vnet: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for pe_id in found.registry.private_endpoint_ids() {
        let pe: PrivateEndpoint = read(found, &pe_id).await?;
        if !in_vnet(&pe.properties.subnet.id, vnet) {
            continue;
        }
        for nic in &pe.properties.network_interfaces {
            let nic: NetworkInterface = read(found, &nic.id).await?;
            for config in nic.properties.ip_configurations {
                let props = config.properties;
                let Some(ip) = props.private_ip_address else {
                    continue;
                };
                let fqdns = props
                    .private_link_connection_properties
                    .unwrap_or_default()
                    .fqdns;
                out.extend(fqdns.into_iter().map(|f| (f, ip.clone())));
            }
        }
    }
    Ok(out)
}

pub(crate) async fn check(found: &Found, vnet: &str, resolver: &Resolver) -> CheckResult {
    let id = CheckId::RegistryPrivateEndpoint;
    let pairs = match mappings(found, vnet).await {
        Ok(p) => p,
        Err(why) => {
            return CheckResult::warn(id, format!("Private endpoints could not be read: {why}"))
        }
    };
    // az's sentences, word for word, with the name each is about added.
    let registry = crate::untrusted::inline(&found.registry.name).shown();
    if found.registry.private_endpoint_ids().is_empty() {
        return CheckResult::fail(
            id,
            ErrorCode::ConnectivityDnsError,
            format!(
                "Registry \"{registry}\" doesn't have private endpoints to verify DNS routings."
            ),
        );
    }
    let mut fqdns: Vec<&str> = pairs.iter().map(|(f, _)| f.as_str()).collect();
    fqdns.sort_unstable();
    if fqdns.windows(2).any(|w| w[0].eq_ignore_ascii_case(w[1])) {
        return CheckResult::fail(
            id,
            ErrorCode::ConnectivityDnsError,
            format!(
                "Registry \"{registry}\" has more than one private endpoint in the vnet of \
                \"{vnet}\". DNS routing will be unreliable"
            ),
        );
    }
    if pairs.is_empty() {
        return CheckResult::fail(
            id,
            ErrorCode::ConnectivityDnsError,
            format!(
                "Registry \"{registry}\" doesn't have private endpoints in the vnet of \
                \"{vnet}\". Please make sure you provided correct vnet"
            ),
        );
    }
    let mut wrong = Vec::new();
    for (fqdn, ip) in &pairs {
        match resolver.resolve(fqdn).await {
            Ok(a) if a.addresses.iter().any(|x| x.to_string() == *ip) => {}
            Ok(a) => {
                wrong.push(format!(
                "DNS routing to registry \"{registry}\" through private IP is incorrect. Expect: \
                    {ip}, Actual: {} (for {fqdn})",
                a.addresses.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
            ))
            }
            Err(e) => wrong.push(format!(
                "Error resolving DNS for {fqdn}. Ex: {e} (its private IP \
                is {ip})"
            )),
        }
    }
    if !wrong.is_empty() {
        wrong.push("DNS routing verification failed".into());
    }
    let details: Vec<Value> = pairs
        .iter()
        .map(|(f, ip)| serde_json::json!({"fqdn": f, "private_ip": ip}))
        .collect();
    if wrong.is_empty() {
        CheckResult::pass(id, "DNS routing to private endpoint : OK")
    } else {
        CheckResult::fail(id, ErrorCode::ConnectivityDnsError, wrong.join("\n"))
    }
    .with_detail("mappings", details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_in_vnet_by_name_or_id() {
        let subnet = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default";
        assert!(in_vnet(subnet, "vnet1"));
        assert!(in_vnet(
            subnet,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet1"
        ));
        assert!(!in_vnet(subnet, "vnet"));
        assert!(!in_vnet(
            subnet,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"
        ));
    }
}
