//! The Azure AD token exchanged at the login server for an ACR refresh
//! token (`POST /oauth2/exchange`).

use super::challenge::Bearer;
use super::token::{denied, form, FORM};
use crate::acr::token;
use crate::azure::credential::{AadToken, NoCredential};
use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::result::UsedCredential;
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::net::connection::Session;
use crate::secret::Secret;

/// The `registry.refresh_token` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.refresh_token",
    title: "Refresh token",
    proves:
        "An Azure AD token (the credential used is named) is exchanged at the login server for \
        a refresh token; Azure AD's AADSTS refusals are explained.",
    warnings: &[warning(
        "the Azure AD token's nbf or exp puts this machine's clock minutes off",
        "set the clock (NTP)",
    )],
    codes: &[
        ErrorCode::ConnectivityRefreshTokenError,
        ErrorCode::ConnectivityTooManyRequestsError,
        ErrorCode::CredentialNotFoundError,
    ],
    planned: Planned::WithRegistry,
};

/// The credential the Azure AD token came from, as a result names it.
fn used(aad: &AadToken) -> UsedCredential {
    UsedCredential {
        source: aad.source,
        label: aad.label(),
    }
}

/// The configured identities passed over before `aad` answered: a pass
/// becomes a warning, and any result says which identity was used instead.
fn with_passed_over(mut r: CheckResult, aad: &AadToken) -> CheckResult {
    for note in aad.passed_over_notes() {
        if r.status == crate::report::Status::Pass {
            r.status = crate::report::Status::Warn;
        }
        r = r.with_note(note);
    }
    r
}

/// How the Azure AD token is exchanged: as az does, or as the kubelet's
/// credential provider does (`access_token_refresh_token`, the token as
/// both fields, the tenant of the node's `azure.json`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Exchange<'a> {
    Az,
    Kubelet { tenant: &'a str },
}

impl Exchange<'_> {
    /// The tenant sent: the token's own (`tid`), or the node's.
    fn tenant(self, aad: &AadToken) -> Option<String> {
        match self {
            Exchange::Az => token::tenant_of(aad.token.expose()),
            Exchange::Kubelet { tenant } => Some(tenant.to_string()),
        }
    }

    /// The exchange's form fields.
    fn form<'a>(
        self,
        aad: &'a AadToken,
        bearer: &'a Bearer,
        tenant: Option<&'a str>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut pairs = match self {
            Exchange::Az => vec![("grant_type", "access_token")],
            Exchange::Kubelet { .. } => vec![
                ("grant_type", "access_token_refresh_token"),
                ("refresh_token", aad.token.expose()),
            ],
        };
        pairs.push(("service", bearer.service.as_str()));
        pairs.push(("access_token", aad.token.expose()));
        if let Some(t) = tenant {
            pairs.push(("tenant", t));
        }
        pairs
    }

    fn check(self) -> CheckId {
        match self {
            Exchange::Az => CheckId::RegistryRefreshToken,
            Exchange::Kubelet { .. } => CheckId::NodeExchange,
        }
    }
}

pub(crate) async fn refresh_token(
    session: &mut Session,
    bearer: &Bearer,
    aad: Result<AadToken, NoCredential>,
    how: Exchange<'_>,
) -> (CheckResult, Option<Secret>) {
    let id = how.check();
    let registry = session.authority();
    let aad = match aad {
        Ok(t) => t,
        Err(none) => {
            return (
                CheckResult::fail(id, ErrorCode::CredentialNotFoundError, none.describe()),
                None,
            )
        }
    };
    let tenant = how.tenant(&aad);
    let pairs = how.form(&aad, bearer, tenant.as_deref());
    let sent = session
        .send(
            http::Method::POST,
            "/oauth2/exchange",
            &[FORM],
            Some(form(&pairs)),
        )
        .await;
    let result = match sent {
        Err(why) => CheckResult::fail(
            id,
            ErrorCode::ConnectivityRefreshTokenError,
            format!("POST https://{registry}/oauth2/exchange failed: {why}."),
        ),
        Ok(r) if r.status != 200 => denied(
            id,
            ErrorCode::ConnectivityRefreshTokenError,
            &registry,
            "a refresh token",
            &r,
        ),
        Ok(r) => match token::answer_field(&r.body, r.truncated, "refresh_token") {
            Ok(refresh) => {
                let r = CheckResult::pass(
                    id,
                    format!("Fetch refresh token for registry '{registry}' : OK"),
                )
                .with_credential(used(&aad))
                .with_detail(
                    "tenant",
                    tenant.map(|t| crate::untrusted::inline(&t).shown()),
                );
                let r = token_clock(r, aad.token.expose());
                return (with_passed_over(r, &aad), Some(refresh));
            }
            Err(why) => CheckResult::fail(
                id,
                ErrorCode::ConnectivityRefreshTokenError,
                format!(
                    "Registry '{registry}' answered the exchange with 200 but no refresh \
                    token: {}.",
                    why
                ),
            )
            .with_status(200),
        },
    };
    let result = token_clock(result, aad.token.expose());
    let result = with_passed_over(result, &aad).with_credential(used(&aad));
    (result, None)
}

/// A token's own times (`nbf`, `exp`) against this machine's clock: a token
/// fresh from Azure AD that looks not yet valid, or already expired, says
/// the clock is off, which makes the registry refuse it.
fn token_clock(r: CheckResult, aad_token: &str) -> CheckResult {
    let Some(claims) = token::jwt_claims(aad_token) else {
        return r;
    };
    let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) else {
        return r;
    };
    let now = now.as_secs();
    let claim = |k: &str| claims.get(k).and_then(|v| v.as_u64());
    let off = |secs: u64| crate::duration::format_duration(std::time::Duration::from_secs(secs));
    const SLACK: u64 = 300;
    match (claim("nbf"), claim("exp")) {
        (Some(nbf), _) if nbf > now.saturating_add(SLACK) => r.with_note(format!(
            "the Azure AD token is not valid for another {} by this machine's clock: the clock is \
                behind (set it: timedatectl set-ntp true)",
            off(nbf - now)
        )),
        (_, Some(exp)) if exp.saturating_add(SLACK) < now => r.with_note(format!(
            "the Azure AD token expired {} ago by this machine's clock, though Azure AD just \
                issued it: the clock is ahead (set it: timedatectl set-ntp true)",
            off(now - exp)
        )),
        _ => r,
    }
}
