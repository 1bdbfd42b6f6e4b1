//! Azure clouds: login server suffixes and endpoints.

use super::az_config::AzConfig;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cloud {
    pub name: String,
    /// Login server suffix, e.g. `.azurecr.io`; a custom cloud may lack one.
    pub acr_suffix: Option<String>,
    pub resource_manager: Option<String>,
    pub authority: Option<String>,
    /// The audience of az's Resource Manager tokens in this cloud
    /// (`active_directory_resource_id`); the token cache serves only tokens
    /// of this audience, so that a token of one cloud never goes to another.
    pub arm_audience: Option<String>,
}

impl Cloud {
    /// Whether `host` is a registry of this cloud (under its login server
    /// suffix); `None` when the cloud names no suffix.
    pub(crate) fn is_registry_host(&self, host: &str) -> Option<bool> {
        let suffix = self.acr_suffix.as_deref()?.trim_start_matches('.');
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        Some(host.ends_with(&format!(".{}", suffix.to_ascii_lowercase())))
    }
}

const BUILTIN: [(&str, &str, &str, &str, &str); 3] = [
    (
        "AzureCloud",
        ".azurecr.io",
        "https://management.azure.com",
        "https://login.microsoftonline.com",
        "https://management.core.windows.net/",
    ),
    (
        "AzureChinaCloud",
        ".azurecr.cn",
        "https://management.chinacloudapi.cn",
        "https://login.chinacloudapi.cn",
        "https://management.core.chinacloudapi.cn/",
    ),
    (
        "AzureUSGovernment",
        ".azurecr.us",
        "https://management.usgovcloudapi.net",
        "https://login.microsoftonline.us",
        "https://management.core.usgovcloudapi.net/",
    ),
];

/// `--cloud` (or az's configuration) names a cloud nobody defined.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown cloud '{name}' (one of: {known}, or a cloud registered with 'az cloud register')")]
pub(crate) struct UnknownCloud {
    pub name: String,
    pub known: String,
}

impl Cloud {
    pub(crate) fn builtin(name: &str) -> Option<Cloud> {
        BUILTIN
            .iter()
            .find(|(n, ..)| n.eq_ignore_ascii_case(name))
            .map(|(n, suffix, arm, aad, audience)| Cloud {
                name: n.to_string(),
                acr_suffix: Some(suffix.to_string()),
                resource_manager: Some(arm.to_string()),
                authority: Some(aad.to_string()),
                arm_audience: Some(audience.to_string()),
            })
    }

    pub(crate) fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(n, ..)| *n)
    }

    /// The built-in cloud whose login server suffix `host` ends with.
    pub(crate) fn owning_suffix(host: &str) -> Option<Cloud> {
        let host = host.to_ascii_lowercase();
        Cloud::builtin_names().filter_map(Cloud::builtin).find(|c| {
            c.acr_suffix
                .as_ref()
                .is_some_and(|s| host.ends_with(s.as_str()))
        })
    }

    /// A cloud registered with `az cloud register`, from clouds.config.
    fn custom(name: &str, az: &AzConfig) -> Option<Cloud> {
        let section = az.clouds.section(name)?;
        let get = |k: &str| section.get(k).filter(|v| !v.is_empty()).cloned();
        Some(Cloud {
            name: name.to_string(),
            acr_suffix: get("suffix_acr_login_server_endpoint").map(|s| {
                if s.starts_with('.') {
                    s
                } else {
                    format!(".{s}")
                }
            }),
            resource_manager: get("endpoint_resource_manager"),
            authority: get("endpoint_active_directory"),
            arm_audience: get("endpoint_active_directory_resource_id"),
        })
    }

    /// `--cloud`, else the cloud az is set to, else AzureCloud. A name that
    /// is neither built in nor registered with az is an error.
    pub(crate) fn select(flag: Option<&str>, az: &AzConfig) -> Result<Cloud, UnknownCloud> {
        let configured = az.cloud_name();
        let name = flag.or(configured.as_deref()).unwrap_or("AzureCloud");
        Cloud::builtin(name)
            .or_else(|| Cloud::custom(name, az))
            .or_else(|| {
                // az writes a custom cloud it is set to; without its
                // definition the cloud still exists, just without endpoints.
                (flag.is_none()).then(|| Cloud {
                    name: name.to_string(),
                    acr_suffix: None,
                    resource_manager: None,
                    authority: None,
                    arm_audience: None,
                })
            })
            .ok_or_else(|| UnknownCloud {
                name: name.to_string(),
                known: Cloud::builtin_names().collect::<Vec<_>>().join(", "),
            })
    }
}
