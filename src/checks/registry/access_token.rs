//! The access token (`POST` to the challenge's realm): from the refresh
//! token, or with a username and password straight through the password
//! grant; with `--repository`, which actions it grants there.

use super::challenge::Bearer;
use super::token::{denied, form, FORM};
use crate::acr::actions::Action;
use crate::acr::token;
use crate::azure::credential::PasswordLogin;
use crate::check_spec::{CheckSpec, Planned};
use crate::checks::result::Grants;
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::net::connection::Session;
use crate::report::and_list;
use crate::secret::Secret;

/// The `registry.access_token` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.access_token",
    title: "Access token",
    proves: "An access token for registry:catalog:*, or with --repository the pull, push, delete \
        and metadata actions it grants.",
    warnings: &[],
    codes: &[
        ErrorCode::ConnectivityAccessTokenError,
        ErrorCode::ConnectivityTooManyRequestsError,
    ],
    planned: Planned::WithRegistry,
};

/// What the access token is requested with.
pub(crate) enum Grant<'a> {
    Refresh(&'a Secret),
    Password(&'a PasswordLogin),
    /// A node's service principal, sent as containerd sends it: basic
    /// authentication on `GET /oauth2/token`.
    Basic {
        username: &'a str,
        secret: &'a Secret,
    },
}

impl Grant<'_> {
    /// The token request's form, and how the grant is named in details.
    fn form<'a>(
        &'a self,
        bearer: &'a Bearer,
        scope: &'a str,
    ) -> (Vec<(&'a str, &'a str)>, &'static str) {
        match self {
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
            Grant::Basic { .. } => (
                vec![("service", bearer.service.as_str()), ("scope", scope)],
                "basic authentication",
            ),
        }
    }

    /// Sends the token request: a form posted, or for basic authentication
    /// a `GET` with the form as its query.
    async fn send(
        &self,
        session: &mut Session,
        bearer: &Bearer,
        pairs: &[(&str, &str)],
    ) -> Result<crate::net::connection::Response, crate::net::error::HttpError> {
        match self {
            Grant::Basic { username, secret } => {
                use base64::Engine;
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish();
                let path = format!("{}?{query}", bearer.realm_path);
                let pair = format!("{username}:{}", secret.expose());
                let basic = base64::engine::general_purpose::STANDARD.encode(pair);
                let header = format!("Basic {basic}");
                session
                    .send(
                        http::Method::GET,
                        &path,
                        &[("authorization", &header)],
                        None,
                    )
                    .await
            }
            _ => {
                session
                    .send(
                        http::Method::POST,
                        &bearer.realm_path,
                        &[FORM],
                        Some(form(pairs)),
                    )
                    .await
            }
        }
    }
}

/// What the access token must grant: `repository:<name>:pull`.
pub(crate) struct Wanted<'a> {
    pub repository: &'a str,
    /// The registry uses ABAC repository permissions (`roleAssignmentMode`).
    pub abac: bool,
    /// The actions whose absence is a failure (`pull`, and `--require`).
    pub required: &'a [Action],
}

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

/// Reports which of pull, push, delete and metadata the token grants on the
/// repository (ACR answers 200 with a smaller grant rather than refusing),
/// and fails when a required one is missing.
pub(crate) fn check_grant(result: CheckResult, access: &Secret, wanted: &Wanted) -> CheckResult {
    let Some(granted) = granted_actions(access.expose(), wanted.repository) else {
        return result.with_note("the access token's grants could not be read (not a JWT)");
    };
    let has = |a: &str| granted.iter().any(|g| g == a || g == "*");
    let missing: Vec<String> = Action::ALL
        .iter()
        .map(|a| a.as_str())
        .filter(|a| !has(a))
        .map(str::to_string)
        .collect();
    let lacking: Vec<String> = (wanted.required.iter())
        .map(|a| a.as_str())
        .filter(|a| !has(a))
        .map(str::to_string)
        .collect();
    if lacking.is_empty() {
        let mut r = result.with_grants(Grants {
            granted: granted.clone(),
            missing: missing.clone(),
        });
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
        "'Container Registry Repository Reader' (the registry uses ABAC repository permissions: \
            assign it for this repository or the registry)"
    } else if !has("pull") {
        "'AcrPull' (or a role with Microsoft.ContainerRegistry/registries/pull/read)"
    } else {
        "'AcrPush' for push, and 'AcrDelete' for delete (or the ABAC 'Container Registry \
            Repository Writer' / 'Contributor' roles)"
    };
    CheckResult::fail(
        CheckId::RegistryAccessToken,
        ErrorCode::ConnectivityAccessTokenError,
        format!(
            "The access token grants no {} on repository '{}'. The identity needs the role {role}.",
            and_list(&lacking),
            wanted.repository,
        ),
    )
    .with_grants(Grants { granted, missing })
}

pub(crate) async fn access_token(
    session: &mut Session,
    bearer: &Bearer,
    grant: Grant<'_>,
    (scope, repository): (&str, Option<&str>),
) -> (CheckResult, Option<Secret>) {
    let id = CheckId::RegistryAccessToken;
    let registry = session.authority();
    let (pairs, via) = grant.form(bearer, scope);
    let sent = grant.send(session, bearer, &pairs).await;
    let mut access = None;
    let result = match sent {
        Err(why) => CheckResult::fail(
            id,
            ErrorCode::ConnectivityAccessTokenError,
            format!(
                "POST https://{registry}{} failed: {why}.",
                bearer.realm_path
            ),
        ),
        Ok(r) if r.status != 200 => denied(
            id,
            ErrorCode::ConnectivityAccessTokenError,
            &registry,
            "an access token",
            &r,
        ),
        Ok(r) => match token::answer_field(&r.body, r.truncated, "access_token") {
            Ok(token) => {
                access = Some(token);
                // az's line names the repository when the token is for one.
                let what = match repository {
                    Some(repo) => format!("repository '{repo}' in registry"),
                    None => "registry".to_string(),
                };
                CheckResult::pass(
                    id,
                    format!("Fetch access token for {what} '{registry}' : OK"),
                )
            }
            Err(why) => CheckResult::fail(
                id,
                ErrorCode::ConnectivityAccessTokenError,
                format!(
                    "Registry '{registry}' answered the token request with 200 but no access \
                    token: {}.",
                    why
                ),
            )
            .with_status(200),
        },
    };
    let result = result
        .with_detail("scope", scope)
        .with_detail("grant", via)
        .with_detail("connections", session.connections);
    (result, access)
}
