//! `az login` without running az: the Azure CLI keeps its tokens in an MSAL
//! token cache in its configuration folder (`msal_token_cache.json`, plain
//! JSON on Linux and macOS). When it holds an unexpired access token for the
//! logged-in account and tenant of the subscription in use, that token is
//! used as it is. Read-only, in one read; a missing, encrypted or torn file
//! only means that az itself is asked.

use super::az_config::{ProfileSubscription, ProfileUser};
use crate::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The tokens of the az login, kept as secrets.
#[derive(Clone, Debug, Default)]
pub(crate) struct AzLogin {
    /// The subscription whose login this is: az is asked for tokens of
    /// that subscription's account and tenant (`--subscription`), which
    /// need not be az's default one.
    pub subscription: String,
    tokens: Vec<CachedToken>,
}

#[derive(Clone, Debug)]
struct CachedToken {
    secret: Secret,
    /// The resources the token is for (`target` without `.default`).
    resources: Vec<String>,
}

/// What a cached token is good for.
#[derive(Clone, Debug)]
pub(crate) struct Cached {
    pub token: Secret,
    /// A Resource Manager–audience token standing in for the registry's
    /// audience (the exchange accepts it unless the registry's policy
    /// refuses it).
    pub arm_audience: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Cache {
    #[serde(default)]
    access_token: BTreeMap<String, Entry>,
    #[serde(default)]
    account: BTreeMap<String, Account>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    home_account_id: Option<String>,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    realm: String,
    #[serde(default)]
    target: String,
    secret: String,
    expires_on: String,
}

#[derive(Deserialize)]
struct Account {
    home_account_id: String,
    #[serde(default)]
    username: String,
}

impl AzLogin {
    /// The login of the subscription `sub` (of az's profile), with the
    /// cached tokens that stay valid until at least `valid_until` (the end
    /// of the run, and some). A cache that cannot be read, or that cannot
    /// say which account is meant, gives the login without tokens: az is
    /// then asked.
    pub(crate) fn load(dir: &Path, sub: &ProfileSubscription, valid_until: u64) -> Option<AzLogin> {
        let user = sub.user.as_ref()?;
        let cache = crate::input_file::read(&dir.join("msal_token_cache.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Cache>(&bytes).ok());
        Some(AzLogin {
            subscription: sub.id.clone(),
            tokens: cache
                .map(|c| cached_tokens(c, sub, user, valid_until))
                .unwrap_or_default(),
        })
    }

    pub(crate) fn has_tokens(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// A cached token for `scope` (`<resource>/.default`). For Resource
    /// Manager (`arm`), a token of the cloud's `audience`; for the
    /// registry's scope, its own audience, else the Resource Manager token
    /// standing in.
    pub(crate) fn token_for(&self, scope: &str, arm: bool, audience: &str) -> Option<Cached> {
        let resource = scope
            .trim_end_matches(".default")
            .trim_end_matches('/')
            .to_string()
            + "/";
        let audience = audience.trim_end_matches('/').to_string() + "/";
        let with = |want: &str| {
            self.tokens
                .iter()
                .find(|t| t.resources.iter().any(|r| r == want))
                .map(|t| t.secret.clone())
        };
        if arm {
            return with(&audience).map(|token| Cached {
                token,
                arm_audience: false,
            });
        }
        if let Some(token) = with(&resource) {
            return Some(Cached {
                token,
                arm_audience: false,
            });
        }
        let stands_in = resource == "https://containerregistry.azure.net/";
        with(&audience).filter(|_| stands_in).map(|token| Cached {
            token,
            arm_audience: true,
        })
    }
}

/// The cache's tokens for `user` in the subscription's tenant, valid until
/// `valid_until`.
fn cached_tokens(
    cache: Cache,
    sub: &ProfileSubscription,
    user: &ProfileUser,
    valid_until: u64,
) -> Vec<CachedToken> {
    let home = match user.kind.as_str() {
        "user" => {
            let mut homes: Vec<&str> = cache
                .account
                .values()
                .filter(|a| a.username.eq_ignore_ascii_case(&user.name))
                .map(|a| a.home_account_id.as_str())
                .collect();
            homes.sort_unstable();
            homes.dedup();
            // Two accounts of one name (two tenants' guests): az itself
            // asks which; here az is asked instead.
            match homes.as_slice() {
                [one] => Some(one.to_string()),
                _ => return Vec::new(),
            }
        }
        _ => None,
    };
    cache
        .access_token
        .into_values()
        .filter(|e| e.realm.eq_ignore_ascii_case(&sub.tenant_id))
        .filter(|e| match (&home, user.kind.as_str()) {
            (Some(h), _) => e.home_account_id.as_deref() == Some(h.as_str()),
            (None, "servicePrincipal") => e.client_id.eq_ignore_ascii_case(&user.name),
            _ => false,
        })
        .filter(|e| {
            e.expires_on
                .trim()
                .parse::<u64>()
                .is_ok_and(|t| t > valid_until)
        })
        .map(|e| CachedToken {
            resources: e
                .target
                .split_whitespace()
                .map(|t| {
                    t.trim_end_matches(".default")
                        .trim_end_matches('/')
                        .to_string()
                        + "/"
                })
                .collect(),
            secret: Secret::new(e.secret),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The login of `wanted` (else the default) in `cloud`, as the run
    /// finds it: az's profile read by AzConfig, then the cache.
    fn load(dir: &Path, wanted: Option<&str>, cloud: &str) -> Option<AzLogin> {
        let profile = std::fs::read(dir.join("azureProfile.json")).unwrap();
        let az = crate::azure::az_config::AzConfig {
            subscriptions: crate::azure::az_config::subscriptions(&profile),
            ..Default::default()
        };
        AzLogin::load(dir, az.subscription(wanted, cloud)?, 1_300)
    }

    fn write(dir: &Path, expires_on: u64) {
        std::fs::write(
            dir.join("azureProfile.json"),
            "\u{feff}{\"subscriptions\":[{\"id\":\"sub-1\",\"name\":\"Dev\",\"isDefault\":true,\"tenantId\":\"tid\",\"user\":{\"name\":\"me@contoso.com\",\"type\":\"user\"}}]}",
        )
        .unwrap();
        let cache = serde_json::json!({
            "Account": {"k": {"home_account_id": "oid.tid", "username": "Me@contoso.com"}},
            "AccessToken": {
                "arm": {"credential_type": "AccessToken", "home_account_id": "oid.tid", "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                        "realm": "tid", "target": "https://management.core.windows.net//.default", "secret": "arm-token-SECRET",
                        "expires_on": expires_on.to_string()},
                "other": {"credential_type": "AccessToken", "home_account_id": "someone.else", "client_id": "x",
                          "realm": "tid", "target": "https://containerregistry.azure.net/.default", "secret": "not-mine",
                          "expires_on": expires_on.to_string()}
            }
        });
        std::fs::write(dir.join("msal_token_cache.json"), cache.to_string()).unwrap();
    }

    #[test]
    fn finds_the_logged_in_accounts_arm_token_and_lets_it_stand_in() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 10_000);
        let login = load(dir.path(), None, "AzureCloud").unwrap();
        let audience = "https://management.core.windows.net/";
        let arm = login
            .token_for("https://management.azure.com/.default", true, audience)
            .unwrap();
        // Another cloud's Resource Manager gets nothing from this cache.
        let china = "https://management.core.chinacloudapi.cn/";
        assert!(login.token_for("https://x/.default", true, china).is_none());
        assert_eq!(
            (arm.token.expose(), arm.arm_audience),
            ("arm-token-SECRET", false)
        );
        let acr = login
            .token_for(
                "https://containerregistry.azure.net/.default",
                false,
                audience,
            )
            .unwrap();
        assert_eq!(
            (acr.token.expose(), acr.arm_audience),
            ("arm-token-SECRET", true)
        );
        assert!(load(dir.path(), Some("dev"), "AzureCloud").is_some());
        assert!(load(dir.path(), Some("other-sub"), "AzureCloud").is_none());
    }

    #[test]
    fn expired_or_torn_caches_serve_nothing() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 1_100);
        let login = load(dir.path(), None, "AzureCloud").unwrap();
        assert!(login
            .token_for(
                "https://management.azure.com/.default",
                true,
                "https://management.core.windows.net/"
            )
            .is_none());
        std::fs::write(
            dir.path().join("msal_token_cache.json"),
            "{\"AccessToken\": {",
        )
        .unwrap();
        // The login is still known (az is asked for its subscription), without tokens.
        let login = load(dir.path(), None, "AzureCloud").unwrap();
        assert!(!login.has_tokens());
        assert_eq!(login.subscription, "sub-1");
        // Another cloud's subscriptions are not az's in this one.
        let profile = std::fs::read_to_string(dir.path().join("azureProfile.json")).unwrap();
        std::fs::write(
            dir.path().join("azureProfile.json"),
            profile.replace(
                "\"isDefault\"",
                "\"environmentName\":\"AzureCloud\",\"isDefault\"",
            ),
        )
        .unwrap();
        assert!(load(dir.path(), None, "AzureCloud").is_some());
        assert!(load(dir.path(), None, "AzureChinaCloud").is_none());
    }
}
