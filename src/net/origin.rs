//! Where a credential may go: a URL is compared with the place the
//! credential belongs by scheme, host and port, and must carry no user
//! information (`https://host@elsewhere/` is elsewhere).

use crate::untrusted::Untrusted;
use url::Url;

fn bare_host(url: &Url) -> Option<&str> {
    url.host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
}

fn no_userinfo(url: &Url) -> bool {
    url.username().is_empty() && url.password().is_none()
}

/// Whether `url` is `https://host:port/…` exactly, with no user information.
pub(crate) fn is_https_origin(url: &Url, host: &str, port: u16) -> bool {
    url.scheme() == "https"
        && no_userinfo(url)
        && bare_host(url).is_some_and(|h| {
            h.eq_ignore_ascii_case(host.trim_start_matches('[').trim_end_matches(']'))
        })
        && url.port_or_known_default() == Some(port)
}

/// Whether `url` has the scheme, host and port of `base`, and no user
/// information.
pub(crate) fn same_origin(url: &Url, base: &Url) -> bool {
    url.scheme() == base.scheme()
        && no_userinfo(url)
        && bare_host(url).is_some()
        && bare_host(url).map(str::to_ascii_lowercase)
            == bare_host(base).map(str::to_ascii_lowercase)
        && url.port_or_known_default() == base.port_or_known_default()
}

/// `scheme://host[:port]` of `url`, escaped, for a message that says where
/// something pointed.
pub(crate) fn describe(url: &Url) -> String {
    let mut s = format!("{}://", url.scheme());
    if !no_userinfo(url) {
        s.push_str("(user information)@");
    }
    s.push_str(url.host_str().unwrap_or("?"));
    if let Some(port) = url.port() {
        s.push_str(&format!(":{port}"));
    }
    Untrusted::new(s).shown()
}

/// `host[:port]` for a Host header or a URL: an IPv6 address in brackets,
/// the port left out when it is HTTPS's 443.
pub(crate) fn authority(host: &str, port: u16) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    if port == 443 {
        host
    } else {
        format!("{host}:{port}")
    }
}

/// Query parameters that carry a credential: a SAS signature (`sig`; `se`
/// and `sp` are only its expiry and permissions), an S3 signature, a token.
pub(crate) const CREDENTIAL_PARAMS: &[&str] = &[
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "token",
    "access_token",
    "code",
];

fn is_credential_param(key: &str) -> bool {
    CREDENTIAL_PARAMS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(key))
}

/// Remembers the credentials in `url`'s query (and user information) as
/// secrets, so that no output shows them.
pub(crate) fn remember_query_secrets(url: &Url) {
    for (k, v) in url.query_pairs() {
        if is_credential_param(&k) {
            crate::secret::remember(&v);
        }
    }
    if let Some(p) = url.password() {
        crate::secret::remember(p);
    }
}

/// A URL a configuration names (a mirror, a proxy), as the report may show
/// it: one line, with its user information and the values of credential
/// query parameters replaced by `****`, whatever their length (a short
/// password is masked where it sits, not wherever its letters appear).
pub(crate) fn shown_url(text: &str) -> String {
    let start = text.find("://").map_or(0, |at| at + 3);
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |at| start + at);
    let authority = &text[start..end];
    let text = match authority.rfind('@') {
        Some(at) => format!("{}****@{}", &text[..start], &text[start + at + 1..]),
        None => text.to_string(),
    };
    Untrusted::new(mask_query(&text)).shown()
}

/// `text` (a URL, or a request target `/path?query`) with the values of
/// credential query parameters replaced by `****`.
pub(crate) fn mask_query(text: &str) -> String {
    let Some((before, query)) = text.split_once('?') else {
        return text.to_string();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_credential_param(&percent_decoded(k)) => {
                format!("{k}={}", crate::secret::MASK)
            }
            _ => pair.to_string(),
        })
        .collect();
    let mut out = format!("{before}?{}", pairs.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn percent_decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_urls_are_shown_without_their_credentials() {
        assert_eq!(
            shown_url("https://u:pw@mirror.example/v2?x=1"),
            "https://****@mirror.example/v2?x=1"
        );
        assert_eq!(shown_url("u:pw@proxy:3128"), "****@proxy:3128");
        assert_eq!(
            shown_url("https://m.example/p?sig=ab&x=1"),
            "https://m.example/p?sig=****&x=1"
        );
        assert_eq!(shown_url("https://m.example/a@b"), "https://m.example/a@b");
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn compares_scheme_host_port_and_refuses_userinfo() {
        let base = u("https://management.azure.com");
        assert!(same_origin(&u("https://MANAGEMENT.azure.com/x?y"), &base));
        assert!(same_origin(&u("https://management.azure.com:443/x"), &base));
        for bad in [
            "https://management.azure.com.evil.example/x",
            "https://management.azure.com@evil.example/x",
            "https://user:pw@management.azure.com/x",
            "http://management.azure.com/x",
            "https://management.azure.com:8443/x",
        ] {
            assert!(!same_origin(&u(bad), &base), "{bad}");
        }
        assert!(is_https_origin(&u("https://[::1]:5000/t"), "::1", 5000));
        assert!(is_https_origin(
            &u("https://r.azurecr.io/oauth2/token"),
            "r.azurecr.io",
            443
        ));
        assert!(!is_https_origin(
            &u("https://a@r.azurecr.io/t"),
            "r.azurecr.io",
            443
        ));
        assert_eq!(
            describe(&u("https://a:b@evil.example:8443/x")),
            "https://(user information)@evil.example:8443"
        );
    }

    #[test]
    fn masks_credential_parameters_only() {
        assert_eq!(
            mask_query("https://s.blob.core.windows.net/c/b?se=2026&sp=r&sig=abc%2Bdef&sv=1"),
            "https://s.blob.core.windows.net/c/b?se=2026&sp=r&sig=****&sv=1"
        );
        assert_eq!(mask_query("/v2/?SIG=x#f"), "/v2/?SIG=****#f");
        assert_eq!(mask_query("/v2/"), "/v2/");
    }
}
