//! The `/v2/` challenge: an anonymous request must be answered 401 with a
//! Bearer challenge naming the registry's token endpoint.

use super::CheckId;
use crate::acr::{error_body, www_authenticate};
use crate::codes::ErrorCode;
use crate::net::connection::{Response, Session};
use crate::report::CheckResult;
use crate::target::LoginServer;
use crate::untrusted::Untrusted;

/// Where and for which service tokens are requested.
#[derive(Clone, Debug)]
pub struct Bearer {
    /// Path of the realm on the login server, e.g. `/oauth2/token`.
    pub realm_path: String,
    pub service: String,
}

fn body_start(r: &Response) -> String {
    let text = r.text();
    // Masked before it is cut, so that no secret is left half shown.
    let text = crate::secret::scrub(&text);
    let start: String = text.trim().chars().take(200).collect();
    let start = Untrusted::new(start).shown();
    let cut = if r.truncated {
        format!(
            " (body cut off at {} MiB)",
            crate::net::connection::BODY_LIMIT / (1024 * 1024)
        )
    } else {
        String::new()
    };
    if start.is_empty() {
        format!("(empty body){cut}")
    } else {
        format!("{start}{cut}")
    }
}

pub async fn check(session: &mut Session, ls: &LoginServer) -> (CheckResult, Option<Bearer>) {
    let id = CheckId::Challenge;
    let url = format!("https://{}/v2/", ls.authority());
    let response = match session.send(http::Method::GET, "/v2/", &[], None).await {
        Ok(r) => r,
        Err(why) => {
            return (
                CheckResult::fail(
                    id,
                    ErrorCode::ConnectivityChallengeError,
                    format!(
                        "Registry '{}' did not issue a challenge: GET {url} failed: {why}.",
                        ls.authority()
                    ),
                ),
                None,
            )
        }
    };
    let status = response.status;
    let fail =
        |code, detail: String| CheckResult::fail(id, code, detail).with_detail("status", status);
    match status {
        401 => {}
        403 => {
            let ip = error_body::denied_client_ip(&response.body);
            let mut detail = format!(
                "Looks like you don't have access to registry '{}': GET {url} answered 403 Forbidden.",
                ls.authority()
            );
            match &ip {
                Some(ip) => detail.push_str(&format!(
                    " The registry sees this client as {ip}, which its firewall does not allow."
                )),
                None => detail.push_str(&format!(" {}", body_start(&response))),
            }
            let mut r = fail(ErrorCode::ConnectivityForbiddenError, detail);
            if let Some(ip) = ip {
                r = r.with_detail("client_ip", ip);
            }
            return (r, None);
        }
        300..=399 => {
            let to = match response.header("location") {
                Some(l) => Untrusted::new(l).shown(),
                None => "(no Location)".to_string(),
            };
            return (
                fail(
                    ErrorCode::ConnectivityChallengeError,
                    format!("Registry '{}' did not issue a challenge: GET {url} was redirected ({status}) to {to}; a registry never redirects /v2/, so something else is answering.", ls.authority()),
                )
                .with_detail("location", to),
                None,
            );
        }
        _ => {
            return (
                fail(
                    ErrorCode::ConnectivityChallengeError,
                    format!("Registry '{}' did not issue a challenge: GET {url} answered {status}, not 401. Body: {}", ls.authority(), body_start(&response)),
                ),
                None,
            )
        }
    }
    let headers: Vec<&str> = response
        .headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return (
            fail(
                ErrorCode::ConnectivityChallengeError,
                format!("Registry '{}' did not issue a challenge: GET {url} answered 401 without a WWW-Authenticate header.", ls.authority()),
            ),
            None,
        );
    }
    let challenges: Vec<_> = headers
        .iter()
        .flat_map(|h| www_authenticate::parse(h))
        .collect();
    let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
    let bearer = challenges.iter().find(|c| c.scheme == "bearer");
    let (realm, service) = match bearer.map(|b| (b.param("realm"), b.param("service"))) {
        Some((Some(realm), Some(service))) => (realm.to_string(), service.to_string()),
        _ => {
            let what = match bearer {
                Some(_) => "a Bearer challenge without a realm or service".to_string(),
                None => format!("only {} authentication", Untrusted::new(schemes.join(", "))),
            };
            return (
                fail(
                    ErrorCode::ConnectivityAadLoginError,
                    format!(
                        "Registry '{}' does not support AAD login: its challenge offers {what}.",
                        ls.authority()
                    ),
                ),
                None,
            );
        }
    };
    // Credentials go only to the login server itself, over HTTPS.
    let realm_url = url::Url::parse(&realm);
    let on_login_server = realm_url
        .as_ref()
        .is_ok_and(|u| crate::net::origin::is_https_origin(u, &ls.host, ls.port));
    if !on_login_server {
        let host = match &realm_url {
            Ok(u) => crate::net::origin::describe(u),
            Err(_) => Untrusted::new(&realm).shown(),
        };
        return (
            fail(
                ErrorCode::ConnectivityChallengeError,
                format!("Registry '{}' issued a challenge whose token endpoint (realm) is {host}, not the login server over HTTPS. No credential was sent there: something other than the registry (a proxy, a DNS entry) may be answering.", ls.authority()),
            )
            .with_detail("realm", realm),
            None,
        );
    }
    let realm_path = realm_url.map(|u| u.path().to_string()).unwrap_or_default();
    let r = CheckResult::pass(id, format!("Challenge endpoint {url} : OK"))
        .with_detail("realm", realm)
        .with_detail("service", service.clone());
    (
        r,
        Some(Bearer {
            realm_path,
            service,
        }),
    )
}
