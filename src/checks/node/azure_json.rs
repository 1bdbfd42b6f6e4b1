//! `node.azure_json`: the node's cloud provider configuration, which the
//! kubelet's credential provider takes as its argument.

use crate::check_spec::{CheckSpec, Planned};
use crate::checks::{CheckId, CheckResult};
use crate::codes::ErrorCode;
use crate::node::azure_json::{AzureJson, KubeletIdentity, PATH};
use crate::node::host_root::HostRoot;
use crate::untrusted::Untrusted;

/// The `node.azure_json` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "node.azure_json",
    title: "Node cloud configuration",
    proves: "With --kubelet: the node's /etc/kubernetes/azure.json can be read and names a \
        tenant and the identity the kubelet pulls with (a managed identity by client id or \
        resource id, or a service principal).",
    warnings: &[],
    codes: &[ErrorCode::KubeletCredentialError],
    planned: Planned::OnNode,
};

/// The configuration, or why there is none.
pub(crate) fn check(host: &HostRoot) -> (CheckResult, Option<AzureJson>) {
    let id = CheckId::NodeAzureJson;
    let shown = host.shown(PATH);
    let fail = |why: String| CheckResult::fail(id, ErrorCode::KubeletCredentialError, why);
    let text = match host.read(PATH) {
        Ok(text) => text,
        Err(e) => {
            return (
                fail(format!(
                    "{e}: the credential provider cannot run without it."
                )),
                None,
            )
        }
    };
    match AzureJson::parse(&text) {
        Ok(config) => {
            let line = format!(
                "Node cloud configuration {shown} : OK ({})",
                describe(&config)
            );
            let r = CheckResult::pass(id, line)
                .with_detail("file", shown)
                .with_detail("tenant", Untrusted::new(&config.tenant).shown())
                .with_detail("location", config.location.clone())
                .with_detail("identity", identity(&config.identity));
            (r, Some(config))
        }
        Err(e) => (fail(format!("{shown}: {e}.")), None),
    }
}

fn describe(config: &AzureJson) -> String {
    let mut parts = vec![
        format!("tenant {}", Untrusted::new(&config.tenant)),
        identity(&config.identity),
    ];
    if let Some(location) = &config.location {
        parts.push(format!("location {}", Untrusted::new(location)));
    }
    parts.join(", ")
}

/// The kubelet's identity as the report names it.
pub(crate) fn identity(identity: &KubeletIdentity) -> String {
    match identity {
        KubeletIdentity::Managed(Some(named)) => {
            format!("managed identity {}", Untrusted::new(named.describe()))
        }
        KubeletIdentity::Managed(None) => "system-assigned managed identity".to_string(),
        KubeletIdentity::ServicePrincipal { client_id, .. } => {
            format!("service principal {}", Untrusted::new(client_id))
        }
    }
}
