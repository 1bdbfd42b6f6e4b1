//! `node.region`: the region that serves the registry to this node (read
//! from the login server's DNS chain, as `az aks check-acr` reads it)
//! against the node's own (`azure.json`'s `location`). Resource Manager,
//! which knows the registry's regions, is usually closed to the kubelet
//! identity.

use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::{CheckId, CheckResult};
use crate::untrusted::Untrusted;

/// The `node.region` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "node.region",
    title: "Registry region",
    proves: "With --kubelet: the registry is served to this node from the node's own region \
        (azure.json's location), by the region the login server's DNS chain names.",
    warnings: &[warning(
        "the DNS chain names another region than the node's",
        "every pull crosses regions (egress charges, slower pulls): add a geo-replica in the \
            node's region (Premium), or move the registry",
    )],
    codes: &[],
    planned: Planned::OnNode,
};

/// Azure's region names, as `location` and the registry's DNS names spell
/// them.
const REGIONS: &[&str] = &[
    "eastus",
    "eastus2",
    "westus",
    "westus2",
    "westus3",
    "centralus",
    "northcentralus",
    "southcentralus",
    "westcentralus",
    "canadacentral",
    "canadaeast",
    "brazilsouth",
    "brazilsoutheast",
    "mexicocentral",
    "northeurope",
    "westeurope",
    "uksouth",
    "ukwest",
    "francecentral",
    "francesouth",
    "germanywestcentral",
    "germanynorth",
    "norwayeast",
    "norwaywest",
    "switzerlandnorth",
    "switzerlandwest",
    "swedencentral",
    "polandcentral",
    "italynorth",
    "spaincentral",
    "austriaeast",
    "belgiumcentral",
    "denmarkeast",
    "uaenorth",
    "uaecentral",
    "qatarcentral",
    "israelcentral",
    "southafricanorth",
    "southafricawest",
    "centralindia",
    "southindia",
    "westindia",
    "japaneast",
    "japanwest",
    "koreacentral",
    "koreasouth",
    "eastasia",
    "southeastasia",
    "australiaeast",
    "australiasoutheast",
    "australiacentral",
    "australiacentral2",
    "newzealandnorth",
    "indonesiacentral",
    "malaysiawest",
    "chinaeast",
    "chinaeast2",
    "chinaeast3",
    "chinanorth",
    "chinanorth2",
    "chinanorth3",
    "usgovvirginia",
    "usgovarizona",
    "usgovtexas",
];

/// The first region a name of the chain (which leaves out the login server
/// itself) spells out as one of its parts, past the registry's privatelink
/// name (a registry may be named after a region).
fn region_of(cname_chain: &[String]) -> Option<&'static str> {
    let mut past_the_registry = cname_chain
        .iter()
        .filter(|n| !n.to_ascii_lowercase().contains(".privatelink."));
    past_the_registry.find_map(|name| {
        name.to_ascii_lowercase()
            .split(['.', '-'])
            .find_map(|part| REGIONS.iter().find(|r| **r == part).copied())
    })
}

pub(crate) fn check(location: Option<&str>, cname_chain: &[String]) -> CheckResult {
    let id = CheckId::NodeRegion;
    let Some(node) = location.map(|l| l.to_ascii_lowercase().replace(' ', "")) else {
        return CheckResult::skip(id, "azure.json names no location for the node");
    };
    let Some(serving) = region_of(cname_chain) else {
        return CheckResult::skip(id, "the login server's DNS chain names no region");
    };
    let node_shown = Untrusted::new(&node).shown();
    let r = if serving == node {
        CheckResult::pass(
            id,
            format!("Registry served from {serving}, the node's region : OK"),
        )
    } else {
        CheckResult::warn(
            id,
            format!(
                "The registry is served to this node from {serving} (by its DNS chain), and the \
                node is in {node_shown}: every pull crosses regions, with egress charges and \
                slower pulls. A geo-replica in {node_shown} (Premium) would serve it locally."
            ),
        )
    };
    r.with_detail("serving_region", serving)
        .with_detail("node_region", node_shown)
}

#[cfg(test)]
mod tests {
    use super::region_of;

    #[test]
    fn the_region_is_a_whole_part_of_a_name_past_the_registry() {
        let chain = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            region_of(&chain(&[
                "westeurope.privatelink.azurecr.io",
                "eastus2-acr-reg.trafficmanager.net"
            ])),
            Some("eastus2")
        );
        assert_eq!(
            region_of(&chain(&["r0217eus.westeurope.cloudapp.azure.com"])),
            Some("westeurope")
        );
        assert_eq!(region_of(&chain(&["northeastusfoo.example"])), None);
        // A registry named after a region, behind a private endpoint.
        assert_eq!(
            region_of(&chain(&["westeurope.privatelink.azurecr.io"])),
            None
        );
    }
}
