//! Finding a credential for the registry: a username and password (admin
//! user or ACR token), or an Azure AD token from the first source that
//! works — service principal, workload identity, the Azure CLI, managed
//! identity — obtained through `azure_identity`.

pub use super::auth::AuthSource;
use super::cloud::Cloud;
use crate::net::https_client::Client;
use crate::process::BoundedExecutor;
use crate::secret::Secret;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use std::sync::Arc;
use std::time::Duration;

/// The scope of Azure AD tokens the registry accepts in the exchange.
pub const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";

#[derive(Clone, Debug)]
pub struct PasswordLogin {
    pub username: String,
    pub password: Secret,
}

/// An Azure AD access token and where it came from.
#[derive(Clone, Debug)]
pub struct AadToken {
    pub token: Secret,
    pub source: AuthSource,
}

/// Every source tried, and why each gave no token.
#[derive(Clone, Debug, Default)]
pub struct NoCredential {
    pub tried: Vec<(AuthSource, String)>,
}

impl NoCredential {
    pub fn describe(&self) -> String {
        if self.tried.is_empty() {
            return "No Azure credential was found: no service principal or workload identity variables, no Azure CLI on PATH, and no managed identity endpoint.".to_string();
        }
        let each: Vec<String> = self
            .tried
            .iter()
            .map(|(s, why)| format!("{}: {why}", s.label()))
            .collect();
        format!("No credential gave a token. Tried: {}", each.join("; "))
    }
}

/// What the credential chain needs to know.
pub struct CredentialSetup {
    pub mode: AuthSource,
    pub cloud: Cloud,
    pub client: Arc<Client>,
    pub timeout: Duration,
}

/// A source and its credential, or why it cannot be built.
type Candidate = (AuthSource, Result<Arc<dyn TokenCredential>, Unavailable>);

/// Why a credential source cannot even be tried.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")]
    ServicePrincipalVariables,
    #[error("set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE")]
    WorkloadIdentityVariables,
    #[error("the Azure CLI (az) is not on PATH")]
    NoAzureCli,
    #[error("not an Azure AD credential source")]
    NotAnAzureAdSource,
    /// The Azure SDK refused the configuration, in its own words.
    #[error("{0}")]
    Sdk(String),
}

fn az_on_path() -> bool {
    matches!(
        crate::process::lookup::find("az"),
        crate::process::lookup::Lookup::Found(_)
    )
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl CredentialSetup {
    fn client_options(&self) -> ClientOptions {
        let mut options = ClientOptions {
            transport: Some(Transport::new(self.client.clone())),
            retry: RetryOptions::none(),
            ..Default::default()
        };
        // AZURE_AUTHORITY_HOST, when set, is read by azure_identity itself.
        if env("AZURE_AUTHORITY_HOST").is_none() {
            options.cloud = match self.cloud.name.as_str() {
                "AzureCloud" => Some(Arc::new(CloudConfiguration::AzurePublic)),
                "AzureChinaCloud" => Some(Arc::new(CloudConfiguration::AzureChina)),
                "AzureUSGovernment" => Some(Arc::new(CloudConfiguration::AzureGovernment)),
                _ => self.cloud.authority.as_ref().map(|authority| {
                    let mut custom = CustomConfiguration::default();
                    custom.authority_host = authority.clone();
                    Arc::new(CloudConfiguration::Custom(custom))
                }),
            };
        }
        options
    }

    /// The sources to try, in order, with the credential for each; sources
    /// whose configuration is absent are left out in auto mode.
    fn candidates(&self) -> Vec<Candidate> {
        let configured = [
            (
                AuthSource::ServicePrincipal,
                env("AZURE_CLIENT_SECRET").is_some(),
            ),
            (
                AuthSource::WorkloadIdentity,
                env("AZURE_FEDERATED_TOKEN_FILE").is_some(),
            ),
            (AuthSource::AzCli, az_on_path()),
            // IMDS is only tried when asked for or when the host advertises
            // an identity endpoint (App Service, Arc, Cloud Shell): probing
            // the link-local IMDS address on every run would cost a timeout
            // off Azure.
            (
                AuthSource::ManagedIdentity,
                env("IDENTITY_ENDPOINT").is_some(),
            ),
        ];
        configured
            .into_iter()
            .filter(|(source, present)| match self.mode {
                AuthSource::Auto => *present,
                mode => mode == *source,
            })
            .map(|(source, _)| (source, self.credential(source)))
            .collect()
    }

    fn credential(&self, source: AuthSource) -> Result<Arc<dyn TokenCredential>, Unavailable> {
        let (tenant, client_id) = (env("AZURE_TENANT_ID"), env("AZURE_CLIENT_ID"));
        let sdk = |e: azure_core::Error| Unavailable::Sdk(e.to_string());
        match source {
            AuthSource::ServicePrincipal => {
                let (Some(t), Some(c), Some(secret)) =
                    (tenant, client_id, env("AZURE_CLIENT_SECRET"))
                else {
                    return Err(Unavailable::ServicePrincipalVariables);
                };
                let options = azure_identity::ClientSecretCredentialOptions {
                    client_options: self.client_options(),
                };
                azure_identity::ClientSecretCredential::new(&t, c, secret.into(), Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(sdk)
            }
            AuthSource::WorkloadIdentity => {
                if tenant.is_none()
                    || client_id.is_none()
                    || env("AZURE_FEDERATED_TOKEN_FILE").is_none()
                {
                    return Err(Unavailable::WorkloadIdentityVariables);
                }
                let options = azure_identity::WorkloadIdentityCredentialOptions {
                    credential_options: azure_identity::ClientAssertionCredentialOptions {
                        client_options: self.client_options(),
                    },
                    ..Default::default()
                };
                azure_identity::WorkloadIdentityCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(sdk)
            }
            AuthSource::AzCli => {
                if !az_on_path() {
                    return Err(Unavailable::NoAzureCli);
                }
                let options = azure_identity::AzureCliCredentialOptions {
                    executor: Some(Arc::new(BoundedExecutor {
                        timeout: self.timeout,
                    })),
                    ..Default::default()
                };
                azure_identity::AzureCliCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(sdk)
            }
            AuthSource::ManagedIdentity => {
                let user_assigned = client_id
                    .filter(|_| self.mode == AuthSource::ManagedIdentity)
                    .map(azure_identity::UserAssignedId::ClientId);
                let options = azure_identity::ManagedIdentityCredentialOptions {
                    user_assigned_id: user_assigned,
                    client_options: self.client_options(),
                };
                azure_identity::ManagedIdentityCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(sdk)
            }
            AuthSource::Auto | AuthSource::Password => Err(Unavailable::NotAnAzureAdSource),
        }
    }

    /// An Azure AD token for `scope` from the first source that gives one.
    pub async fn aad_token(&self, scope: &str) -> Result<AadToken, NoCredential> {
        let mut failures = NoCredential::default();
        for (source, cred) in self.candidates() {
            let cred = match cred {
                Ok(c) => c,
                Err(why) => {
                    failures.tried.push((source, why.to_string()));
                    continue;
                }
            };
            let attempt = tokio::time::timeout(self.timeout, cred.get_token(&[scope], None)).await;
            match attempt {
                Ok(Ok(token)) => {
                    return Ok(AadToken {
                        token: Secret::new(token.token.secret()),
                        source,
                    })
                }
                Ok(Err(e)) => failures.tried.push((source, first_line(&e.to_string()))),
                Err(_) => failures.tried.push((
                    source,
                    format!(
                        "no token within {}",
                        crate::duration::format_duration(self.timeout)
                    ),
                )),
            }
        }
        Err(failures)
    }
}

/// An azure_identity error as one line, without its boilerplate
/// ("XCredential authentication failed.", "To troubleshoot, visit …"). It
/// carries Azure AD's (or the Azure CLI's) own words, so it comes back escaped.
fn first_line(s: &str) -> String {
    crate::untrusted::inline(&one_line(s)).shown()
}

fn one_line(s: &str) -> String {
    let text = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("To troubleshoot"))
        .collect::<Vec<_>>()
        .join(" ");
    match text.split_once(" authentication failed. ") {
        Some((who, rest)) if who.ends_with("Credential") && !who.contains(' ') => rest.to_string(),
        _ => text,
    }
}
