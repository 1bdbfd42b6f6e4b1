//! A small HTTPS client for Azure AD and Resource Manager requests: the
//! same connection code as the registry checks, one kept-alive connection
//! per host, and the transport handed to `azure_identity`.

use super::connection::{path_and_query, Connection, Response};
use super::proxy;
use super::tls::TlsSetup;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Debug)]
pub struct Client {
    tls: TlsSetup,
    timeout: Duration,
    /// Kept-alive connections by host, port and whether they are plain HTTP.
    pool: Mutex<HashMap<(String, u16, bool), Connection>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Connection({})", self.authority())
    }
}

impl Client {
    pub fn new(tls: TlsSetup, timeout: Duration) -> Arc<Client> {
        Arc::new(Client {
            tls,
            timeout,
            pool: Mutex::new(HashMap::new()),
        })
    }

    async fn connect(&self, host: &str, port: u16, plain: bool) -> Result<Connection, String> {
        if plain {
            let addrs = match host.parse() {
                Ok(ip) => vec![ip],
                Err(_) => vec![std::net::IpAddr::from([127, 0, 0, 1])],
            };
            return Connection::connect_plain(host, port, &addrs, self.timeout)
                .await
                .map_err(|e| format!("{host}:{port}: {e}"));
        }
        let proxy = match proxy::for_host(host) {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => return Err(e),
            None => None,
        };
        let addrs = if proxy.is_some() {
            Vec::new()
        } else if let Ok(ip) = host.parse() {
            vec![ip]
        } else {
            let found = tokio::time::timeout(self.timeout, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| format!("DNS lookup of {host} timed out"))?
                .map_err(|e| format!("DNS lookup of {host} failed: {e}"))?;
            found.map(|a| a.ip()).collect()
        };
        Connection::connect(host, port, &addrs, proxy.as_ref(), &self.tls, self.timeout)
            .await
            .map_err(|e| format!("{host}:{port}: {e}"))
    }

    /// Sends a request to an `https://` URL, reusing a kept-alive connection
    /// to the same host when there is one.
    pub async fn send(
        &self,
        method: http::Method,
        url: &url::Url,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> Result<Response, String> {
        let host = url
            .host_str()
            .ok_or_else(|| format!("{url} has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let plain = url.scheme() == "http" && is_on_this_host(&host);
        if url.scheme() != "https" && !plain {
            return Err(format!(
                "refusing to send a request to {host} over {}",
                url.scheme()
            ));
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let key = (host.clone(), port, plain);
        let reused = self.pool.lock().await.remove(&key).filter(|c| c.is_open());
        let mut conn = match reused {
            Some(c) => c,
            None => self.connect(&host, port, plain).await?,
        };
        let path = path_and_query(url);
        let response = conn.send(method, &path, headers, body, self.timeout).await;
        if response.is_ok() && conn.is_open() {
            self.pool.lock().await.insert(key, conn);
        }
        response
    }
}

/// Azure AD, managed identity endpoints and Resource Manager answer JSON.
/// Anything else (a redirect to a sign-in page, a proxy's HTML) is described
/// by what it is, rather than left to fail as a JSON parse error.
fn not_a_json_answer(url: &url::Url, r: &Response) -> Option<String> {
    let content_type = r.header("content-type").unwrap_or("").to_ascii_lowercase();
    let json =
        content_type.contains("json") || (content_type.is_empty() && r.body.first() == Some(&b'{'));
    let host = super::origin::describe(url);
    if (300..400).contains(&r.status) {
        let to = r
            .header("location")
            .and_then(|l| url.join(l).ok())
            .map(|u| super::origin::describe(&u))
            .unwrap_or_else(|| "nowhere (no Location)".into());
        return Some(format!("{host} answered {} redirecting to {to}, not a token; something between this machine and Azure AD (a proxy, a captive portal) is answering", r.status));
    }
    if json || r.body.is_empty() {
        return None;
    }
    let shown = if content_type.is_empty() {
        "no content type".to_string()
    } else {
        crate::untrusted::inline(&content_type).shown()
    };
    Some(format!(
        "{host} answered {} with {shown} ({} bytes), not JSON; something other than Azure (a proxy, a captive portal) may be answering",
        r.status,
        r.body.len()
    ))
}

/// Hosts that may be spoken to without TLS: managed identity endpoints are
/// plain HTTP by design and never leave the machine (loopback) or the host's
/// virtual network interface (link-local IMDS).
fn is_on_this_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| match ip {
            std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local(),
            std::net::IpAddr::V6(v6) => v6.is_loopback(),
        })
}

#[async_trait::async_trait]
impl azure_core::http::HttpClient for Client {
    async fn execute_request(
        &self,
        request: &azure_core::http::Request,
    ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
        use azure_core::error::{Error, ErrorKind};
        let method = http::Method::from_bytes(request.method().to_string().as_bytes())
            .map_err(|e| Error::with_message(ErrorKind::Other, e.to_string()))?;
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
            .collect();
        let header_refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = match request.body() {
            azure_core::http::Body::Bytes(b) if !b.is_empty() => Some(b.clone()),
            _ => None,
        };
        let response = self
            .send(method, request.url(), &header_refs, body)
            .await
            .map_err(|e| Error::with_message(ErrorKind::Io, e))?;
        if let Some(why) = not_a_json_answer(request.url(), &response) {
            return Err(Error::with_message(ErrorKind::Io, why));
        }
        let mut out_headers = azure_core::http::headers::Headers::new();
        for (name, value) in response.headers.iter() {
            if let Ok(v) = value.to_str() {
                out_headers.insert(name.as_str().to_string(), v.to_string());
            }
        }
        Ok(azure_core::http::AsyncRawResponse::from_bytes(
            azure_core::http::StatusCode::from(response.status),
            out_headers,
            response.body,
        ))
    }
}
