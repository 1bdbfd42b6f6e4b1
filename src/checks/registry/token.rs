//! What the two token steps share: the form they post, and the failure
//! for a token endpoint's refusal (a 429 is throttling, whichever step).

use crate::acr::error_body;
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::net::connection::Response;
use bytes::Bytes;

pub(crate) const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

pub(crate) fn form(pairs: &[(&str, &str)]) -> Bytes {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    Bytes::from(s.finish())
}

/// `Retry-After` as a person reads it.
pub(crate) fn describe_retry_after(value: Option<&str>) -> String {
    match value.map(str::trim) {
        None | Some("") => {
            "The registry sent no Retry-After; wait a minute before trying again.".into()
        }
        Some(v) => match v.parse::<u64>() {
            Ok(secs) if secs > 86_400 => format!(
                "The registry asks to retry after {secs} seconds \
                (Retry-After: {v}), an implausibly long time; wait a few minutes and try again."
            ),
            Ok(secs) => format!(
                "The registry asks to retry after {secs} seconds (Retry-After: \
                {v})."
            ),
            Err(_) => {
                let shown: String = v.chars().take(64).collect();
                let shown = crate::untrusted::inline(&shown);
                format!("The registry asks to retry after {shown} (Retry-After).")
            }
        },
    }
}

/// The failure for a non-200 answer of a token endpoint.
pub(crate) fn denied(
    id: CheckId,
    code: ErrorCode,
    registry: &str,
    what: &str,
    r: &Response,
) -> CheckResult {
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
        .with_status(429)
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
    .with_status(r.status)
}
