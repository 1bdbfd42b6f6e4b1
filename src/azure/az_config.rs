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
        Ok(AzConfig {
            config: ini(read("config")?),
            clouds: ini(read("clouds.config")?),
            default_subscription: read("azureProfile.json")?
                .and_then(|bytes| default_subscription(&bytes)),
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
