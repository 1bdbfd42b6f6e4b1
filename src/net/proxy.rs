//! `HTTPS_PROXY` / `NO_PROXY`, as curl and the Azure CLI read them.

use base64::Engine;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    /// `Proxy-Authorization` value when the URL carries credentials.
    authorization: Option<String>,
}

impl Proxy {
    /// The URL without credentials, for messages.
    pub fn display(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    pub fn parse(value: &str) -> Result<Proxy, String> {
        let with_scheme = if value.contains("://") {
            value.to_string()
        } else {
            format!("http://{value}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| format!("invalid proxy URL: {e}"))?;
        if url.scheme() != "http" {
            return Err(format!(
                "proxy scheme '{}' is not supported (use http://)",
                url.scheme()
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| "the proxy URL has no host".to_string())?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let authorization = (!url.username().is_empty()).then(|| {
            let user = percent_decode(url.username());
            let pass = percent_decode(url.password().unwrap_or_default());
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            crate::secret::remember(&pass);
            crate::secret::remember(&token);
            format!("Basic {token}")
        });
        Ok(Proxy {
            host,
            port: url.port().unwrap_or(80),
            authorization,
        })
    }
}

/// URL user information is percent-encoded, not form-encoded: `+` stays `+`.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The proxy for `https://host`, from the environment.
pub fn for_host(host: &str) -> Option<Result<Proxy, String>> {
    let var = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let proxy = var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])?;
    let no_proxy = var(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    if bypasses(host, &no_proxy) {
        return None;
    }
    Some(Proxy::parse(proxy.trim()))
}

/// Whether `NO_PROXY` exempts `host`: `*`, exact names, domain suffixes
/// (`.example.com` or `example.com`), and IP addresses.
pub fn bypasses(host: &str, no_proxy: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            // An entry may carry a port; the registry is always 443 here.
            let entry = entry
                .rsplit_once(':')
                .filter(|(h, p)| !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()))
                .map(|(h, _)| h.to_string())
                .unwrap_or(entry);
            let bare = entry.trim_start_matches('*').trim_start_matches('.');
            host == bare || host.ends_with(&format!(".{bare}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxy_urls() {
        let p = Proxy::parse("http://user:p%40ss@proxy.corp:3128").unwrap();
        assert_eq!(p.host, "proxy.corp");
        assert_eq!(p.port, 3128);
        assert_eq!(p.display(), "http://proxy.corp:3128");
        let expected = base64::engine::general_purpose::STANDARD.encode("user:p@ss");
        assert_eq!(
            p.authorization(),
            Some(format!("Basic {expected}").as_str())
        );
        assert_eq!(Proxy::parse("proxy:8080").unwrap().port, 8080);
        let plus = Proxy::parse("http://u:a+b%2Bc@proxy:3128").unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("u:a+b+c");
        assert_eq!(
            plus.authorization(),
            Some(format!("Basic {expected}").as_str())
        );
        assert!(Proxy::parse("socks5://proxy:1080").is_err());
    }

    #[test]
    fn no_proxy_matching() {
        assert!(bypasses("myreg.azurecr.io", "localhost,.azurecr.io"));
        assert!(bypasses("myreg.azurecr.io", "azurecr.io"));
        assert!(bypasses("myreg.azurecr.io", "*"));
        assert!(bypasses("myreg.azurecr.io", "myreg.azurecr.io:443"));
        assert!(!bypasses("myreg.azurecr.io", "example.com,cr.io.example"));
        assert!(!bypasses("notazurecr.io", ".azurecr.io"));
    }
}
