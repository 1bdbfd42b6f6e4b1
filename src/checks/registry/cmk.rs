//! Customer-managed key: the identity the registry's encryption uses to
//! reach its key vault must exist.

use super::arm::Found;
use crate::azure::arm::{self, IDENTITY_API};
use crate::azure::documents::IdentityResource;
use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::untrusted::inline;

/// The `registry.cmk` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.cmk",
    title: "Customer-managed key identity",
    proves: "The identity the customer-managed key uses exists (system-assigned, or the \
        user-assigned identity with that client id).",
    warnings: &[],
    codes: &[ErrorCode::CmkError],
    planned: Planned::WithRegistry,
};

pub(crate) async fn check(found: &Found) -> CheckResult {
    let id = CheckId::RegistryCmk;
    let registry = &found.registry;
    let Some(identity) = registry.cmk_identity() else {
        return CheckResult::pass(
            id,
            "Customer-managed key: not used (Microsoft-managed encryption)",
        );
    };
    if identity.eq_ignore_ascii_case("system") {
        return match registry.system_principal() {
            Some(p) => CheckResult::pass(
                id,
                format!(
                    "Customer-managed key identity: system-assigned (principal {}) : OK",
                    inline(p)
                ),
            ),
            None => CheckResult::fail(
                id,
                ErrorCode::CmkError,
                "The registry's encryption uses its system-assigned identity, but the registry has \
                    no system-assigned identity (identity.principalId is missing).",
            ),
        };
    }
    let shown = inline(identity);
    let Some(resource) = registry.user_identity_with_client(identity) else {
        return CheckResult::fail(
            id,
            ErrorCode::CmkError,
            format!(
                "The registry's encryption uses the managed identity with client id \
                {shown}, but no user-assigned identity of the registry has that client id."
            ),
        )
        .with_detail("client_id", identity);
    };
    user_assigned(found, identity, &resource)
        .await
        .with_detail("identity", resource)
}

/// The user-assigned identity `resource` the key uses: it must still exist
/// with the client id `client_id`.
async fn user_assigned(found: &Found, client_id: &str, resource: &str) -> CheckResult {
    let id = CheckId::RegistryCmk;
    let read = arm::get_resource::<IdentityResource>(
        &found.client,
        &found.token,
        &found.endpoint,
        resource,
        IDENTITY_API,
    );
    // Resource Manager's text, shown inside lines of the report.
    let (identity, resource) = (inline(client_id), inline(resource));
    match read.await {
        Ok(Some(doc)) if doc.properties.client_id.eq_ignore_ascii_case(client_id) => {
            let line = format!("Customer-managed key identity: {resource} : OK");
            CheckResult::pass(id, line)
        }
        Ok(Some(_)) => CheckResult::fail(
            id,
            ErrorCode::CmkError,
            format!(
                "The identity {resource} exists but its client id is no longer {identity}: it \
                was deleted and re-created."
            ),
        ),
        Ok(None) => CheckResult::fail(
            id,
            ErrorCode::CmkError,
            format!(
                "The managed identity {resource} (client id {identity}) used for the \
                registry's encryption no longer exists."
            ),
        ),
        Err(why) => CheckResult::warn(
            id,
            format!("Customer-managed key identity {resource} could not be read: {why}"),
        ),
    }
}
