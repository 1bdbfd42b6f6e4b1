//! `HTTPS_PROXY` / `NO_PROXY`, as curl and the Azure CLI read them, and the
//! CONNECT tunnel through the proxy.

use super::error::{IoFailure, ProxyError};
use super::tcp::tcp_connect;
use crate::env::Env;
use crate::untrusted::Untrusted;
use base64::Engine;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Proxy {
    pub host: String,
    pub port: u16,
    /// `Proxy-Authorization` value when the URL carries credentials.
    authorization: Option<String>,
}

impl Proxy {
    /// The URL without credentials, for messages.
    pub(crate) fn display(&self) -> String {
        format!("http://{}", super::origin::authority(&self.host, self.port))
    }

    pub(crate) fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    pub(crate) fn parse(value: &str) -> Result<Proxy, ProxyError> {
        let with_scheme = if value.contains("://") {
            value.to_string()
        } else {
            format!("http://{value}")
        };
        let url = url::Url::parse(&with_scheme).map_err(ProxyError::InvalidUrl)?;
        if url.scheme() != "http" {
            return Err(ProxyError::Scheme(url.scheme().to_string()));
        }
        let host = url
            .host_str()
            .ok_or(ProxyError::NoHost)?
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

/// Opens a tunnel to `host:port` through an HTTP proxy (CONNECT).
pub(crate) async fn tunnel(
    proxy: &Proxy,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, ProxyError> {
    let shown = proxy.display();
    let addrs: Vec<SocketAddr> = tokio::time::timeout(
        timeout,
        tokio::net::lookup_host((proxy.host.as_str(), proxy.port)),
    )
    .await
    .map_err(|_| ProxyError::ResolveTimeout {
        proxy: shown.clone(),
    })?
    .map_err(|e| ProxyError::Resolve {
        proxy: shown.clone(),
        reason: IoFailure::from(&e),
    })?
    .collect();
    let mut stream = tcp_connect(&addrs, timeout)
        .await
        .map_err(|source| ProxyError::Connect {
            proxy: shown.clone(),
            source,
        })?;
    // CONNECT always names the port; an IPv6 address goes in brackets.
    let target = match super::origin::authority(host, port) {
        a if port == 443 => format!("{a}:443"),
        a => a,
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = proxy.authorization() {
        request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    crate::debug::log(|| format!("* CONNECT {target} through proxy {shown}"));
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        // Read the proxy's answer up to the blank line, bounded.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
            if stream.read(&mut byte).await? == 0 {
                break;
            }
            head.push(byte[0]);
        }
        Ok::<_, std::io::Error>(head)
    };
    let head = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| ProxyError::Timeout {
            proxy: shown.clone(),
        })?
        .map_err(|e| ProxyError::Io {
            proxy: shown.clone(),
            source: IoFailure::from(&e),
        })?;
    judge_answer(&String::from_utf8_lossy(&head), proxy, shown, target)?;
    Ok(stream)
}

/// The schemes of one `Proxy-Authenticate` value, which may list several
/// challenges (`Negotiate, Basic realm="corp, west"`): each element between
/// commas outside quotes that does not start with a `key=` parameter opens
/// a challenge, and its first word is the scheme.
fn challenge_schemes(value: &str) -> Vec<&str> {
    let mut elements = Vec::new();
    let (mut quoted, mut start) = (false, 0);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                elements.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    elements.push(&value[start..]);
    elements
        .into_iter()
        .filter_map(|e| e.split_whitespace().next())
        .filter(|first| !first.contains('='))
        .collect()
}

/// The proxy's answer to CONNECT: 200 opens the tunnel; 407 names the
/// authentication it wants; anything else is a refusal, in its words.
fn judge_answer(
    head: &str,
    proxy: &Proxy,
    shown: String,
    target: String,
) -> Result<(), ProxyError> {
    crate::debug::log(|| format!("* proxy {shown}: {}", head.trim_end()));
    let status_line = head.lines().next().unwrap_or_default().trim();
    match status_line.split_whitespace().nth(1).unwrap_or_default() {
        "200" => Ok(()),
        "407" => {
            let schemes: Vec<&str> = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case("proxy-authenticate"))
                .flat_map(|(_, v)| challenge_schemes(v))
                .collect();
            Err(ProxyError::AuthenticationRequired {
                proxy: shown,
                schemes: Untrusted::new(schemes.join(", ")),
                sent: proxy.authorization().is_some(),
            })
        }
        _ => Err(ProxyError::Refused {
            proxy: shown,
            target,
            answer: Untrusted::new(status_line),
        }),
    }
}

/// `HTTPS_PROXY` and `NO_PROXY`, read once from the environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProxySettings {
    proxy: Option<Proxy>,
    no_proxy: String,
    /// A proxy variable that was set but left out, and why.
    ignored: Option<String>,
}

/// A proxy variable that cannot be used, named.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {error}")]
pub(crate) struct ProxyVarError {
    variable: &'static str,
    error: ProxyError,
}

impl ProxySettings {
    /// The proxy of `HTTPS_PROXY` (else `ALL_PROXY`) and `NO_PROXY`. An
    /// `ALL_PROXY` acr-health cannot use (`socks5://`, common on laptops) is
    /// left out, as docker leaves it out, and said; an unusable
    /// `HTTPS_PROXY` is an error naming it.
    pub(crate) fn from_env(env: &Env) -> Result<ProxySettings, ProxyVarError> {
        let mut settings = ProxySettings {
            no_proxy: env
                .first_of(&["NO_PROXY", "no_proxy"])
                .unwrap_or_default()
                .to_string(),
            ..ProxySettings::default()
        };
        for variable in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            let Some(value) = env.var(variable) else {
                continue;
            };
            match Proxy::parse(value.trim()) {
                Ok(proxy) => {
                    settings.proxy = Some(proxy);
                    break;
                }
                Err(error) if variable.eq_ignore_ascii_case("all_proxy") => {
                    settings.ignored = Some(format!(
                        "{variable} was not used ({error}); docker does not use it either"
                    ));
                }
                Err(error) => return Err(ProxyVarError { variable, error }),
            }
        }
        Ok(settings)
    }

    /// A proxy variable that was set but not used, and why.
    pub(crate) fn ignored(&self) -> Option<&str> {
        self.ignored.as_deref()
    }

    /// The proxy for `https://host:port`, unless `NO_PROXY` exempts it.
    pub(crate) fn for_host(&self, host: &str, port: u16) -> Option<&Proxy> {
        self.proxy
            .as_ref()
            .filter(|_| !bypasses(host, port, &self.no_proxy))
    }
}

/// Whether `NO_PROXY` exempts `host` on `port`: `*`, exact names, domain
/// suffixes (`.example.com` or `example.com`), and IP addresses; an entry
/// with a port (`name:5000`) exempts that port only, as Go's clients (docker,
/// containerd) read it.
pub(crate) fn bypasses(host: &str, port: u16, no_proxy: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            // A CIDR block exempts the IP addresses in it (Go and requests
            // read it so), matched against an address given as the host.
            if let (Ok(net), Ok(ip)) = (
                entry.parse::<ipnet::IpNet>(),
                host.trim_matches(['[', ']']).parse::<std::net::IpAddr>(),
            ) {
                return net.contains(&ip);
            }
            let with_port = entry
                .rsplit_once(':')
                .filter(|(h, _)| !h.contains(':'))
                .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)));
            let entry = match with_port {
                Some((_, p)) if p != port => return false,
                Some((h, _)) => h,
                None => entry,
            };
            let bare = entry.trim_start_matches('*').trim_start_matches('.');
            host == bare || host.ends_with(&format!(".{bare}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_scheme_of_a_challenge_list() {
        assert_eq!(
            challenge_schemes(r#"Negotiate, Basic realm="corp""#),
            ["Negotiate", "Basic"]
        );
        assert_eq!(
            challenge_schemes(r#"Basic realm="a, b", NTLM"#),
            ["Basic", "NTLM"]
        );
        assert_eq!(challenge_schemes("NTLM"), ["NTLM"]);
        assert_eq!(
            challenge_schemes(r#"Basic realm="x", charset="UTF-8""#),
            ["Basic"]
        );
        assert!(challenge_schemes("").is_empty());
    }

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
        let at_443 = |host, no_proxy| bypasses(host, 443, no_proxy);
        assert!(at_443("myreg.azurecr.io", "localhost,.azurecr.io"));
        assert!(at_443("myreg.azurecr.io", "azurecr.io"));
        assert!(at_443("myreg.azurecr.io", "*"));
        assert!(at_443("myreg.azurecr.io", "myreg.azurecr.io:443"));
        assert!(!at_443("myreg.azurecr.io", "myreg.azurecr.io:5000"));
        assert!(bypasses("myreg.azurecr.io", 5000, "myreg.azurecr.io:5000"));
        assert!(bypasses("myreg.azurecr.io", 5000, "myreg.azurecr.io"));
        assert!(!at_443("myreg.azurecr.io", "example.com,cr.io.example"));
        assert!(!at_443("notazurecr.io", ".azurecr.io"));
        assert!(at_443("10.1.2.3", "10.0.0.0/8"));
        assert!(!at_443("192.0.2.1", "10.0.0.0/8"));
        assert!(at_443("::1", "::1/128"));
        assert!(!at_443("myreg.azurecr.io", "10.0.0.0/8"));
    }
}
