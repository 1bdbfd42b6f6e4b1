//! Azure Resource Manager: the registry as Azure sees it.

use super::documents::Page;
use crate::net::https_client::{Client, ClientError};
use crate::net::origin;
use crate::secret::Secret;
use crate::untrusted::Untrusted;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::net::IpAddr;

pub(crate) const REGISTRY_API: &str = "2025-04-01";
pub(crate) const IDENTITY_API: &str = "2023-01-31";
/// Pages of the registry list followed at most (100 registries a page).
const MAX_PAGES: usize = 20;

/// Where to look for the registry.
#[derive(Clone, Debug)]
pub(crate) struct ArmTarget {
    pub endpoint: String,
    pub subscription: String,
    pub resource_group: Option<String>,
    pub name: String,
}

/// Why Resource Manager is not asked about the registry in this run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ArmUnused {
    #[error("--username/--password give no Azure AD identity to ask Resource Manager with")]
    PasswordLogin,
    #[error("the cloud '{0}' has no Resource Manager endpoint")]
    NoEndpoint(String),
    #[error(
        "the cloud '{cloud}' names Resource Manager at {endpoint}, which is not an https URL; \
        no token is sent to it"
    )]
    NotHttps { cloud: String, endpoint: Untrusted },
    #[error(
        "no subscription is known (pass --subscription, set AZURE_SUBSCRIPTION_ID or run az \
        account set)"
    )]
    NoSubscription,
    #[error(
        "node mode (--kubelet): Resource Manager is not on the kubelet's path, and the kubelet \
        identity is usually not allowed to read the registry"
    )]
    NodeMode,
}

/// Why Resource Manager gave no answer to use. `detail` is Resource
/// Manager's own `code: message`, escaped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ArmError {
    #[error("Resource Manager denied reading {what} ({status} {detail})")]
    Forbidden {
        what: String,
        status: u16,
        detail: String,
    },
    #[error("{what} was not found ({detail})")]
    NotFound { what: String, detail: String },
    #[error("no registry named '{name}' in subscription {subscription}")]
    NoSuchRegistry { name: String, subscription: String },
    #[error("Resource Manager answered {status} for {what} {detail}")]
    Status {
        what: String,
        status: u16,
        detail: String,
    },
    #[error("Resource Manager answered {status} with a body that is not JSON ({len} bytes)")]
    NotJson { status: u16, len: usize },
    #[error("bad Resource Manager endpoint {endpoint}: {reason}")]
    BadEndpoint {
        endpoint: String,
        reason: url::ParseError,
    },
    #[error("Resource Manager gave an address that is not a URL ({0}); it was not followed")]
    NotAUrl(Untrusted),
    #[error(
        "Resource Manager gave an address on {got} instead of {expected}; it was not followed \
        and no token was sent"
    )]
    OffOrigin { got: String, expected: String },
    #[error("'{0}' is not a resource id; it was not read")]
    NotAResourceId(Untrusted),
    /// A document the check needs does not have the shape it needs.
    #[error("Resource Manager's document for {what} is not as expected: {reason}")]
    Shape { what: String, reason: String },
    #[error(transparent)]
    Client(#[from] Box<ClientError>),
}

impl From<ClientError> for ArmError {
    fn from(e: ClientError) -> Self {
        ArmError::Client(Box::new(e))
    }
}

impl ArmError {
    /// The registry (or resource) is not where it was looked for.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(
            self,
            ArmError::NotFound { .. } | ArmError::NoSuchRegistry { .. }
        )
    }
}

pub(crate) use super::documents::Registry;

/// Whether `ip` is allowed by one of `rules` (addresses or CIDR ranges).
pub(crate) fn ip_allowed(ip: IpAddr, rules: &[String]) -> bool {
    rules
        .iter()
        .any(|rule| match rule.trim().parse::<ipnet::IpNet>() {
            Ok(net) => net.contains(&ip),
            // A rule may be a bare address; anything else (`10.0.0.0/abc`,
            // `/33`) is not a rule that admits anyone.
            Err(_) => rule.trim().parse::<IpAddr>().is_ok_and(|a| a == ip),
        })
}

/// GETs `url` with the Resource Manager token. The URL may come from
/// Resource Manager itself (a `nextLink`, a resource id pasted into a path),
/// so the token is only sent when it stays on `endpoint`'s origin.
async fn get(
    client: &Client,
    token: &Secret,
    endpoint: &str,
    url: &str,
) -> Result<(u16, Value), ArmError> {
    let base = url::Url::parse(endpoint).map_err(|reason| ArmError::BadEndpoint {
        endpoint: endpoint.to_string(),
        reason,
    })?;
    let url = url::Url::parse(url).map_err(|_| ArmError::NotAUrl(Untrusted::new(url)))?;
    if !origin::same_origin(&url, &base) {
        return Err(ArmError::OffOrigin {
            got: origin::describe(&url),
            expected: origin::describe(&base),
        });
    }
    let auth = format!("Bearer {}", token.expose());
    let r = client
        .send(
            http::Method::GET,
            &url,
            &[
                ("authorization", auth.as_str()),
                ("accept", "application/json"),
            ],
            None,
        )
        .await?;
    let mut doc = match serde_json::from_slice(&r.body) {
        Ok(doc) => doc,
        // An error status may come without a body worth reading.
        Err(_) if r.status != 200 => Value::Null,
        Err(_) => {
            return Err(ArmError::NotJson {
                status: r.status,
                len: r.body.len(),
            })
        }
    };
    crate::untrusted::defang_json(&mut doc);
    Ok((r.status, doc))
}

fn arm_error_text(doc: &Value) -> String {
    let e = &doc["error"];
    let text = match (e["code"].as_str(), e["message"].as_str()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => String::new(),
    };
    Untrusted::new(text).shown()
}

/// Finds the registry: by id with a resource group, else by listing the
/// subscription's registries.
pub(crate) async fn find_registry(
    client: &Client,
    token: &Secret,
    t: &ArmTarget,
) -> Result<Registry, ArmError> {
    let base = t.endpoint.trim_end_matches('/');
    let sub = &t.subscription;
    let status_error = |status: u16, doc: &Value, what: &str| {
        let (what, detail) = (what.to_string(), arm_error_text(doc));
        match status {
            401 | 403 => ArmError::Forbidden {
                what,
                status,
                detail,
            },
            404 => ArmError::NotFound { what, detail },
            _ => ArmError::Status {
                what,
                status,
                detail,
            },
        }
    };
    if let Some(rg) = &t.resource_group {
        let what = format!(
            "registry '{}' in resource group '{rg}' of subscription {sub}",
            t.name
        );
        let url = format!(
            "{base}/subscriptions/{sub}/resourceGroups/{rg}/providers/\
            Microsoft.ContainerRegistry/registries/{}?api-version={REGISTRY_API}",
            t.name
        );
        let (status, doc) = get(client, token, base, &url).await?;
        return match status {
            200 => parse(doc, &what),
            _ => Err(status_error(status, &doc, &what)),
        };
    }
    let what = format!("the registries of subscription {sub}");
    let mut url = format!(
        "{base}/subscriptions/{sub}/providers/Microsoft.ContainerRegistry/registries\
        ?api-version={REGISTRY_API}"
    );
    for _ in 0..MAX_PAGES {
        let (status, doc) = get(client, token, base, &url).await?;
        if status != 200 {
            return Err(status_error(status, &doc, &what));
        }
        let page: Page = parse(doc, &what)?;
        let found = page.value.into_iter().find(|r| {
            r["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(&t.name))
        });
        if let Some(r) = found {
            return parse(r, &format!("registry '{}'", t.name));
        }
        match page.next_link {
            Some(next) if !next.is_empty() => url = next,
            _ => break,
        }
    }
    Err(ArmError::NoSuchRegistry {
        name: t.name.clone(),
        subscription: sub.clone(),
    })
}

/// `doc` as the typed document `T`, or an error naming what is wrong.
fn parse<T: DeserializeOwned>(doc: Value, what: &str) -> Result<T, ArmError> {
    serde_json::from_value(doc).map_err(|e| ArmError::Shape {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

/// Reads any resource by id as the document `T`; `Ok(None)` when it does
/// not exist.
pub(crate) async fn get_resource<T: DeserializeOwned>(
    client: &Client,
    token: &Secret,
    endpoint: &str,
    id: &str,
    api: &str,
) -> Result<Option<T>, ArmError> {
    if !id.starts_with('/') {
        return Err(ArmError::NotAResourceId(Untrusted::new(id)));
    }
    let url = format!("{}{id}?api-version={api}", endpoint.trim_end_matches('/'));
    let (status, doc) = get(client, token, endpoint, &url).await?;
    match status {
        200 => parse(doc, &Untrusted::new(id).shown()).map(Some),
        404 => Ok(None),
        status => Err(ArmError::Status {
            what: Untrusted::new(id).shown(),
            status,
            detail: arm_error_text(&doc),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_rules_match_addresses_and_ranges() {
        let rules = vec!["203.0.113.0/24".to_string(), "198.51.100.7".to_string()];
        assert!(ip_allowed("203.0.113.77".parse().unwrap(), &rules));
        assert!(ip_allowed("198.51.100.7".parse().unwrap(), &rules));
        assert!(!ip_allowed("198.51.100.8".parse().unwrap(), &rules));
        assert!(!ip_allowed("2001:db8::1".parse().unwrap(), &rules));
        assert!(ip_allowed(
            "10.1.2.3".parse().unwrap(),
            &["0.0.0.0/0".to_string()]
        ));
        for malformed in ["10.0.0.0/abc", "10.0.0.0/33", "10.0.0.0/"] {
            assert!(
                !ip_allowed("10.0.0.0".parse().unwrap(), &[malformed.to_string()]),
                "{malformed}"
            );
        }
        assert!(ip_allowed(
            "2001:db8::5".parse().unwrap(),
            &["2001:db8::/64".to_string()]
        ));
    }
}
