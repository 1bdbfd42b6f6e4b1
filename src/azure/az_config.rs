//! What the Azure CLI has configured: its cloud, its defaults (`az configure
//! --defaults acr=NAME`) and custom clouds. Read from
//! `$AZURE_CONFIG_DIR/config` and `clouds.config` (default `~/.azure`).

use crate::input_file::{self, InputError};
use std::collections::HashMap;
use std::path::PathBuf;

/// An INI file as az writes it: `[section]` then `key = value`.
#[derive(Debug, Default, Clone)]
pub struct Ini {
    sections: HashMap<String, HashMap<String, String>>,
}

impl Ini {
    pub fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        let mut section = String::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_string();
                continue;
            }
            if let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) {
                ini.sections
                    .entry(section.clone())
                    .or_default()
                    .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        ini
    }

    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .get(section)?
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn section(&self, section: &str) -> Option<&HashMap<String, String>> {
        self.sections.get(section)
    }
}

#[derive(Debug, Default, Clone)]
pub struct AzConfig {
    pub config: Ini,
    pub clouds: Ini,
    /// The default subscription of `az account set` (azureProfile.json).
    pub default_subscription: Option<String>,
    /// Every subscription az knows: (id, name).
    pub subscriptions: Vec<(String, String)>,
}

impl AzConfig {
    /// The CLI's configuration folder: `AZURE_CONFIG_DIR`, else `~/.azure`.
    pub fn dir() -> Option<PathBuf> {
        match std::env::var_os("AZURE_CONFIG_DIR").filter(|v| !v.is_empty()) {
            Some(d) => Some(PathBuf::from(d)),
            None => home_dir().map(|h| h.join(".azure")),
        }
    }

    /// Reads the configuration; missing files are simply empty, and so is
    /// content that cannot be parsed (az may be rewriting it). A path that
    /// is not a regular file, or is implausibly large, is an error.
    pub fn load() -> Result<AzConfig, InputError> {
        let Some(dir) = Self::dir() else {
            return Ok(AzConfig::default());
        };
        let read = |name: &str| input_file::read_if_present(&dir.join(name));
        let ini = |bytes: Option<Vec<u8>>| {
            bytes
                .map(|b| Ini::parse(&String::from_utf8_lossy(&b)))
                .unwrap_or_default()
        };
        let profile = read("azureProfile.json")?;
        Ok(AzConfig {
            config: ini(read("config")?),
            clouds: ini(read("clouds.config")?),
            default_subscription: profile.as_deref().and_then(default_subscription),
            subscriptions: profile.as_deref().map(subscriptions).unwrap_or_default(),
        })
    }

    /// `az configure --defaults acr=NAME`, or `AZURE_DEFAULTS_ACR`.
    pub fn default_registry(&self) -> Option<String> {
        std::env::var("AZURE_DEFAULTS_ACR")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| self.config.get("defaults", "acr").map(str::to_string))
    }

    /// The cloud az is set to (`az cloud set`).
    pub fn cloud_name(&self) -> Option<&str> {
        self.config.get("cloud", "name")
    }
}

/// The subscription marked `isDefault` in az's azureProfile.json (which az
/// writes with a byte-order mark).
fn default_subscription(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let doc: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    doc["subscriptions"]
        .as_array()?
        .iter()
        .find(|s| s["isDefault"].as_bool() == Some(true))?["id"]
        .as_str()
        .map(str::to_string)
}

/// Every (id, name) in az's azureProfile.json.
fn subscriptions(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'))
    else {
        return Vec::new();
    };
    doc["subscriptions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                s["id"].as_str()?.to_string(),
                s["name"].as_str().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

impl AzConfig {
    /// `--subscription` as az takes it: an id, or the name of a
    /// subscription az knows (resolved from its profile, no network).
    pub fn subscription_id(&self, given: &str) -> Result<String, UnknownSubscription> {
        let by_id = self
            .subscriptions
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(given));
        let by_name = || {
            let named = self.subscriptions.iter().find(|(_, name)| name == given);
            named.or_else(|| {
                self.subscriptions
                    .iter()
                    .find(|(_, n)| n.eq_ignore_ascii_case(given))
            })
        };
        match by_id.or_else(by_name) {
            Some((id, _)) => Ok(id.clone()),
            None if looks_like_id(given) => Ok(given.to_string()),
            None => Err(UnknownSubscription(given.to_string())),
        }
    }
}

/// `--subscription` names a subscription az does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--subscription: no subscription named '{0}' in az's profile (az account list shows them)")]
pub struct UnknownSubscription(pub String);

/// A subscription id: a GUID.
fn looks_like_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn home_dir() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_default_subscription_with_bom() {
        let profile = "\u{feff}{\"subscriptions\":[{\"id\":\"a\",\"isDefault\":false},{\"id\":\"b\",\"isDefault\":true}]}";
        assert_eq!(
            default_subscription(profile.as_bytes()).as_deref(),
            Some("b")
        );
        assert_eq!(default_subscription(b"{}"), None);
    }

    #[test]
    fn parses_az_config() {
        let ini =
            Ini::parse("[cloud]\nname = AzureChinaCloud\n\n[defaults]\nacr = myreg\ngroup=\n# c\n");
        assert_eq!(ini.get("cloud", "name"), Some("AzureChinaCloud"));
        assert_eq!(ini.get("defaults", "acr"), Some("myreg"));
        assert_eq!(ini.get("defaults", "group"), None);
        assert_eq!(ini.get("nope", "acr"), None);
    }
}
