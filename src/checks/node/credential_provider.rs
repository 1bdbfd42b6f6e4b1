//! `node.credential_provider`: whether the kubelet asks a credential
//! provider for the registry's images at all: its flags, the provider
//! configuration they name, a `matchImages` pattern that covers the login
//! server, and the provider's binary.

use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::{CheckId, CheckResult};
use crate::codes::ErrorCode;
use crate::node::host_root::HostRoot;
use crate::node::kubelet::{KubeletFlags, Provider, ProviderConfig, FLAGS_PATH};
use crate::untrusted::Untrusted;

/// The `node.credential_provider` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "node.credential_provider",
    title: "Kubelet credential provider",
    proves: "With --kubelet: the kubelet's flags name an image credential provider \
        configuration, one of its providers' matchImages covers the login server (the kubelet's \
        glob rules), and the provider's binary is in the kubelet's provider folder.",
    warnings: &[
        warning(
            "the kubelet uses the in-tree Azure credential path \
                (--azure-container-registry-config, Kubernetes before 1.30)",
            "this check covers the out-of-tree provider only; upgrade the node pool",
        ),
        warning(
            "the provider has tokenAttributes (service-account tokens for image pulls)",
            "pods pull with their own service account's workload identity, which this check \
                does not cover",
        ),
    ],
    codes: &[ErrorCode::KubeletCredentialError],
    planned: Planned::OnNode,
};

pub(crate) fn check(host: &HostRoot, login_server: &str) -> CheckResult {
    let id = CheckId::NodeCredentialProvider;
    let fail = |why: String| CheckResult::fail(id, ErrorCode::KubeletCredentialError, why);
    let flags = match host.read(FLAGS_PATH) {
        Ok(text) => KubeletFlags::parse(&text),
        Err(e) => return fail(format!("The kubelet's flags cannot be read: {e}.")),
    };
    let Some(config_path) = flags.provider_config.as_deref() else {
        return match &flags.in_tree_config {
            Some(path) => CheckResult::warn(
                id,
                format!(
                    "The kubelet uses the in-tree Azure credential path \
                    (--azure-container-registry-config={}): not covered by this check, which \
                    follows the out-of-tree credential provider of Kubernetes 1.30 and later.",
                    Untrusted::new(path)
                ),
            ),
            None => fail(format!(
                "The kubelet's flags ({}) have no --image-credential-provider-config: the \
                kubelet asks no one for a credential, and pulls from {login_server} anonymously.",
                host.shown(FLAGS_PATH)
            )),
        };
    };
    let config = match host.read(config_path).map(|t| ProviderConfig::parse(&t)) {
        Ok(Ok(config)) => config,
        Ok(Err(e)) => {
            return fail(format!(
                "{}: {}.",
                host.shown(config_path),
                Untrusted::new(&e)
            ))
        }
        Err(e) => return fail(format!("The credential provider configuration {e}.")),
    };
    let Some(provider) = config.provider_for(login_server) else {
        let patterns: Vec<String> = config
            .providers
            .iter()
            .flat_map(|p| p.match_images.iter().map(|m| Untrusted::new(m).shown()))
            .collect();
        return fail(format!(
            "No provider in {} covers {login_server}: its matchImages are {}. The kubelet pulls \
            from it without a credential (401 Unauthorized).",
            host.shown(config_path),
            if patterns.is_empty() {
                "empty".to_string()
            } else {
                patterns.join(", ")
            }
        ));
    };
    judge_provider(host, &flags, provider, login_server)
}

/// The provider the kubelet picks: its binary, and what it is run with.
fn judge_provider(
    host: &HostRoot,
    flags: &KubeletFlags,
    provider: &Provider,
    login_server: &str,
) -> CheckResult {
    let id = CheckId::NodeCredentialProvider;
    let name = Untrusted::new(&provider.name).shown();
    let Some(bin_dir) = flags.provider_bin_dir.as_deref() else {
        return CheckResult::fail(
            id,
            ErrorCode::KubeletCredentialError,
            "The kubelet's flags have no --image-credential-provider-bin-dir: it cannot run \
            the provider.",
        );
    };
    let binary = format!("{}/{}", bin_dir.trim_end_matches('/'), provider.name);
    if !host.resolve(&binary).is_ok_and(|p| is_executable(&p)) {
        return CheckResult::fail(
            id,
            ErrorCode::KubeletCredentialError,
            format!(
                "The credential provider '{name}' is not an executable file at {}.",
                host.shown(&binary)
            ),
        );
    }
    let pattern = provider
        .match_images
        .iter()
        .find(|m| crate::node::kubelet::matches_image(m, login_server))
        .map(|m| Untrusted::new(m).shown())
        .unwrap_or_default();
    let env: Vec<String> = provider
        .env
        .iter()
        .map(|e| Untrusted::new(&e.name).shown())
        .collect();
    let mut r = CheckResult::pass(
        id,
        format!("Credential provider '{name}' for {login_server} (matchImages {pattern}) : OK"),
    )
    .with_detail("provider", name.clone())
    .with_detail("binary", host.shown(&binary))
    .with_detail(
        "args",
        provider
            .args
            .iter()
            .map(|a| Untrusted::new(a).shown())
            .collect::<Vec<_>>(),
    )
    .with_detail("env", env)
    .with_detail("api_version", provider.api_version.clone());
    if provider.token_attributes.is_some() {
        r = r.warning_because(
            "the provider has tokenAttributes: pods pull with their own service account's \
            workload identity (a service account annotated for it is needed), not with the \
            kubelet identity this check follows",
        );
    }
    r
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    path.is_file()
}
