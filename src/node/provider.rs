//! Running the node's image credential provider as the kubelet runs it: a
//! `CredentialProviderRequest` on standard input, the configuration's
//! arguments (node paths, read under the host root) and environment, a
//! `CredentialProviderResponse` on standard output; and the kubelet's
//! choice among the response's `auth` entries.

use super::host_root::HostRoot;
use super::kubelet::{matches_image, Provider};
use crate::process::{self, RunError};
use crate::secret::Secret;
use crate::untrusted::Untrusted;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What the provider answered for an image.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The entry the kubelet would use: its key, user and password.
    pub chosen: Option<(String, String, Secret)>,
    /// Every key of `auth`, as answered (shown as untrusted text).
    pub keys: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ProviderError {
    #[error("{0}")]
    Run(RunError),
    #[error("exited with {status}: {said}")]
    Failed { status: String, said: String },
    #[error("its answer is not a CredentialProviderResponse: {0}")]
    Answer(String),
}

#[derive(Deserialize)]
struct Response {
    kind: Option<String>,
    #[serde(default)]
    auth: BTreeMap<String, AuthConfig>,
}

#[derive(Deserialize)]
struct AuthConfig {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// Runs `provider` (its binary in `bin_dir`, both node paths) for `image`,
/// within `timeout`.
pub(crate) async fn run(
    host: &HostRoot,
    (bin_dir, provider): (&str, &Provider),
    image: &str,
    timeout: Duration,
) -> Result<Answer, ProviderError> {
    // As the kubelet: a provider's name is a file name, nothing more.
    let name = provider.name.as_str();
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(ProviderError::Answer(format!(
            "its name {} is not a file name (the kubelet refuses it)",
            Untrusted::new(name)
        )));
    }
    let binary = host
        .resolve(&format!(
            "{}/{}",
            bin_dir.trim_end_matches('/'),
            provider.name
        ))
        .map_err(|e| ProviderError::Answer(e.to_string()))?;
    // The provider reads /etc/kubernetes/azure.json: the node's, here.
    let args: Vec<String> = provider
        .args
        .iter()
        .map(|a| match a.starts_with('/') {
            true => host
                .resolve(a)
                .map_or_else(|_| a.clone(), |p| p.display().to_string()),
            false => a.clone(),
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The kubelet's own environment is not known here: a plain PATH and
    // the configuration's variables, none of this process's.
    let path = (
        "PATH".to_string(),
        "/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
    );
    let env: Vec<(String, String)> = std::iter::once(path)
        .chain(
            provider
                .env
                .iter()
                .map(|e| (e.name.clone(), e.value.clone())),
        )
        .collect();
    let api_version =
        (provider.api_version.as_deref()).unwrap_or("credentialprovider.kubelet.k8s.io/v1");
    let request = serde_json::json!({
        "apiVersion": api_version,
        "kind": "CredentialProviderRequest",
        "image": image,
    })
    .to_string();
    let out = process::run_with_env(&binary, (&args, &env), Some(request.as_bytes()), timeout)
        .await
        .map_err(ProviderError::Run)?;
    if !out.success {
        return Err(ProviderError::Failed {
            status: out.status.to_string(),
            said: process::tool_said(&binary, &out.stderr),
        });
    }
    read(&out.stdout, image)
}

/// The response, and the entry the kubelet would use for `image`.
fn read(stdout: &str, image: &str) -> Result<Answer, ProviderError> {
    // serde's message quotes the values it met, a password among them:
    // only where and what kind of error is said.
    let response: Response = serde_json::from_str(stdout.trim()).map_err(|e| {
        ProviderError::Answer(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    if response.kind.as_deref() != Some("CredentialProviderResponse") {
        return Err(ProviderError::Answer(format!(
            "kind is {}",
            Untrusted::new(response.kind.unwrap_or_default())
        )));
    }
    for c in response.auth.values() {
        crate::secret::remember(&c.password);
    }
    let keys = response
        .auth
        .keys()
        .map(|k| Untrusted::new(k).shown())
        .collect();
    Ok(Answer {
        chosen: choose(response.auth, image),
        keys,
    })
}

/// As the kubelet's keyring: the entries whose key matches the image (the
/// `matchImages` rules), the most specific (longest) key first; an entry
/// with no user and password (the provider's anonymous `*.azurecr.*`
/// entry) is no credential.
fn choose(auth: BTreeMap<String, AuthConfig>, image: &str) -> Option<(String, String, Secret)> {
    let mut matching: Vec<(String, AuthConfig)> = auth
        .into_iter()
        .filter(|(key, _)| matches_image(key, image))
        .collect();
    matching.sort_by_key(|(key, _)| std::cmp::Reverse(key.len()));
    matching
        .into_iter()
        .find(|(_, c)| !c.username.is_empty() || !c.password.is_empty())
        .map(|(key, c)| {
            (
                Untrusted::new(key).shown(),
                c.username,
                Secret::new(c.password),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::read;

    #[test]
    fn the_specific_entry_is_chosen_and_the_anonymous_one_is_no_credential() {
        let response = r#"{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"10m0s","auth":{"*.azurecr.io":{"username":"","password":""},"myregistry.azurecr.io":{"username":"00000000-0000-0000-0000-000000000000","password":"refresh-token-value"}}}"#;
        let answer = read(response, "myregistry.azurecr.io/app:v1").unwrap();
        let (key, user, _) = answer.chosen.unwrap();
        assert_eq!(key, "myregistry.azurecr.io");
        assert_eq!(user, "00000000-0000-0000-0000-000000000000");
        let anonymous_only = r#"{"kind":"CredentialProviderResponse","auth":{"*.azurecr.io":{"username":"","password":""}}}"#;
        assert!(read(anonymous_only, "other.azurecr.io/app")
            .unwrap()
            .chosen
            .is_none());
        assert!(read("{}", "x").is_err());
    }
}
