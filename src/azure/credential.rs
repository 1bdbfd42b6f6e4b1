//! Finding a credential for the registry: a username and password (admin
//! user or ACR token), or an Azure AD token from the first source that
//! works — service principal, workload identity, the Azure CLI (its token
//! cache first, `az` itself when the cache cannot serve), managed identity
//! (an identity endpoint, or the instance metadata service probed at the
//! start) — obtained through `azure_identity` where it serves.

pub(crate) use super::auth::AuthSource;
use super::az_cache::AzLogin;
use super::cloud::Cloud;
use super::imds::Imds;
use crate::env::Env;
use crate::net::https_client::Client;
use crate::process::BoundedExecutor;
use crate::secret::Secret;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use std::sync::Arc;
use std::time::Duration;

/// The scope of Azure AD tokens the registry accepts in the exchange.
pub(crate) const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";

#[derive(Clone, Debug)]
pub(crate) struct PasswordLogin {
    pub username: String,
    pub password: Secret,
}

/// An Azure AD access token and where it came from.
#[derive(Clone, Debug)]
pub(crate) struct AadToken {
    pub token: Secret,
    pub source: AuthSource,
    /// How the source gave it, when that matters ("token cache").
    pub via: Option<&'static str>,
    /// A Resource Manager–audience token standing in for the registry's.
    pub arm_audience: bool,
    /// Sources the environment configures completely (a service principal,
    /// workload identity) that failed before this one answered: the run
    /// goes on with this one, as az would, and the report says so, since
    /// whatever uses that configuration fails.
    pub passed_over: Vec<(AuthSource, String)>,
}

impl AadToken {
    pub(crate) fn new(token: Secret, source: AuthSource) -> AadToken {
        AadToken {
            token,
            source,
            via: None,
            arm_audience: false,
            passed_over: Vec::new(),
        }
    }

    /// What the report says of each configured source that failed first.
    pub(crate) fn passed_over_notes(&self) -> Vec<String> {
        self.passed_over
            .iter()
            .map(|(source, why)| {
                let mut note = format!(
                    "the {} configured in this environment gave no token ({why}), so the {} was \
                        used instead",
                    source.label(),
                    self.label()
                );
                // Only Azure AD's own refusal says the configuration is
                // wrong; an outage or a timeout may pass.
                if let Some((code, meaning)) = super::aadsts::explain_in(why) {
                    note.push_str(&format!(
                        ": whatever uses that configuration (a pipeline's \
                        docker login, an SDK's credential chain) fails; AADSTS{code}: {meaning}"
                    ));
                }
                note
            })
            .collect()
    }

    /// The source as the report names it.
    pub(crate) fn label(&self) -> String {
        match self.via {
            Some(via) => format!("{} ({via})", self.source.label()),
            None => self.source.label().to_string(),
        }
    }
}

/// Every source tried, and why each gave no token.
#[derive(Clone, Debug, Default)]
pub(crate) struct NoCredential {
    pub tried: Vec<(AuthSource, String)>,
    /// Azure SDK variables set for a credential acr-health does not take.
    pub unsupported: Option<String>,
}

impl NoCredential {
    pub(crate) fn describe(&self) -> String {
        if self.tried.is_empty() {
            let mut text = "No Azure credential was found: no service principal or workload \
                identity variables, no Azure CLI login, and no managed identity endpoint or \
                instance metadata service."
                .to_string();
            if let Some(unsupported) = &self.unsupported {
                text.push(' ');
                text.push_str(unsupported);
            }
            return text;
        }
        let each: Vec<String> = self
            .tried
            .iter()
            .map(|(s, why)| format!("{}: {why}", s.label()))
            .collect();
        let mut text = format!("No credential gave a token. Tried: {}", each.join("; "));
        // Azure AD's own code, in words: what happened and what to do.
        for (source, why) in &self.tried {
            if let Some((code, meaning)) = super::aadsts::explain_in(why) {
                text.push_str(&format!("\nAADSTS{code} ({}): {meaning}.", source.label()));
            }
        }
        text
    }
}

/// What the credential chain needs to know.
#[derive(Clone)]
pub(crate) struct CredentialSetup {
    pub mode: AuthSource,
    pub cloud: Cloud,
    pub client: Arc<Client>,
    pub timeout: Duration,
    /// The Azure CLI's cached tokens, read once.
    pub az_login: Option<Arc<AzLogin>>,
    /// The subscription in use, for `az account get-access-token
    /// --subscription`: az then answers for that subscription's account
    /// and tenant, which need not be its default ones (and a managed
    /// identity login refuses `--tenant`).
    pub az_subscription: Option<String>,
    /// The instance metadata service, probed once at the start of the run.
    pub imds: Arc<Imds>,
    /// The run's environment: the Azure SDK's variables.
    pub env: Arc<Env>,
}

/// Why a source that was tried gave no token, in its own words (escaped).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct SourceFailure(String);

/// Why a credential source cannot even be tried.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum Unavailable {
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

/// Azure SDK variables for credentials acr-health does not take, named so
/// that a certificate service principal is not silently passed over.
fn unsupported_variables(env: &Env) -> Option<String> {
    let set = |name: &str| env.var(name).is_some();
    if set("AZURE_CLIENT_CERTIFICATE_PATH") {
        Some(
            "AZURE_CLIENT_CERTIFICATE_PATH is set, but a service principal's certificate is not a \
            credential acr-health uses: log in with it through az (az login --service-principal \
            --certificate …), or give the service principal a client secret \
            (AZURE_CLIENT_SECRET)."
                .into(),
        )
    } else if set("AZURE_USERNAME") {
        Some(
            "AZURE_USERNAME is set, but a user's password is not a credential acr-health uses \
            (Azure AD blocks it under multi-factor authentication): run az login."
                .into(),
        )
    } else {
        None
    }
}

fn az_on_path(env: &Env) -> bool {
    matches!(
        crate::process::lookup::find("az", env),
        crate::process::lookup::Lookup::Found(_)
    )
}

impl CredentialSetup {
    /// A variable of the run's environment, when set and not blank.
    fn env(&self, name: &str) -> Option<String> {
        self.env.var(name).map(str::to_string)
    }

    fn client_options(&self) -> ClientOptions {
        let mut options = ClientOptions {
            transport: Some(Transport::new(self.client.clone())),
            retry: RetryOptions::none(),
            ..Default::default()
        };
        // AZURE_AUTHORITY_HOST, when set, is read by azure_identity itself.
        if self.env("AZURE_AUTHORITY_HOST").is_none() {
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

    /// The sources to try, in order; in auto mode, those whose
    /// configuration is present, and managed identity last (it is found by
    /// probing).
    fn sources(&self) -> Vec<AuthSource> {
        let az_cache = self.az_login.as_ref().is_some_and(|l| l.has_tokens());
        let configured = [
            (
                AuthSource::ServicePrincipal,
                self.env("AZURE_CLIENT_SECRET").is_some(),
            ),
            (
                AuthSource::WorkloadIdentity,
                self.env("AZURE_FEDERATED_TOKEN_FILE").is_some(),
            ),
            (AuthSource::AzCli, az_cache || az_on_path(&self.env)),
            (AuthSource::ManagedIdentity, true),
        ];
        configured
            .into_iter()
            .filter(|(source, present)| match self.mode {
                AuthSource::Auto => *present,
                mode => mode == *source,
            })
            .map(|(source, _)| source)
            .collect()
    }

    /// A token for `scope` from `source`, or why it gave none.
    async fn token_from(&self, source: AuthSource, scope: &str) -> Result<AadToken, SourceFailure> {
        match source {
            AuthSource::AzCli => {
                // The cache serves only tokens of this cloud's Resource
                // Manager audience (its own, for Resource Manager; standing
                // in for the registry's): a token of one cloud never goes to
                // another's endpoints.
                let audience = self.cloud.arm_audience.as_deref();
                let resource = scope.trim_end_matches("/.default").trim_end_matches('/');
                let arm = [&self.cloud.resource_manager, &self.cloud.arm_audience]
                    .into_iter()
                    .flatten()
                    .any(|e| resource == e.trim_end_matches('/'));
                let cached = match (audience, &self.az_login) {
                    (Some(audience), Some(login)) => login.token_for(scope, arm, audience),
                    _ => None,
                };
                if let Some(cached) = cached {
                    let mut token = AadToken::new(cached.token, source);
                    token.via = Some("token cache");
                    token.arm_audience = cached.arm_audience;
                    return Ok(token);
                }
            }
            AuthSource::ManagedIdentity if self.env("IDENTITY_ENDPOINT").is_none() => {
                let client_id = self.managed_identity_client_id();
                let got = self
                    .imds
                    .token(
                        &self.client,
                        scope,
                        client_id.as_deref().map(|id| ("client_id", id)),
                    )
                    .await;
                let mut token =
                    AadToken::new(got.map_err(|e| SourceFailure(e.to_string()))?, source);
                token.via = Some("instance metadata service");
                return Ok(token);
            }
            _ => {}
        }
        let cred = self
            .credential(source)
            .map_err(|e| SourceFailure(e.to_string()))?;
        match tokio::time::timeout(self.timeout, cred.get_token(&[scope], None)).await {
            Ok(Ok(token)) => Ok(AadToken::new(Secret::new(token.token.secret()), source)),
            Ok(Err(e)) => Err(SourceFailure(first_line(&e.to_string()))),
            Err(_) => Err(SourceFailure(format!(
                "no token within {}",
                crate::duration::format_duration(self.timeout)
            ))),
        }
    }

    fn credential(&self, source: AuthSource) -> Result<Arc<dyn TokenCredential>, Unavailable> {
        let (tenant, client_id) = (self.env("AZURE_TENANT_ID"), self.env("AZURE_CLIENT_ID"));
        let sdk = |e: azure_core::Error| Unavailable::Sdk(e.to_string());
        match source {
            AuthSource::ServicePrincipal => {
                let (Some(t), Some(c), Some(secret)) =
                    (tenant, client_id, self.env("AZURE_CLIENT_SECRET"))
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
                    || self.env("AZURE_FEDERATED_TOKEN_FILE").is_none()
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
                if !az_on_path(&self.env) {
                    return Err(Unavailable::NoAzureCli);
                }
                let options = azure_identity::AzureCliCredentialOptions {
                    executor: Some(Arc::new(BoundedExecutor {
                        timeout: self.timeout,
                    })),
                    subscription: self.az_subscription.clone(),
                    ..Default::default()
                };
                azure_identity::AzureCliCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(sdk)
            }
            AuthSource::ManagedIdentity => {
                let user_assigned = self
                    .managed_identity_client_id()
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
    pub(crate) async fn aad_token(&self, scope: &str) -> Result<AadToken, NoCredential> {
        let mut failures = NoCredential {
            unsupported: unsupported_variables(&self.env),
            ..NoCredential::default()
        };
        for source in self.sources() {
            // Off Azure there is no metadata service: in auto mode that is
            // "no managed identity", not a failure worth listing.
            let probing = source == AuthSource::ManagedIdentity
                && self.mode == AuthSource::Auto
                && self.env("IDENTITY_ENDPOINT").is_none();
            if probing && !self.imds.reachable().await {
                continue;
            }
            match self.token_from(source, scope).await {
                Ok(mut token) => {
                    token.passed_over = failures
                        .tried
                        .into_iter()
                        .filter(|(s, _)| self.configured(*s))
                        .collect();
                    return Ok(token);
                }
                Err(why) => failures.tried.push((source, why.0)),
            }
        }
        Err(failures)
    }

    /// Whether the environment sets up `source` completely: a service
    /// principal or workload identity (every variable present).
    fn configured(&self, source: AuthSource) -> bool {
        let all = |names: &[&str]| names.iter().all(|n| self.env(n).is_some());
        match source {
            AuthSource::ServicePrincipal => {
                all(&["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"])
            }
            AuthSource::WorkloadIdentity => all(&[
                "AZURE_TENANT_ID",
                "AZURE_CLIENT_ID",
                "AZURE_FEDERATED_TOKEN_FILE",
            ]),
            _ => false,
        }
    }

    /// The user-assigned managed identity to ask for: `AZURE_CLIENT_ID`,
    /// as the Azure SDKs read it, unless it names a service principal or
    /// workload identity configured beside it.
    fn managed_identity_client_id(&self) -> Option<String> {
        let other = self.env("AZURE_CLIENT_SECRET").is_some()
            || self.env("AZURE_FEDERATED_TOKEN_FILE").is_some();
        self.env("AZURE_CLIENT_ID")
            .filter(|_| self.mode == AuthSource::ManagedIdentity || !other)
    }

    /// A token for the registry's own audience from the Azure CLI itself,
    /// bypassing its cache: for a registry that refuses the Resource
    /// Manager–audience token the cache holds.
    pub(crate) async fn registry_audience_from_az(&self) -> Result<AadToken, SourceFailure> {
        let setup = CredentialSetup {
            az_login: None,
            ..self.clone()
        };
        setup.token_from(AuthSource::AzCli, ACR_SCOPE).await
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
    let text = match text.split_once(" authentication failed. ") {
        Some((who, rest)) if who.ends_with("Credential") && !who.contains(' ') => rest.to_string(),
        _ => text,
    };
    unwrap_parse_error(&text).unwrap_or(text)
}

/// Azure AD's real error descriptions carry `\r\n` (before their Trace
/// ID), which azure_identity fails to read as a borrowed string; its
/// message then quotes the whole description. The description is what
/// Azure AD said: it is kept, without the parser's words or the trace lines.
fn unwrap_parse_error(text: &str) -> Option<String> {
    let (before, quoted) = text.split_once("invalid type: string \"")?;
    let (description, _) = quoted.rsplit_once("\", expected a borrowed string")?;
    let description: String = serde_json::from_str(&format!("\"{description}\""))
        .unwrap_or_else(|_| description.to_string());
    let said = description
        .split(['\r', '\n'])
        .map(str::trim)
        .take_while(|l| !l.starts_with("Trace ID:"))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Some(format!("{before}{said}"))
}

#[cfg(test)]
mod parse_error_tests {
    use super::*;

    #[test]
    fn azure_ad_descriptions_are_freed_from_parser_noise() {
        let sdk = r#"ClientSecretCredential authentication failed. invalid type: string "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 0f1e\r\nCorrelation ID: 9a8b", expected a borrowed string at line 1 column 293"#;
        assert_eq!(
            one_line(sdk),
            "AADSTS7000215: Invalid client secret provided."
        );
    }
}
