//! The kubelet's image credential path: its flags (`/etc/default/kubelet`,
//! `KUBELET_FLAGS`, as AKS writes them) and the credential provider
//! configuration they name, with the kubelet's rules for which images a
//! provider is asked about (`matchImages`).

use serde::Deserialize;

/// Where AKS writes the kubelet's flags.
pub(crate) const FLAGS_PATH: &str = "/etc/default/kubelet";

/// What the kubelet's flags say about image credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KubeletFlags {
    /// `--image-credential-provider-config`.
    pub provider_config: Option<String>,
    /// `--image-credential-provider-bin-dir`.
    pub provider_bin_dir: Option<String>,
    /// `--azure-container-registry-config`: the in-tree path of old nodes.
    pub in_tree_config: Option<String>,
}

impl KubeletFlags {
    /// The flags of an environment file's `KUBELET_FLAGS=` line.
    pub(crate) fn parse(file: &str) -> KubeletFlags {
        let line = file
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("KUBELET_FLAGS="))
            .unwrap_or_default()
            .trim_matches('"');
        let words: Vec<&str> = line.split_whitespace().collect();
        let value = |name: &str| {
            words.iter().enumerate().find_map(|(at, w)| {
                let w = w.strip_prefix("--")?;
                match w.split_once('=') {
                    Some((n, v)) if n == name => Some(v.to_string()),
                    None if w == name => words.get(at + 1).map(|v| v.to_string()),
                    _ => None,
                }
            })
        };
        KubeletFlags {
            provider_config: value("image-credential-provider-config"),
            provider_bin_dir: value("image-credential-provider-bin-dir"),
            in_tree_config: value("azure-container-registry-config"),
        }
    }
}

/// `CredentialProviderConfig` (kubelet.config.k8s.io/v1), in YAML or JSON.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ProviderConfig {
    #[serde(default)]
    pub providers: Vec<Provider>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Provider {
    pub name: String,
    #[serde(default)]
    pub match_images: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub api_version: Option<String>,
    /// Service-account tokens for image pulls (KEP-4412): pods then pull
    /// with their own identity.
    #[serde(default)]
    pub token_attributes: Option<serde_yaml_ng::Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct EnvVar {
    pub name: String,
    #[serde(default)]
    pub value: String,
}

impl ProviderConfig {
    pub(crate) fn parse(text: &str) -> Result<ProviderConfig, String> {
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
    }

    /// The first provider whose `matchImages` covers `image` (host and
    /// optional port and path), as the kubelet picks it.
    pub(crate) fn provider_for(&self, image: &str) -> Option<&Provider> {
        self.providers
            .iter()
            .find(|p| p.match_images.iter().any(|m| matches_image(m, image)))
    }
}

/// The kubelet's `URLsMatchStr`: the pattern's host and the image's have
/// as many dot-separated parts, each part matches as a glob (`*`, `?`), the
/// ports are the same (none in both, or the same one), and the pattern's
/// path is a prefix of the image's.
pub(crate) fn matches_image(pattern: &str, image: &str) -> bool {
    let (p_host, p_path) = split_reference(pattern);
    let (i_host, i_path) = split_reference(image);
    let (p_name, p_port) = split_port(p_host);
    let (i_name, i_port) = split_port(i_host);
    if p_port != i_port {
        return false;
    }
    let p_parts: Vec<&str> = p_name.split('.').collect();
    let i_parts: Vec<&str> = i_name.split('.').collect();
    p_parts.len() == i_parts.len()
        && p_parts
            .iter()
            .zip(&i_parts)
            .all(|(p, i)| glob(&p.to_ascii_lowercase(), &i.to_ascii_lowercase()))
        && i_path.starts_with(p_path)
}

fn split_reference(s: &str) -> (&str, &str) {
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    match s.find('/') {
        Some(at) => (&s[..at], &s[at..]),
        None => (s, ""),
    }
}

fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, Some(p)),
        _ => (host, None),
    }
}

/// Go's `filepath.Match` for one host part: `*` any run, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_match_as_the_kubelet_matches_them() {
        assert!(matches_image("*.azurecr.io", "myregistry.azurecr.io"));
        assert!(matches_image(
            "*.azurecr.io",
            "myregistry.azurecr.io/app:v1"
        ));
        // One label per `*`: a deeper name does not match.
        assert!(!matches_image("*.azurecr.io", "a.b.azurecr.io"));
        assert!(!matches_image("*.azurecr.io", "myregistry.azurecr.cn"));
        assert!(matches_image("*.*.io", "myregistry.azurecr.io"));
        assert!(matches_image("my*.azurecr.io", "myregistry.azurecr.io"));
        assert!(!matches_image("*.azurecr.io:5000", "myregistry.azurecr.io"));
        // The ports must be the same both ways.
        assert!(!matches_image("*.azurecr.io", "myregistry.azurecr.io:5000"));
        assert!(matches_image(
            "*.azurecr.io:5000",
            "myregistry.azurecr.io:5000"
        ));
        assert!(matches_image(
            "myregistry.azurecr.io/team",
            "myregistry.azurecr.io/team/app"
        ));
        assert!(!matches_image(
            "myregistry.azurecr.io/team",
            "myregistry.azurecr.io/other"
        ));
    }

    #[test]
    fn the_flags_and_the_config_are_read_as_aks_writes_them() {
        let flags = KubeletFlags::parse(
            "KUBELET_FLAGS=--address=0.0.0.0 --image-credential-provider-bin-dir=/var/lib/kubelet/credential-provider --image-credential-provider-config /var/lib/kubelet/credential-provider-config.yaml\nKUBELET_NODE_LABELS=x\n",
        );
        assert_eq!(
            flags.provider_config.as_deref(),
            Some("/var/lib/kubelet/credential-provider-config.yaml")
        );
        assert_eq!(
            flags.provider_bin_dir.as_deref(),
            Some("/var/lib/kubelet/credential-provider")
        );
        let config = ProviderConfig::parse(
            "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: acr-credential-provider\n    matchImages:\n      - \"*.azurecr.io\"\n    defaultCacheDuration: \"10m\"\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    args:\n      - /etc/kubernetes/azure.json\n",
        )
        .unwrap();
        let p = config.provider_for("myregistry.azurecr.io").unwrap();
        assert_eq!(p.name, "acr-credential-provider");
        assert_eq!(p.args, ["/etc/kubernetes/azure.json"]);
        assert!(config.provider_for("myregistry.azurecr.cn").is_none());
    }
}
