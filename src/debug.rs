//! `--debug`: a trace of the network conversation on stderr, with every
//! secret replaced by `****` before it is written.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Writes one trace line (or several) to stderr when `--debug` is on, with
/// every secret the run knows masked and every control character escaped:
/// most of what is traced came from a server.
pub(crate) fn log(text: impl FnOnce() -> String) {
    if enabled() {
        let text = text();
        let text = crate::secret::scrub(&text);
        for line in text.split('\n') {
            // A stderr that cannot be written to loses the trace, not the run.
            let line = crate::untrusted::inline(line);
            let _ = writeln!(std::io::stderr(), "debug: {line}");
        }
    }
}

/// `text` with each line tagged with the connection it happened on.
pub(crate) fn tagged(connection: u32, text: &str) -> String {
    text.split('\n')
        .map(|line| format!("[#{connection}] {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A request as the trace shows it: method and URL (credential query
/// parameters masked), headers (credentials masked), body.
pub(crate) fn request(target: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
    let mut s = format!("> {}", crate::net::origin::mask_query(target));
    for (k, v) in headers {
        s.push_str(&format!("\n> {k}: {}", header_value(k, v)));
    }
    if !body.is_empty() {
        s.push_str(&format!("\n> {}", self::body(body)));
    }
    s
}

/// A response as the trace shows it: status, headers, body.
pub(crate) fn response(status: u16, headers: &http::HeaderMap, body: &[u8]) -> String {
    let mut s = format!("< {status}");
    for (k, v) in headers {
        let v = v.to_str().unwrap_or("(binary)");
        s.push_str(&format!("\n< {k}: {}", header_value(k.as_str(), v)));
    }
    if !body.is_empty() {
        s.push_str(&format!("\n< {}", self::body(body)));
    }
    s
}

/// Headers whose values are credentials.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-identity-header",
    "cookie",
    "set-cookie",
];

/// Form fields and JSON keys whose values are credentials.
const SECRET_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "password",
    "client_secret",
    "client_assertion",
    "accessToken",
    "refreshToken",
    "token",
];

pub(crate) fn header_value(name: &str, value: &str) -> String {
    if SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) {
        "****".into()
    } else if name.eq_ignore_ascii_case("location") || name.eq_ignore_ascii_case("content-location")
    {
        // A redirect to storage carries its signature in the query.
        crate::net::origin::mask_query(value)
    } else {
        value.into()
    }
}

/// A request or response body with credential values replaced: form
/// encoded or JSON; anything else is shown only by its length.
pub(crate) fn body(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(bytes) {
        scrub_json(&mut json);
        // Masked before it is cut, so that no secret is left half shown.
        let text = crate::secret::scrub(&json.to_string()).into_owned();
        return text.chars().take(2000).collect();
    }
    let text = String::from_utf8_lossy(bytes);
    if text.contains('=') && !text.contains(' ') && !text.contains('<') {
        let pairs: Vec<String> = url::form_urlencoded::parse(text.as_bytes())
            .map(|(k, v)| {
                let v = if SECRET_FIELDS.contains(&k.as_ref()) {
                    "****".into()
                } else {
                    v.into_owned()
                };
                // Decoded, a value may hold a line break of its own.
                format!(
                    "{}={}",
                    crate::untrusted::inline(&k),
                    crate::untrusted::inline(&v)
                )
            })
            .collect();
        return pairs.join("&");
    }
    format!("({} bytes, not shown)", bytes.len())
}

fn scrub_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if SECRET_FIELDS.contains(&k.as_str()) {
                    *val = serde_json::Value::String("****".into());
                } else {
                    scrub_json(val);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_forms_json_and_headers() {
        assert_eq!(
            body(b"grant_type=password&password=hunter2&username=u"),
            "grant_type=password&password=****&username=u"
        );
        assert_eq!(
            body(br#"{"refresh_token":"r","x":{"access_token":"a"}}"#),
            r#"{"refresh_token":"****","x":{"access_token":"****"}}"#
        );
        assert_eq!(header_value("Authorization", "Bearer abc"), "****");
        assert_eq!(header_value("accept", "*/*"), "*/*");
        assert_eq!(body(b"<html> secret </html>"), "(21 bytes, not shown)");
    }
}
