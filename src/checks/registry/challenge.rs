//! The `/v2/` challenge: an anonymous request must be answered 401 with a
//! Bearer challenge naming the registry's token endpoint.

use crate::acr::{error_body, www_authenticate};
use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::net::connection::{Response, Session};
use crate::target::LoginServer;
use crate::untrusted::Untrusted;

/// The `registry.challenge` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.challenge",
    title: "Challenge endpoint",
    proves: "GET /v2/ answers 401 with a Bearer challenge whose realm is the login server itself.",
    warnings: &[warning(
        "this machine's clock is minutes away from the registry's Date header",
        "tokens look expired or not yet valid: set the clock (NTP)",
    )],
    codes: &[
        ErrorCode::ConnectivityForbiddenError,
        ErrorCode::ConnectivityChallengeError,
        ErrorCode::ConnectivityAadLoginError,
    ],
    planned: Planned::WithRegistry,
};

/// Where and for which service tokens are requested.
#[derive(Clone, Debug)]
pub(crate) struct Bearer {
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

/// What `GET /v2/` answered, for the steps after it.
pub(crate) enum Answer {
    /// A usable Bearer challenge: the token steps can go on.
    Bearer(Bearer),
    /// 403: refused, by the registry's firewall or something else.
    Forbidden(Forbidden),
    /// Anything else: the walk stops here.
    Nothing,
}

/// A 403 on `/v2/`.
pub(crate) struct Forbidden {
    /// The address the registry's firewall saw, when its answer names it.
    pub client_ip: Option<std::net::IpAddr>,
}

/// The `registry.challenge` check.
pub(crate) async fn check(session: &mut Session, ls: &LoginServer) -> (CheckResult, Answer) {
    let url = format!("https://{}/v2/", ls.authority());
    let not_issued = |detail: String| {
        let text = format!(
            "Registry '{}' did not issue a challenge: GET {url} {detail}",
            ls.authority()
        );
        CheckResult::fail(
            CheckId::RegistryChallenge,
            ErrorCode::ConnectivityChallengeError,
            text,
        )
    };
    let response = match session.send(http::Method::GET, "/v2/", &[], None).await {
        Ok(r) => r,
        Err(why) => return (not_issued(format!("failed: {why}.")), Answer::Nothing),
    };
    let status = response.status;
    let mut answer = Answer::Nothing;
    let result = match status {
        401 => {
            let (r, bearer) = bearer_challenge(&response, ls, &url, not_issued);
            let r = clock_skew(r, response.header("date").as_deref());
            return (r, bearer.map_or(Answer::Nothing, Answer::Bearer));
        }
        403 => {
            let (r, refused) = forbidden(&response, &url);
            answer = Answer::Forbidden(refused);
            r
        }
        300..=399 => {
            let to = match response.header("location") {
                Some(l) => Untrusted::new(l).shown(),
                None => "(no Location)".to_string(),
            };
            not_issued(format!(
                "was redirected ({status}) to {to}; a registry never redirects \
                /v2/, so something else is answering."
            ))
            .with_detail("location", to)
        }
        _ => not_issued(format!(
            "answered {status}, not 401. Body: {}",
            body_start(&response)
        )),
    };
    (result.with_status(status), answer)
}

/// A 403 on `/v2/`: the registry's firewall (which names the client's IP)
/// or something else refusing.
fn forbidden(response: &Response, url: &str) -> (CheckResult, Forbidden) {
    let ip = error_body::denied_client_ip(&response.body);
    let mut detail = format!("GET {url} answered 403 Forbidden.");
    match &ip {
        Some(ip) => detail.push_str(&format!(
            " The registry sees this client as {ip}, which its firewall does not allow."
        )),
        None => detail.push_str(&format!(" {}", body_start(response))),
    }
    let r = CheckResult::fail(
        CheckId::RegistryChallenge,
        ErrorCode::ConnectivityForbiddenError,
        detail,
    );
    let client_ip = ip.as_deref().and_then(|ip| ip.parse().ok());
    let r = match ip {
        Some(ip) => r.with_detail("client_ip", ip),
        None => r,
    };
    (r, Forbidden { client_ip })
}

/// A 401: its Bearer challenge must name a token endpoint on the login
/// server itself, over HTTPS, and a service.
fn bearer_challenge(
    response: &Response,
    ls: &LoginServer,
    url: &str,
    not_issued: impl Fn(String) -> CheckResult,
) -> (CheckResult, Option<Bearer>) {
    let id = CheckId::RegistryChallenge;
    let headers: Vec<std::borrow::Cow<str>> = response
        .headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .collect();
    if headers.iter().all(|h| h.trim().is_empty()) {
        let r = not_issued("answered 401 without a WWW-Authenticate header.".into());
        return (r.with_status(401), None);
    }
    let challenges: Vec<_> = headers
        .iter()
        .flat_map(|h| www_authenticate::parse(h))
        .collect();
    let bearer = challenges.iter().find(|c| c.scheme == "bearer");
    let Some((realm, service)) =
        bearer.and_then(|b| Some((b.param("realm")?, b.param("service")?)))
    else {
        let what = match bearer {
            Some(_) => "a Bearer challenge without a realm or service".to_string(),
            None => {
                let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
                format!("only {} authentication", Untrusted::new(schemes.join(", ")))
            }
        };
        let text = format!(
            "Registry '{}' does not support AAD login: its challenge offers {what}.",
            ls.authority()
        );
        let r = CheckResult::fail(id, ErrorCode::ConnectivityAadLoginError, text);
        return (r.with_status(401), None);
    };
    // Credentials go only to the login server itself, over HTTPS.
    let realm_url = url::Url::parse(realm);
    let Some(realm_url) = realm_url
        .ok()
        .filter(|u| crate::net::origin::is_https_origin(u, &ls.host, ls.port))
    else {
        let shown = match url::Url::parse(realm) {
            Ok(u) => crate::net::origin::describe(&u),
            Err(_) => Untrusted::new(realm).shown(),
        };
        let text = format!(
            "Registry '{}' issued a challenge whose token endpoint (realm) is \
            {shown}, not the login server over HTTPS. No credential was sent there: something \
            other than the registry (a proxy, a DNS entry) may be answering.",
            ls.authority()
        );
        let r = CheckResult::fail(id, ErrorCode::ConnectivityChallengeError, text);
        return (r.with_status(401).with_detail("realm", realm), None);
    };
    let r = CheckResult::pass(id, format!("Challenge endpoint {url} : OK"))
        .with_detail("realm", realm)
        .with_detail("service", service);
    let bearer = Bearer {
        realm_path: realm_url.path().to_string(),
        service: service.to_string(),
    };
    (r, Some(bearer))
}

/// More than this apart, the clocks explain tokens that look expired or not
/// yet valid.
const SKEW_LIMIT_SECS: i64 = 300;

/// Compares this machine's clock with the registry's `Date` header (the
/// answer is already here: no extra request); far apart is a warning.
fn clock_skew(r: CheckResult, date: Option<&str>) -> CheckResult {
    let Some(server) = date.and_then(crate::net::http_date::parse) else {
        return r;
    };
    let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) else {
        return r;
    };
    let Some(skew) = i64::try_from(now.as_secs())
        .ok()
        .and_then(|n| n.checked_sub(server))
    else {
        return r;
    };
    let r = r.with_detail("clock_skew_secs", skew);
    if skew.abs() <= SKEW_LIMIT_SECS || r.status != crate::report::Status::Pass {
        return r;
    }
    let (amount, way) = (
        skew.unsigned_abs(),
        if skew > 0 { "ahead of" } else { "behind" },
    );
    let line = format!(
        "{} (this machine's clock is {} {way} the registry's)",
        r.message,
        crate::duration::format_duration(std::time::Duration::from_secs(amount))
    );
    r.into_warning(line).with_note(
        "tokens are checked against the clock: a skew of minutes makes fresh tokens look \
        expired or not yet valid, and pulls fail with 401; set the clock (timedatectl set-ntp \
        true, w32tm /resync)",
    )
}
