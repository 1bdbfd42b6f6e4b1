//! The credential `docker pull` will actually use for the login server: not
//! az's token, but docker's configuration (`$DOCKER_CONFIG/config.json`,
//! default `~/.docker`): `credHelpers[<login server>]`, else `credsStore`,
//! else `auths[<login server>]`; podman's `$REGISTRY_AUTH_FILE` or
//! `$XDG_RUNTIME_DIR/containers/auth.json` when docker has none. A helper
//! must be on PATH and know the server; a stored token must not have
//! expired; az writes its tokens for the user
//! `00000000-0000-0000-0000-000000000000`.

use super::login_hint::LoginHint;
use crate::acr::token::jwt_claims;
use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::env::Env;
use crate::process::go_json::nullable;
use crate::process::{self, lookup};
use crate::untrusted::Untrusted;
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The `registry.docker_credential` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.docker_credential",
    title: "Docker's credential",
    proves: "The credential docker pull itself will send for the login server: config.json's \
        credHelpers, credsStore or auths ($DOCKER_CONFIG), or podman's auth file.",
    warnings: &[
        warning(
            "no credential for the login server",
            "run az acr login -n <registry> (docker login <login server> for a registry \
                outside the cloud)",
        ),
        warning(
            "the named helper (docker-credential-<name>) is not on PATH, fails, or has no \
                entry",
            "install the helper, or log in again so that it stores one",
        ),
        warning(
            "a stored token has expired",
            "run az acr login again: its refresh token lasts \
                about three hours",
        ),
        warning(
            "a token is stored under a user other than 00000000-0000-0000-0000-000000000000",
            "ACR tokens go with that user: log in again with az acr login",
        ),
    ],
    codes: &[],
    planned: Planned::WithRegistry,
};

/// The user az (`az acr login`) stores registry tokens for.
const TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default, deserialize_with = "nullable")]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, deserialize_with = "nullable")]
    creds_store: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
struct AuthEntry {
    #[serde(default, deserialize_with = "nullable")]
    auth: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    identitytoken: Option<String>,
}

/// Where the credential comes from, as found.
enum Source {
    Helper(String),
    Stored { file: PathBuf, entry: AuthEntry },
    None,
}

fn config_files(env: &Env) -> Vec<PathBuf> {
    let env = |k: &str| env.path(k);
    let home = env("HOME").or_else(|| env("USERPROFILE"));
    let mut files = Vec::new();
    match env("DOCKER_CONFIG") {
        Some(dir) => files.push(dir.join("config.json")),
        None => files.extend(home.map(|h| h.join(".docker").join("config.json"))),
    }
    files.extend(env("REGISTRY_AUTH_FILE"));
    files.extend(env("XDG_RUNTIME_DIR").map(|d| d.join("containers").join("auth.json")));
    files
}

/// Docker's lookup for `host`: credHelpers, then credsStore, then auths
/// (keys may carry a scheme), file by file.
fn find(host: &str, env: &Env) -> Source {
    for file in config_files(env) {
        let Ok(Some(bytes)) = crate::input_file::read_if_present(&file) else {
            continue;
        };
        let Ok(mut config) = serde_json::from_slice::<DockerConfig>(&bytes) else {
            continue;
        };
        // Docker reads its own file only: an entry missing there is missing.
        let docker_file = file.ends_with("config.json");
        if let Some(helper) = config.cred_helpers.remove(host) {
            return Source::Helper(helper);
        }
        if let Some(store) = config.creds_store.filter(|s| !s.is_empty()) {
            return Source::Helper(store);
        }
        // The exact key first, as docker looks it up; then one with a
        // scheme or a path.
        let key = match config.auths.contains_key(host) {
            true => Some(host.to_string()),
            false => config
                .auths
                .keys()
                .find(|k| {
                    let bare = k
                        .trim_start_matches("https://")
                        .trim_start_matches("http://");
                    bare.split('/')
                        .next()
                        .is_some_and(|h| h.eq_ignore_ascii_case(host))
                })
                .cloned(),
        };
        if let Some(entry) = key.and_then(|k| config.auths.remove(&k)) {
            return Source::Stored { file, entry };
        }
        if docker_file {
            return Source::None;
        }
    }
    Source::None
}

/// What a stored user and secret say: a token's expiry, the token user.
fn judge_secret(login: &LoginHint, user: &str, secret: &str, from: &str) -> CheckResult {
    let id = CheckId::RegistryDockerCredential;
    let host = login.host.as_str();
    crate::secret::remember(secret);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let claims = jwt_claims(secret);
    let expiry = claims.as_ref().and_then(|c| c.get("exp")?.as_u64());
    if let Some(exp) = expiry.filter(|exp| *exp <= now) {
        let ago = crate::duration::format_duration(Duration::from_secs(now - exp));
        return CheckResult::warn(
            id,
            format!(
                "docker's credential for {host} ({from}) is a token that expired {ago} ago: \
                docker pull will be refused with 401. Run {} again.",
                login.command()
            ),
        );
    }
    let mut r = CheckResult::pass(id, format!("Docker's credential for {host} ({from}) : OK"));
    if claims.is_some() && user != TOKEN_USER {
        r = r.with_note(format!(
            "the stored secret is a registry token, but the user is '{}', not {TOKEN_USER} as az \
                acr login stores it: the registry refuses a token under another user name",
            Untrusted::new(user)
        ));
    }
    if let Some(exp) = expiry {
        r = r.with_detail("token_expires_in_secs", exp.saturating_sub(now));
    }
    r
}

/// Asks `docker-credential-<name> get` for `host`'s credential, bounded.
async fn from_helper(
    login: &LoginHint,
    name: &str,
    (env, timeout): (&Env, Duration),
) -> CheckResult {
    let id = CheckId::RegistryDockerCredential;
    let host = login.host.as_str();
    let shown = Untrusted::new(name);
    let helper = format!("docker-credential-{name}");
    let lookup::Lookup::Found(path) = lookup::find(&helper, env) else {
        return CheckResult::warn(
            id,
            format!(
                "docker uses the credential helper '{shown}' for \
            {host}, but docker-credential-{shown} is not on PATH: docker pull fails with \"error \
            getting credentials\". Install the helper, or remove it from docker's config.json."
            ),
        );
    };
    let out = process::run_with_input(&path, &["get"], Some(host.as_bytes()), timeout).await;
    let from = format!("credential helper '{shown}'");
    let answer = match out {
        Ok(out) if out.success => out.stdout,
        Ok(out) => {
            let said = process::tool_said(
                &path,
                if out.stderr.is_empty() {
                    &out.stdout
                } else {
                    &out.stderr
                },
            );
            return CheckResult::warn(
                id,
                format!(
                    "docker's {from} has no credential for {host}: {said}. Run {}.",
                    login.command()
                ),
            );
        }
        Err(e) => return CheckResult::warn(id, format!("docker's {from} {e}")),
    };
    #[derive(Deserialize)]
    struct Helper {
        #[serde(rename = "Username", default, deserialize_with = "nullable")]
        username: String,
        #[serde(rename = "Secret", default, deserialize_with = "nullable")]
        secret: String,
    }
    match serde_json::from_str::<Helper>(answer.trim()) {
        Ok(h) if !h.secret.is_empty() => judge_secret(login, &h.username, &h.secret, &from),
        _ => CheckResult::warn(
            id,
            format!("docker's {from} gave no credential for {host}."),
        ),
    }
}

/// The credential docker would send to `host` on a pull.
/// The `registry.docker_credential` check.
pub(crate) async fn check(login: &LoginHint, env: &Env, timeout: Duration) -> CheckResult {
    let id = CheckId::RegistryDockerCredential;
    let host = login.host.as_str();
    match find(host, env) {
        Source::Helper(name) => from_helper(login, &name, (env, timeout)).await,
        Source::Stored { file, entry } => {
            let from = format!("stored in {}", file.display());
            if let Some(token) = entry.identitytoken.filter(|t| !t.is_empty()) {
                return judge_secret(login, TOKEN_USER, &token, &from);
            }
            let decoded = entry
                .auth
                .and_then(|a| {
                    base64::engine::general_purpose::STANDARD
                        .decode(a.trim())
                        .ok()
                })
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            match decoded.as_deref().and_then(|d| d.split_once(':')) {
                Some((user, secret)) => judge_secret(login, user, secret, &from),
                None => CheckResult::warn(
                    id,
                    format!(
                        "docker's entry for {host} ({from}) holds no \
                    usable user and password."
                    ),
                ),
            }
        }
        Source::None => CheckResult::warn(
            id,
            format!(
                "docker has no credential for {host}: docker pull will be anonymous and \
                refused unless the registry allows anonymous pull. Run {}.",
                login.command()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_json_with_null_lists_reads_as_empty() {
        // As Go tools write an empty map: `null`.
        let text =
            r#"{"auths":null,"credsStore":null,"credHelpers":null,"currentContext":"default"}"#;
        let config: DockerConfig = serde_json::from_str(text).unwrap();
        assert!(config.auths.is_empty() && config.cred_helpers.is_empty());
        assert_eq!(config.creds_store, None);
        let entry: AuthEntry =
            serde_json::from_str(r#"{"auth":null,"identitytoken":null}"#).unwrap();
        assert!(entry.auth.is_none() && entry.identitytoken.is_none());
    }
}
