//! The pull itself: with `--image` and consent (`--yes`, or a "y" at the
//! prompt), the docker daemon pulls exactly `<login server>/<repo>:<tag>`
//! with the credential it would use, bounded in time, and what it answers
//! (unauthorized, manifest unknown, no matching manifest, proxyconnect,
//! x509, TLS handshake timeout, toomanyrequests) becomes the matching code
//! with the daemon's own sentence as the cause. An image that was there
//! before is left; one the pull added is removed again.

use super::login_hint::LoginHint;
use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::process::{self, tool_said};
use std::path::Path;
use std::time::Duration;

/// The `registry.docker_pull` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.docker_pull",
    title: "Pull through the docker daemon",
    proves: "With --image and --yes: the docker daemon pulls <login server>/<repository>:<tag> \
        itself, with its own credential, proxy and trust; an image it added is removed again.",
    warnings: &[],
    codes: &[
        ErrorCode::ConnectivityAccessTokenError,
        ErrorCode::ImagePullError,
        ErrorCode::ConnectivitySslError,
        ErrorCode::ConnectivityChallengeError,
        ErrorCode::ConnectivityTooManyRequestsError,
        ErrorCode::ConnectivityForbiddenError,
        ErrorCode::ConnectivityDnsError,
        ErrorCode::DockerPullError,
    ],
    planned: Planned::WithImage,
};

/// The code for what the daemon said, by the words docker and containerd use.
fn code_for(stderr: &str) -> ErrorCode {
    let s = stderr.to_ascii_lowercase();
    if s.contains("is not allowed access") {
        ErrorCode::ConnectivityForbiddenError
    } else if s.contains("no such host") {
        ErrorCode::ConnectivityDnsError
    } else if s.contains("x509") || s.contains("tls handshake") || s.contains("certificate") {
        ErrorCode::ConnectivitySslError
    } else if s.contains("toomanyrequests") || s.contains("too many requests") {
        ErrorCode::ConnectivityTooManyRequestsError
    } else if s.contains("unauthorized")
        || s.contains("authentication required")
        || s.contains("denied")
    {
        ErrorCode::ConnectivityAccessTokenError
    } else if s.contains("proxyconnect") || s.contains("i/o timeout") {
        ErrorCode::ConnectivityChallengeError
    } else if s.contains("manifest unknown")
        || s.contains("not found")
        || s.contains("no matching manifest")
    {
        ErrorCode::ImagePullError
    } else {
        ErrorCode::DockerPullError
    }
}

/// What to do when the daemon failed where this run's own requests did not:
/// the daemon has its own proxy and its own credentials.
fn hint(stderr: &str, login: &LoginHint) -> Option<String> {
    let login_server = login.host.as_str();
    let s = stderr.to_ascii_lowercase();
    if s.contains("proxyconnect") {
        Some(
            "The daemon's own proxy (its environment, e.g. a systemd drop-in for docker.service) \
            failed; fix or remove it and restart the daemon."
                .into(),
        )
    } else if s.contains("x509") || s.contains("certificate signed by unknown authority") {
        Some(format!(
            "The daemon checks the registry's certificate against the system's trust \
            store and /etc/docker/certs.d/{login_server}/ca.crt, not this shell's (--ca-file, \
            SSL_CERT_FILE, REQUESTS_CA_BUNDLE): put the CA that signed it (a TLS-inspecting \
            proxy's root, for example) in one of them."
        ))
    } else if s.contains("unauthorized") || s.contains("authentication required") {
        Some(format!(
            "The daemon had no valid credential for '{login_server}': run {}.",
            login.command()
        ))
    } else {
        None
    }
}

/// The daemon's own sentence, then what to do about it on a line of its own.
fn failure_message(docker: &Path, reference: &str, said: &str, login: &LoginHint) -> String {
    let mut message = format!(
        "The docker daemon could not pull '{reference}'. {}",
        tool_said(docker, said)
    );
    if let Some(hint) = hint(said, login) {
        message.push('\n');
        message.push_str(&hint);
    }
    message
}

/// Pulls `reference` through the daemon of `docker`, within `timeout`.
pub(crate) async fn check(
    docker: &Path,
    (reference, login): (&str, &LoginHint),
    timeout: Duration,
) -> CheckResult {
    let id = CheckId::RegistryDockerPull;
    let short = Duration::from_secs(10).min(timeout);
    // Only a clear "no such image" means the pull adds it; anything else
    // (a timeout, a daemon error) leaves whatever is there alone.
    let absent = process::run(docker, &["image", "inspect", reference], short)
        .await
        .is_ok_and(|o| !o.success && o.stderr.to_ascii_lowercase().contains("no such image"));
    let out = process::run(docker, &["pull", reference], timeout).await;
    let result = match out {
        Ok(o) if o.success => CheckResult::pass(id, format!("Docker pull of '{reference}' : OK")),
        Ok(o) => {
            let said = if o.stderr.trim().is_empty() {
                &o.stdout
            } else {
                &o.stderr
            };
            CheckResult::fail(
                id,
                code_for(said),
                failure_message(docker, reference, said, login),
            )
        }
        Err(e) => CheckResult::fail(
            id,
            ErrorCode::DockerPullError,
            format!("'{} pull {reference}' {e}", docker.display()),
        ),
    };
    if result.status == crate::report::Status::Pass && absent {
        // Leave the machine as it was.
        let removed = process::run(docker, &["image", "rm", reference], short)
            .await
            .is_ok_and(|o| o.success);
        return result.with_note(if removed {
            "the image was not here before and was removed again"
        } else {
            "the image was not here before; removing it again failed (docker image rm)"
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_what_the_daemon_says() {
        let cases = [
            ("Error response from daemon: Head \"https://r.azurecr.io/v2/a/manifests/v1\": \
                unauthorized: authentication required", ErrorCode::ConnectivityAccessTokenError),
            ("Error response from daemon: manifest for r.azurecr.io/a:v9 not found: manifest \
                unknown", ErrorCode::ImagePullError),
            ("no matching manifest for linux/arm64/v8 in the manifest list entries", ErrorCode::ImagePullError),
            ("Error response from daemon: Get \"https://r.azurecr.io/v2/\": proxyconnect tcp: dial \
                tcp 10.0.0.1:3128: connect: connection \
                refused", ErrorCode::ConnectivityChallengeError),
            ("Error response from daemon: Get \"https://r.azurecr.io/v2/\": tls: failed to verify \
                certificate: x509: certificate signed by unknown \
                authority", ErrorCode::ConnectivitySslError),
            ("Error response from daemon: Get \"https://r.azurecr.io/v2/\": net/http: TLS \
                handshake timeout", ErrorCode::ConnectivitySslError),
            ("toomanyrequests: too many requests", ErrorCode::ConnectivityTooManyRequestsError),
            ("denied: client with IP '203.0.113.7' is not allowed access", ErrorCode::ConnectivityForbiddenError),
            ("dial tcp: lookup r.azurecr.io: no such host", ErrorCode::ConnectivityDnsError),
            ("something else entirely", ErrorCode::DockerPullError),
        ];
        for (said, code) in cases {
            assert_eq!(code_for(said), code, "{said}");
        }
    }
}
