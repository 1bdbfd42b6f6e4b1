//! ACR's error bodies: `{"errors":[{"code":"DENIED","message":"…"}]}`.

use crate::untrusted::Untrusted;
use serde::Deserialize;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcrError {
    pub code: String,
    pub message: String,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    errors: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<serde_json::Value>,
}

fn as_text(v: Option<serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// The errors of an ACR error body; empty when the body is something else.
pub fn parse(body: &[u8]) -> Vec<AcrError> {
    serde_json::from_slice::<Body>(body)
        .map(|b| {
            b.errors
                .into_iter()
                .map(|e| AcrError {
                    code: as_text(e.code),
                    message: as_text(e.message),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `CODE: message` of the first error, for reports; the server wrote it,
/// so its control characters come back escaped.
pub fn summary(body: &[u8]) -> Option<String> {
    let first = parse(body).into_iter().next()?;
    let text = match (first.code.is_empty(), first.message.is_empty()) {
        (false, false) => format!("{}: {}", first.code, first.message),
        (false, true) => first.code,
        _ => first.message,
    };
    Some(Untrusted::new(text).shown())
}

/// The client IP in ACR's firewall denial: `client with IP '1.2.3.4' is not allowed access`.
pub fn denied_client_ip(body: &[u8]) -> Option<String> {
    parse(body).into_iter().find_map(|e| {
        let rest = e.message.split("client with IP '").nth(1)?;
        let ip = rest.split('\'').next()?;
        ip.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_denied_body() {
        let body = br#"{"errors":[{"code":"DENIED","message":"client with IP '203.0.113.7' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."}]}"#;
        assert_eq!(denied_client_ip(body).as_deref(), Some("203.0.113.7"));
        assert!(summary(body).unwrap().starts_with("DENIED: client with IP"));
    }

    #[test]
    fn tolerates_other_bodies() {
        assert!(parse(b"<html>").is_empty());
        assert!(parse(b"{\"errors\":5}").is_empty());
        assert_eq!(summary(br#"{"errors":[{"code":7}]}"#).as_deref(), Some("7"));
        assert_eq!(
            denied_client_ip(br#"{"errors":[{"message":"client with IP 'nope' x"}]}"#),
            None
        );
    }
}
