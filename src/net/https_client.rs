//! A small HTTPS client for Azure AD and Resource Manager requests: the
//! same connection code as the registry checks, with one kept-alive
//! connection per host.

use super::connection::{path_and_query, ConnectError, Connection, Response};
use super::error::HttpError;
use super::proxy::ProxySettings;
use super::tls::TlsSetup;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Why a request got no response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ClientError {
    #[error("{0} has no host")]
    NoHost(String),
    #[error("refusing to send a request to {host} over {scheme}")]
    Scheme { host: String, scheme: String },
    #[error("DNS lookup of {0} timed out")]
    DnsTimeout(String),
    #[error("DNS lookup of {host} failed: {reason}")]
    Dns { host: String, reason: String },
    #[error("{host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        source: Box<ConnectError>,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
}

#[derive(Debug)]
pub(crate) struct Client {
    tls: TlsSetup,
    proxies: ProxySettings,
    timeout: Duration,
    /// One connection slot per host, port and whether it is plain HTTP:
    /// a connection being opened ahead of time (`preconnect`) is waited
    /// for rather than opened twice, but a request never waits for another
    /// request's answer: it opens a connection of its own.
    pool: Mutex<HashMap<Key, Arc<Slot>>>,
}

type Key = (String, u16, bool);

#[derive(Default)]
struct Slot {
    /// The kept-alive connection, locked while in use.
    kept: Mutex<Option<Connection>>,
    /// A `preconnect` holds the lock while it opens the connection.
    opening: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Slot")
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Connection({})", self.authority())
    }
}

impl Client {
    pub(crate) fn new(tls: TlsSetup, proxies: ProxySettings, timeout: Duration) -> Arc<Client> {
        Arc::new(Client {
            tls,
            proxies,
            timeout,
            pool: Mutex::new(HashMap::new()),
        })
    }

    async fn connect(&self, host: &str, port: u16, plain: bool) -> Result<Connection, ClientError> {
        let failed = |source| ClientError::Connect {
            host: host.to_string(),
            port,
            source: Box::new(source),
        };
        if plain {
            let addrs = match host.parse() {
                Ok(ip) => vec![ip],
                Err(_) => vec![std::net::IpAddr::from([127, 0, 0, 1])],
            };
            return Connection::connect_plain(host, port, &addrs, self.timeout)
                .await
                .map_err(failed);
        }
        let proxy = self.proxies.for_host(host, port);
        let addrs = if proxy.is_some() {
            Vec::new()
        } else if let Ok(ip) = host.parse() {
            vec![ip]
        } else {
            let found = tokio::time::timeout(self.timeout, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| ClientError::DnsTimeout(host.to_string()))?
                .map_err(|e| ClientError::Dns {
                    host: host.to_string(),
                    reason: e.to_string(),
                })?;
            found.map(|a| a.ip()).collect()
        };
        Connection::connect(host, port, &addrs, proxy, &self.tls, self.timeout)
            .await
            .map_err(failed)
    }

    /// Where `url` is served: host, port, plain HTTP or not.
    fn key(url: &url::Url) -> Result<Key, ClientError> {
        let host = url
            .host_str()
            .ok_or_else(|| ClientError::NoHost(url.to_string()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let plain = url.scheme() == "http" && is_on_this_host(&host);
        if url.scheme() != "https" && !plain {
            return Err(ClientError::Scheme {
                host,
                scheme: url.scheme().to_string(),
            });
        }
        let port = url.port_or_known_default().unwrap_or(443);
        Ok((host, port, plain))
    }

    async fn slot(&self, key: &Key) -> Arc<Slot> {
        self.pool
            .lock()
            .await
            .entry(key.clone())
            .or_default()
            .clone()
    }

    /// Opens the connection for `url` ahead of its first request (DNS, TCP
    /// and TLS while other work goes on); a failure is left for the request
    /// to meet and report.
    pub(crate) async fn preconnect(&self, url: &url::Url) {
        let Ok(key) = Self::key(url) else { return };
        let slot = self.slot(&key).await;
        // Said before the lock is awaited, and unsaid however this ends
        // (an abort mid-connect included): a request that finds the slot
        // busy waits for this connection, not for another request.
        let _opening = Opening::start(&slot);
        let mut conn = slot.kept.lock().await;
        if conn.as_ref().is_none_or(|c| !c.is_open()) {
            *conn = self.connect(&key.0, key.1, key.2).await.ok();
        }
    }

    /// Sends a request to an `https://` URL on the host's kept-alive
    /// connection, opening it when there is none.
    pub(crate) async fn send(
        &self,
        method: http::Method,
        url: &url::Url,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> Result<Response, ClientError> {
        let key = Self::key(url)?;
        let slot = self.slot(&key).await;
        let path = path_and_query(url);
        let Some(mut held) = self.take_turn(&slot).await else {
            // Another request is on the kept connection: this one opens its
            // own, and leaves it for the next if the slot is empty by then.
            let mut conn = self.connect(&key.0, key.1, key.2).await?;
            let response = conn.send(method, &path, headers, body, self.timeout).await;
            if let Ok(mut kept) = slot.kept.try_lock() {
                if kept.is_none() && response.is_ok() && conn.is_open() {
                    *kept = Some(conn);
                }
            }
            return Ok(response?);
        };
        let mut conn = match held.take().filter(|c| c.is_open()) {
            Some(c) => c,
            None => self.connect(&key.0, key.1, key.2).await?,
        };
        let response = conn.send(method, &path, headers, body, self.timeout).await;
        if response.is_ok() && conn.is_open() {
            *held = Some(conn);
        }
        Ok(response?)
    }

    /// The kept connection's lock: at once when it is free; after the
    /// connection being opened ahead of time, when there is one (but not for
    /// more than a quarter of the timeout, so that waiting never eats a
    /// request's own time); `None` when another request is using it.
    async fn take_turn<'a>(
        &self,
        slot: &'a Slot,
    ) -> Option<tokio::sync::MutexGuard<'a, Option<Connection>>> {
        if let Ok(held) = slot.kept.try_lock() {
            return Some(held);
        }
        if !slot.opening.load(Ordering::SeqCst) {
            return None;
        }
        tokio::time::timeout(self.timeout / 4, slot.kept.lock())
            .await
            .ok()
    }
}

/// A connection being opened ahead of time, for as long as it lives.
struct Opening<'a>(&'a Slot);

impl<'a> Opening<'a> {
    fn start(slot: &'a Slot) -> Opening<'a> {
        slot.opening.store(true, Ordering::SeqCst);
        Opening(slot)
    }
}

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        self.0.opening.store(false, Ordering::SeqCst);
    }
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
