//! What the Azure CLI has configured: its cloud, its defaults (`az configure
//! --defaults acr=NAME`) and custom clouds. Read from
//! `$AZURE_CONFIG_DIR/config` and `clouds.config` (default `~/.azure`).

use crate::env::Env;
use crate::input_file;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// An INI file as az writes it: `[section]` then `key = value`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Ini {
    sections: HashMap<String, HashMap<String, String>>,
}

impl Ini {
    pub(crate) fn parse(text: &str) -> Ini {
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

    pub(crate) fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .get(section)?
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn section(&self, section: &str) -> Option<&HashMap<String, String>> {
        self.sections.get(section)
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct AzConfig {
    pub config: Ini,
    /// `.azure/config` files of the working folder and its parents, nearest
    /// first (`az config set --local`): az reads its defaults from them.
    pub local: Vec<Ini>,
    pub clouds: Ini,
    /// Every subscription az knows (azureProfile.json).
    pub subscriptions: Vec<ProfileSubscription>,
    /// `AZURE_<SECTION>_<KEY>` variables, which win over the files.
    pub overrides: BTreeMap<String, String>,
    /// The files of az's folder that could not be read, and why.
    pub unread: Vec<String>,
}

/// One subscription of az's profile.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileSubscription {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub tenant_id: String,
    /// The cloud it belongs to; az lists only the active cloud's
    /// subscriptions.
    #[serde(default, rename = "environmentName")]
    pub cloud: String,
    /// Who is logged in for it.
    #[serde(default)]
    pub user: Option<ProfileUser>,
}

/// The account of a subscription: a user's name or an app id, and its
/// kind (`user`, `servicePrincipal`).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Deserialize)]
pub(crate) struct ProfileUser {
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: String,
}

#[derive(serde::Deserialize)]
struct Profile {
    #[serde(default)]
    subscriptions: Vec<ProfileSubscription>,
}

impl ProfileSubscription {
    fn in_cloud(&self, cloud: &str) -> bool {
        self.cloud.is_empty() || self.cloud.eq_ignore_ascii_case(cloud)
    }
}

impl AzConfig {
    /// The CLI's configuration folder: `AZURE_CONFIG_DIR`, else `~/.azure`.
    pub(crate) fn dir(env: &Env) -> Option<PathBuf> {
        match env.path("AZURE_CONFIG_DIR") {
            Some(d) => Some(d),
            None => home_dir(env).map(|h| h.join(".azure")),
        }
    }

    /// Reads the configuration; missing files are simply empty, and so is
    /// content that cannot be parsed (az may be rewriting it). A path that
    /// is not a regular file, or is implausibly large, is an error.
    pub(crate) fn load(env: &Env) -> AzConfig {
        let overrides = az_variables(env);
        let Some(dir) = Self::dir(env) else {
            return AzConfig {
                overrides,
                ..AzConfig::default()
            };
        };
        // A file that cannot be read (root's, after `sudo az`) is left out,
        // as az's configparser leaves it out, and said.
        let unread = std::cell::RefCell::new(Vec::new());
        let read = |name: &str| {
            input_file::read_if_present(&dir.join(name)).unwrap_or_else(|e| {
                unread.borrow_mut().push(e.to_string());
                None
            })
        };
        let ini = |bytes: Option<Vec<u8>>| {
            bytes
                .map(|b| Ini::parse(&String::from_utf8_lossy(&b)))
                .unwrap_or_default()
        };
        let profile = read("azureProfile.json");
        let (config, clouds) = (ini(read("config")), ini(read("clouds.config")));
        AzConfig {
            config,
            local: local_configs(&dir, env.cwd())
                .into_iter()
                .map(|b| ini(Some(b)))
                .collect(),
            clouds,
            subscriptions: profile.as_deref().map(subscriptions).unwrap_or_default(),
            overrides,
            unread: unread.into_inner(),
        }
    }

    /// The setting `section.key` as az (knack) reads it: the variable
    /// `AZURE_<SECTION>_<KEY>` when it is set, even to nothing (which turns
    /// the setting off), else az's configuration file.
    pub(crate) fn setting(&self, section: &str, key: &str) -> Option<String> {
        match self.overrides.get(&env_name(section, key)) {
            Some(v) => Some(v.clone()).filter(|v| !v.trim().is_empty()),
            None => self.config.get(section, key).map(str::to_string),
        }
    }

    /// A boolean setting, read as configparser reads one (`true`, `yes`,
    /// `on`, `1`).
    pub(crate) fn flag(&self, section: &str, key: &str) -> bool {
        self.setting(section, key).is_some_and(|v| is_true(&v))
    }

    /// `az configure --defaults acr=NAME`: `AZURE_DEFAULTS_ACR`, else the
    /// nearest `.azure/config` of `az config set --local`, else az's own.
    pub(crate) fn default_registry(&self) -> Option<String> {
        if let Some(v) = self.overrides.get(&env_name("defaults", "acr")) {
            return Some(v.clone()).filter(|v| !v.trim().is_empty());
        }
        let local = self.local.iter().find_map(|ini| ini.get("defaults", "acr"));
        local
            .or_else(|| self.config.get("defaults", "acr"))
            .map(str::to_string)
    }

    /// The cloud az is set to (`az cloud set`, or `AZURE_CLOUD_NAME`).
    pub(crate) fn cloud_name(&self) -> Option<String> {
        self.setting("cloud", "name")
    }

    /// The subscription of `az account set` in `cloud`.
    pub(crate) fn default_subscription(&self, cloud: &str) -> Option<String> {
        self.subscription(None, cloud).map(|s| s.id.clone())
    }

    /// The subscription `wanted` (an id or a name), else the default one,
    /// among those az knows in `cloud`.
    pub(crate) fn subscription(
        &self,
        wanted: Option<&str>,
        cloud: &str,
    ) -> Option<&ProfileSubscription> {
        let mut in_cloud = self.subscriptions.iter().filter(|s| s.in_cloud(cloud));
        in_cloud.find(|s| match wanted {
            Some(w) => s.id.eq_ignore_ascii_case(w) || s.name.eq_ignore_ascii_case(w),
            None => s.is_default,
        })
    }

    /// `--subscription` as az takes it: an id, or the name of a
    /// subscription az knows in `cloud` (resolved from its profile, no
    /// network).
    pub(crate) fn subscription_id(
        &self,
        given: &str,
        cloud: &str,
    ) -> Result<String, UnknownSubscription> {
        let known = || self.subscriptions.iter().filter(|s| s.in_cloud(cloud));
        let by_id = known().find(|s| s.id.eq_ignore_ascii_case(given));
        let by_name = || {
            let named = known().find(|s| s.name == given);
            named.or_else(|| known().find(|s| s.name.eq_ignore_ascii_case(given)))
        };
        match by_id.or_else(by_name) {
            Some(s) => Ok(s.id.clone()),
            None if looks_like_id(given) => Ok(given.to_string()),
            None => Err(UnknownSubscription(given.to_string())),
        }
    }
}

fn env_name(section: &str, key: &str) -> String {
    format!(
        "AZURE_{}_{}",
        section.to_ascii_uppercase(),
        key.to_ascii_uppercase()
    )
}

/// az's reading of a boolean setting.
pub(crate) fn is_true(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// The `.azure/config` files from the working folder up to the root,
/// nearest first, stopping at az's own folder `dir` (as knack does).
fn local_configs(dir: &std::path::Path, cwd: Option<&std::path::Path>) -> Vec<Vec<u8>> {
    let Some(cwd) = cwd else {
        return Vec::new();
    };
    let name = dir.file_name().unwrap_or(std::ffi::OsStr::new(".azure"));
    let mut found = Vec::new();
    for folder in cwd.ancestors() {
        let candidate = folder.join(name);
        if candidate == dir {
            break;
        }
        if let Ok(Some(bytes)) = input_file::read_if_present(&candidate.join("config")) {
            found.push(bytes);
        }
    }
    found
}

/// Every subscription in az's azureProfile.json (which az writes with a
/// byte-order mark); nothing when az is rewriting it.
pub(crate) fn subscriptions(bytes: &[u8]) -> Vec<ProfileSubscription> {
    let text = String::from_utf8_lossy(bytes);
    serde_json::from_str::<Profile>(text.trim_start_matches('\u{feff}'))
        .map(|p| p.subscriptions)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| !s.id.is_empty())
        .collect()
}

/// `--subscription` names a subscription az does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--subscription: no subscription named '{0}' in az's profile (az account list shows them)")]
pub(crate) struct UnknownSubscription(pub String);

/// A subscription id: a GUID.
fn looks_like_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn home_dir(env: &Env) -> Option<PathBuf> {
    env.path(if cfg!(windows) { "USERPROFILE" } else { "HOME" })
}

/// The variables that override az's settings (`AZURE_<SECTION>_<KEY>`),
/// set even to nothing, as knack reads them.
fn az_variables(env: &Env) -> BTreeMap<String, String> {
    env.with_prefix("AZURE_")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_default_subscription_with_bom_in_the_active_cloud() {
        let profile = "\u{feff}{\"subscriptions\":[{\"id\":\"a\",\"isDefault\":false},{\"id\":\"b\",\"isDefault\":true,\"environmentName\":\"AzureCloud\"},{\"id\":\"c\",\"name\":\"China\",\"isDefault\":true,\"environmentName\":\"AzureChinaCloud\"}]}";
        let az = AzConfig {
            subscriptions: subscriptions(profile.as_bytes()),
            ..Default::default()
        };
        assert_eq!(az.default_subscription("AzureCloud").as_deref(), Some("b"));
        assert_eq!(
            az.default_subscription("AzureChinaCloud").as_deref(),
            Some("c")
        );
        assert_eq!(
            az.subscription_id("china", "AzureChinaCloud").as_deref(),
            Ok("c")
        );
        assert!(az.subscription_id("china", "AzureCloud").is_err());
        assert!(subscriptions(b"{}").is_empty());
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
