//! The managed identity of an Azure VM (and AKS node), through the Instance
//! Metadata Service: `GET http://169.254.169.254/metadata/identity/oauth2/token`
//! with `Metadata: true`. VMs set no `IDENTITY_ENDPOINT`, so IMDS is probed
//! at the start of every run, with a short connect timeout as the Azure
//! SDKs use: it costs nothing when another credential is found, and at
//! most that timeout on a machine outside Azure.

use crate::env::Env;
use crate::net::https_client::Client;
use crate::secret::Secret;
use crate::untrusted::Untrusted;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long the probe waits for IMDS to accept a connection.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

const DEFAULT_HOST: &str = "http://169.254.169.254";
const API_VERSION: &str = "2018-02-01";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ImdsError {
    #[error("no instance metadata service answered at {0} within 1s (not an Azure VM)")]
    Unreachable(String),
    #[error(
        "the instance metadata service answered {status}: {detail}{}",
        imds_hint(detail)
    )]
    Refused { status: u16, detail: String },
    #[error("the instance metadata service's answer has no access_token")]
    NoToken,
    #[error("{0}")]
    Request(String),
}

/// What to do about the refusals of IMDS that users meet: a VM with
/// several user-assigned identities must be told which, and one without
/// the named identity has none to give.
fn imds_hint(detail: &str) -> &'static str {
    let d = detail.to_ascii_lowercase();
    if d.contains("multiple user assigned identities") || d.contains("specify the clientid") {
        " (the VM has several user-assigned identities: name the one to use with AZURE_CLIENT_ID, \
            and --auth managed-identity when a service principal's variables are set too)"
    } else if d.contains("identity not found") {
        " (the VM has no managed identity, or none with the AZURE_CLIENT_ID given: assign one with \
            az vm identity assign)"
    } else {
        ""
    }
}

/// IMDS for this run: where it is, and whether it answered the probe.
#[derive(Debug)]
pub(crate) struct Imds {
    base: url::Url,
    reachable: OnceCell<bool>,
}

impl Imds {
    /// `AZURE_POD_IDENTITY_AUTHORITY_HOST` (the Azure SDKs' override), else
    /// the link-local IMDS address.
    pub(crate) fn from_env(env: &Env) -> Arc<Imds> {
        let host = env
            .var("AZURE_POD_IDENTITY_AUTHORITY_HOST")
            .unwrap_or(DEFAULT_HOST);
        let base = url::Url::parse(host.trim())
            .unwrap_or_else(|_| url::Url::parse(DEFAULT_HOST).expect("a valid URL"));
        Arc::new(Imds {
            base,
            reachable: OnceCell::new(),
        })
    }

    /// Whether IMDS accepts a connection within [`PROBE_TIMEOUT`]; asked
    /// once, however many callers wait for it.
    pub(crate) async fn reachable(&self) -> bool {
        *self
            .reachable
            .get_or_init(|| async {
                let Some((host, port)) = self.host_port() else {
                    return false;
                };
                let connect = tokio::net::TcpStream::connect((host, port));
                matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, connect).await,
                    Ok(Ok(_))
                )
            })
            .await
    }

    fn host_port(&self) -> Option<(&str, u16)> {
        let host = self.base.host_str()?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Some((host, self.base.port_or_known_default()?))
    }

    pub(crate) fn describe(&self) -> String {
        Untrusted::new(self.base.as_str().trim_end_matches('/')).shown()
    }

    /// A token for `scope` from IMDS, for the user-assigned identity that
    /// `identity` names when given (`client_id` or `msi_res_id`, and its
    /// value).
    pub(crate) async fn token(
        &self,
        client: &Client,
        scope: &str,
        identity: Option<(&str, &str)>,
    ) -> Result<Secret, ImdsError> {
        if !self.reachable().await {
            return Err(ImdsError::Unreachable(self.describe()));
        }
        let mut url = self
            .base
            .join("/metadata/identity/oauth2/token")
            .map_err(|e| ImdsError::Request(e.to_string()))?;
        let resource = scope.trim_end_matches("/.default");
        url.query_pairs_mut()
            .append_pair("api-version", API_VERSION)
            .append_pair("resource", resource);
        if let Some((param, id)) = identity {
            url.query_pairs_mut().append_pair(param, id);
        }
        let r = client
            .send(http::Method::GET, &url, &[("metadata", "true")], None)
            .await
            .map_err(|e| ImdsError::Request(e.to_string()))?;
        let doc: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        if r.status != 200 {
            let detail = doc["error_description"]
                .as_str()
                .or(doc["error"].as_str())
                .unwrap_or("no detail");
            return Err(ImdsError::Refused {
                status: r.status,
                detail: Untrusted::new(detail).shown(),
            });
        }
        match doc["access_token"].as_str() {
            Some(t) if !t.is_empty() => Ok(Secret::new(t)),
            _ => Err(ImdsError::NoToken),
        }
    }
}
