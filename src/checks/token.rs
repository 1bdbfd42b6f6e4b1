//! The token steps: an Azure AD token exchanged for an ACR refresh token
//! (`/oauth2/exchange`), then an access token (`/oauth2/token`); or, with a
//! username and password, the password grant straight to an access token.

use super::challenge::Bearer;
use super::CheckId;
use crate::acr::{error_body, token};
use crate::azure::credential::{AadToken, NoCredential, PasswordLogin};
use crate::codes::ErrorCode;
use crate::net::connection::{Response, Session};
use crate::report::{and_list, CheckResult};
use crate::secret::Secret;
use bytes::Bytes;

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// What the access token is requested with.
pub enum Grant<'a> {
    Refresh(&'a Secret),
    Password(&'a PasswordLogin),
}

fn form(pairs: &[(&str, &str)]) -> Bytes {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    Bytes::from(s.finish())
}

/// `Retry-After` as a person reads it.
pub fn describe_retry_after(value: Option<&str>) -> String {
    match value.map(str::trim) {
        None | Some("") => "The registry sent no Retry-After; wait a minute before trying again.".into(),
        Some(v) => match v.parse::<u64>() {
            Ok(secs) if secs > 86_400 => format!("The registry asks to retry after {secs} seconds (Retry-After: {v}), an implausibly long time; wait a few minutes and try again."),
            Ok(secs) => format!("The registry asks to retry after {secs} seconds (Retry-After: {v})."),
            Err(_) => {
                let shown: String = v.chars().take(64).collect();
                let shown = crate::untrusted::inline(&shown);
                format!("The registry asks to retry after {shown} (Retry-After).")
            }
        },
    }
}

/// The failure for a non-200 answer of a token endpoint.
fn denied(id: CheckId, code: ErrorCode, registry: &str, what: &str, r: &Response) -> CheckResult {
    if r.status == 429 {
        let retry = r.header("retry-after").map(|v| v.into_owned());
        return CheckResult::fail(
            id,
            ErrorCode::ConnectivityTooManyRequestsError,
            format!(
                "Too many requests to registry '{registry}' while fetching {what} (HTTP 429). {}",
                describe_retry_after(retry.as_deref())
            ),
        )
        .with_detail("status", 429)
        .with_detail("retry_after", retry);
    }
    let acr = error_body::summary(&r.body)
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    CheckResult::fail(
        id,
        code,
        format!(
            "The registry refused to issue {what} (HTTP {}).{acr}",
            r.status
        ),
    )
    .with_detail("status", r.status)
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

pub async fn refresh_token(
    session: &mut Session,
    bearer: &Bearer,
    aad: Result<AadToken, NoCredential>,
) -> (CheckResult, Option<Secret>) {
    let id = CheckId::RefreshToken;
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
    let tenant = token::tenant_of(aad.token.expose());
    let mut pairs = vec![
        ("grant_type", "access_token"),
        ("service", bearer.service.as_str()),
        ("access_token", aad.token.expose()),
    ];
    if let Some(t) = &tenant {
        pairs.push(("tenant", t.as_str()));
    }
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
        Ok(r) => match token::token_field(&r.body, "refresh_token") {
            Ok(refresh) => {
                let r = CheckResult::pass(
                    id,
                    format!("Fetch refresh token for registry '{registry}' : OK"),
                )
                .with_detail("credential", aad.label())
                .with_detail("tenant", tenant.map(|t| crate::untrusted::inline(&t).shown()));
                let r = token_clock(r, aad.token.expose());
                return (with_passed_over(r, &aad), Some(refresh));
            }
            Err(why) => CheckResult::fail(
                id,
                ErrorCode::ConnectivityRefreshTokenError,
                format!("Registry '{registry}' answered the exchange with 200 but no refresh token: {}.", why),
            )
            .with_detail("status", 200),
        },
    };
    let result = token_clock(result, aad.token.expose());
    let result = with_passed_over(result, &aad).with_detail("credential", aad.label());
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
            "the Azure AD token is not valid for another {} by this machine's clock: the clock is behind (set it: timedatectl set-ntp true)",
            off(nbf - now)
        )),
        (_, Some(exp)) if exp.saturating_add(SLACK) < now => r.with_note(format!(
            "the Azure AD token expired {} ago by this machine's clock, though Azure AD just issued it: the clock is ahead (set it: timedatectl set-ntp true)",
            off(now - exp)
        )),
        _ => r,
    }
}

/// What the access token must grant: `repository:<name>:pull`.
pub struct Wanted<'a> {
    pub repository: &'a str,
    /// The registry uses ABAC repository permissions (`roleAssignmentMode`).
    pub abac: bool,
    /// The actions whose absence is a failure (`pull`, and `--require`).
    pub required: &'a [String],
}

/// The repository actions az asks for and reports on, in its order.
pub const REPOSITORY_ACTIONS: [&str; 5] =
    ["pull", "push", "metadata_write", "metadata_read", "delete"];

/// The actions an ACR access token grants on `repository`.
fn granted_actions(token: &str, repository: &str) -> Option<Vec<String>> {
    let claims = token::jwt_claims(token)?;
    let access = claims.get("access")?.as_array()?;
    Some(
        access
            .iter()
            .filter(|a| a["type"] == "repository" && a["name"] == repository)
            .flat_map(|a| a["actions"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(|s| crate::untrusted::inline(s).shown()))
            .collect(),
    )
}

/// az's line for a token asked for a repository: `Fetch access token for
/// repository 'R' in registry 'L' : OK`.
fn for_repository(mut result: CheckResult, repository: &str) -> CheckResult {
    if result.status == crate::report::Status::Pass {
        result.message = result.message.replacen(
            "Fetch access token for registry ",
            &format!("Fetch access token for repository '{repository}' in registry "),
            1,
        );
    }
    result
}

/// Reports which of pull, push, delete and metadata the token grants on the
/// repository (ACR answers 200 with a smaller grant rather than refusing),
/// and fails when a required one is missing.
pub fn check_grant(result: CheckResult, access: &Secret, wanted: &Wanted) -> CheckResult {
    let Some(granted) = granted_actions(access.expose(), wanted.repository) else {
        return for_repository(result, wanted.repository)
            .with_note("the access token's grants could not be read (not a JWT)");
    };
    let has = |a: &str| granted.iter().any(|g| g == a || g == "*");
    let missing: Vec<String> = REPOSITORY_ACTIONS
        .iter()
        .filter(|a| !has(a))
        .map(|a| a.to_string())
        .collect();
    let lacking: Vec<&String> = wanted.required.iter().filter(|a| !has(a)).collect();
    if lacking.is_empty() {
        let mut r = for_repository(result, wanted.repository)
            .with_detail("granted_actions", granted.clone())
            .with_detail("missing_actions", missing.clone());
        if !missing.is_empty() {
            r = r.with_note(format!(
                "repository '{}': granted {}; not granted {}",
                wanted.repository,
                and_list(&granted),
                and_list(&missing)
            ));
        }
        return r;
    }
    let role = if !has("pull") && wanted.abac {
        "'Container Registry Repository Reader' (the registry uses ABAC repository permissions: assign it for this repository or the registry)"
    } else if !has("pull") {
        "'AcrPull' (or a role with Microsoft.ContainerRegistry/registries/pull/read)"
    } else {
        "'AcrPush' for push, and 'AcrDelete' for delete (or the ABAC 'Container Registry Repository Writer' / 'Contributor' roles)"
    };
    let lacking: Vec<String> = lacking.into_iter().cloned().collect();
    CheckResult::fail(
        CheckId::AccessToken,
        ErrorCode::ConnectivityAccessTokenError,
        format!(
            "The access token grants no {} on repository '{}'. The identity needs the role {role}.",
            and_list(&lacking),
            wanted.repository,
        ),
    )
    .with_detail("granted_actions", granted)
    .with_detail("missing_actions", missing)
}

pub async fn access_token(
    session: &mut Session,
    bearer: &Bearer,
    grant: Grant<'_>,
    scope: &str,
) -> (CheckResult, Option<Secret>) {
    let id = CheckId::AccessToken;
    let registry = session.authority();
    let (pairs, via) = match &grant {
        Grant::Refresh(refresh) => (
            vec![
                ("grant_type", "refresh_token"),
                ("service", bearer.service.as_str()),
                ("scope", scope),
                ("refresh_token", refresh.expose()),
            ],
            "refresh token",
        ),
        Grant::Password(login) => (
            vec![
                ("grant_type", "password"),
                ("service", bearer.service.as_str()),
                ("scope", scope),
                ("username", login.username.as_str()),
                ("password", login.password.expose()),
            ],
            "username and password",
        ),
    };
    let sent = session
        .send(
            http::Method::POST,
            &bearer.realm_path,
            &[FORM],
            Some(form(&pairs)),
        )
        .await;
    let mut access = None;
    let result = match sent {
        Err(why) => CheckResult::fail(
            id,
            ErrorCode::ConnectivityAccessTokenError,
            format!("POST https://{registry}{} failed: {why}.", bearer.realm_path),
        ),
        Ok(r) if r.status != 200 => denied(
            id,
            ErrorCode::ConnectivityAccessTokenError,
            &registry,
            "an access token",
            &r,
        ),
        Ok(r) => match token::token_field(&r.body, "access_token") {
            Ok(token) => {
                access = Some(token);
                CheckResult::pass(id, format!("Fetch access token for registry '{registry}' : OK"))
            }
            Err(why) => CheckResult::fail(
                id,
                ErrorCode::ConnectivityAccessTokenError,
                format!("Registry '{registry}' answered the token request with 200 but no access token: {}.", why),
            )
            .with_detail("status", 200),
        },
    };
    let result = result
        .with_detail("scope", scope)
        .with_detail("grant", via)
        .with_detail("connections", session.connections);
    (result, access)
}
