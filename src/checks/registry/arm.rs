//! Reading the registry from Azure Resource Manager: its login server, its
//! network rules, data endpoints and encryption identity. When it cannot be
//! read the run goes on with the name + suffix login server.

use crate::azure::arm::{self, ArmError, ArmTarget, ArmUnused, Registry, REGISTRY_API};
use crate::azure::credential::{CredentialSetup, NoCredential};
use crate::azure::documents::Replications;
use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::net::https_client::Client;
use crate::secret::Secret;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// The `registry.arm` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.arm",
    title: "Resource Manager",
    proves: "Resource Manager finds the registry (subscription from --subscription, \
        AZURE_SUBSCRIPTION_ID or az's default): its real login server, network rules, data and \
        regional endpoints, replicas and encryption identity.",
    warnings: &[
        warning(
            "Resource Manager was not used or did not answer (no subscription, no token, \
                403, not \
                found)",
            "the checks that need its facts are skipped; give the identity Reader on \
                    the registry, or pass --subscription / -g",
        ),
        warning(
            "the registry refuses Resource Manager-audience Azure AD tokens \
                (policies.azureADAuthenticationAsArmPolicy \
                disabled)",
            "clients that exchange such a token are refused (older AKS kubelet \
                    credential providers, App Service and Container Apps pulls): give them a token \
                    for https://containerregistry.azure.net, or enable the policy with az acr \
                    config authentication-as-arm update --status enabled",
        ),
    ],
    codes: &[],
    planned: Planned::WithRegistry,
};

/// The registry's replications as Resource Manager answered.
pub(crate) type ReplicationsRead = Result<Option<Replications>, ArmError>;

/// The registry as read, with what is needed to read more.
pub(crate) struct Found {
    pub registry: Registry,
    pub token: Secret,
    pub client: Arc<Client>,
    pub endpoint: String,
    /// The replications, asked as soon as the registry is known so that
    /// the request runs alongside the walk instead of after it.
    replications: Mutex<Option<JoinHandle<ReplicationsRead>>>,
}

impl Found {
    /// The replications asked for at lookup (once; `None` when they were
    /// not asked for or have been taken).
    pub(crate) async fn replications(&self) -> Option<ReplicationsRead> {
        let handle = self.replications.lock().ok()?.take()?;
        handle.await.ok()
    }
}

impl Drop for Found {
    fn drop(&mut self) {
        if let Some(handle) = self.replications.get_mut().ok().and_then(Option::take) {
            handle.abort();
        }
    }
}

/// Starts reading `{registry}/replications`.
fn ask_replications(
    client: &Arc<Client>,
    token: &Secret,
    endpoint: &str,
    registry: &Registry,
) -> JoinHandle<ReplicationsRead> {
    let (client, token, endpoint) = (client.clone(), token.clone(), endpoint.to_string());
    let path = format!("{}/replications", registry.id());
    tokio::spawn(async move {
        arm::get_resource::<Replications>(&client, &token, &endpoint, &path, REGISTRY_API).await
    })
}

/// Why Resource Manager gave nothing (a warning: the registry may be
/// elsewhere, or the identity may lack the Reader role).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArmFailure {
    #[error("no Azure AD token for Resource Manager ({})", .0.describe())]
    NoToken(NoCredential),
    #[error("{0}; is the registry in another subscription (--subscription) or cloud (--cloud)?")]
    NotFound(ArmError),
    #[error("{0}")]
    Refused(ArmError),
    #[error("lookup failed: {0}")]
    Aborted(String),
}

/// What Resource Manager answered about the registry.
pub(crate) type Outcome = Result<Found, ArmFailure>;

/// Finds the registry; with `replications`, starts reading its replications
/// at once.
pub(crate) async fn lookup(
    setup: CredentialSetup,
    target: ArmTarget,
    replications: bool,
) -> Outcome {
    // az asks for the cloud's Resource Manager audience
    // (`endpoint_active_directory_resource_id`), which in a custom cloud
    // such as Azure Stack is not the endpoint's own address.
    let scope = match setup.cloud.arm_audience.as_deref() {
        Some(audience) => format!("{audience}/.default"),
        None => format!("{}/.default", target.endpoint.trim_end_matches('/')),
    };
    let token = setup
        .aad_token(&scope)
        .await
        .map_err(ArmFailure::NoToken)?
        .token;
    match arm::find_registry(&setup.client, &token, &target).await {
        Ok(registry) => Ok(Found {
            replications: Mutex::new(
                replications
                    .then(|| ask_replications(&setup.client, &token, &target.endpoint, &registry)),
            ),
            registry,
            token,
            client: setup.client.clone(),
            endpoint: target.endpoint.clone(),
        }),
        Err(e) if e.is_not_found() => Err(ArmFailure::NotFound(e)),
        Err(e) => Err(ArmFailure::Refused(e)),
    }
}

/// The `registry.arm` result: `config` says whether Resource Manager could
/// be asked at all, `outcome` what it answered.
pub(crate) fn result(
    config: &Result<ArmTarget, ArmUnused>,
    outcome: Option<&Outcome>,
) -> CheckResult {
    let id = CheckId::RegistryArm;
    match (config, outcome) {
        (Err(why), _) => CheckResult::skip(id, format!("Resource Manager not used: {why}")),
        (Ok(_), None) => CheckResult::skip(id, "Resource Manager not asked"),
        (Ok(_), Some(Err(why))) => CheckResult::warn(
            id,
            format!(
                "Resource Manager not used: {why}. Checks that need the registry's properties \
                are skipped."
            ),
        ),
        (Ok(t), Some(Ok(found))) if found.registry.refuses_arm_audience() => {
            let r = &found.registry;
            CheckResult::warn(
                id,
                format!(
                    "Registry '{}' found in Resource Manager (subscription {}), and it refuses \
                        Resource Manager-audience Azure AD tokens \
                        (policies.azureADAuthenticationAsArmPolicy is disabled). Clients that \
                        exchange such a token are refused with 401: AKS's kubelet credential \
                        provider on older clusters, App Service and Container Apps pulls with a \
                        managed identity, and tools that exchange az's Resource Manager token. az \
                        check-health switches audience silently; give those clients a token for \
                        https://containerregistry.azure.net, or enable the policy (az acr config \
                        authentication-as-arm update --status enabled).",
                    t.name, t.subscription
                ),
            )
            .with_detail("id", r.id())
            .with_detail("azure_ad_authentication_as_arm", "disabled")
        }
        (Ok(t), Some(Ok(found))) => {
            let r = &found.registry;
            CheckResult::pass(
                id,
                format!(
                    "Registry '{}' found in Resource Manager (subscription {})",
                    t.name, t.subscription
                ),
            )
            .with_detail("id", r.id())
            .with_detail("login_server", r.login_server())
            .with_detail("public_network_access", r.public_network_access())
            .with_detail("default_action", r.default_action())
            .with_detail("data_endpoints", r.data_endpoints())
        }
    }
}
