//! One HTTPS connection, built step by step so that each step can fail on
//! its own: TCP to one of the resolved addresses (or to a proxy, then
//! CONNECT), the TLS handshake, then HTTP/1.1 requests over the same
//! connection.

pub(crate) use super::error::{ConnectError, OpenError};
use super::error::{HttpError, IoFailure, TransportError};
use super::proxy::{self, Proxy, ProxySettings};
use super::tcp::tcp_connect;
use super::tls::{explain_failure, CertInfo, TlsSetup};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Response bodies are cut off here: nothing acr-health reads is larger,
/// and a server sending gigabytes must not exhaust memory.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// Facts about an established connection, for the report.
#[derive(Clone, Debug)]
pub(crate) struct ConnInfo {
    pub peer: SocketAddr,
    pub via_proxy: Option<String>,
    pub tls_version: String,
    pub cert: Option<CertInfo>,
    pub tcp_ms: u64,
    pub tls_ms: u64,
}

/// The path and query of `url`, as sent in the request line.
pub(crate) fn path_and_query(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Opens an HTTPS connection to `host:port`: through `HTTPS_PROXY` when it
/// applies, else to the addresses `resolver` finds.
/// What opening a connection to a named host needs.
pub(crate) struct Dial<'a> {
    pub resolver: &'a super::dns::Resolver,
    pub tls: &'a TlsSetup,
    pub proxies: &'a ProxySettings,
    pub timeout: Duration,
}

pub(crate) async fn open(host: &str, port: u16, dial: &Dial<'_>) -> Result<Connection, OpenError> {
    let (resolver, tls, timeout) = (dial.resolver, dial.tls, dial.timeout);
    let proxy = dial.proxies.for_host(host, port);
    let addrs = if proxy.is_some() {
        Vec::new()
    } else if let Ok(ip) = host.parse::<IpAddr>() {
        // An IP literal (a redirect to storage by address) needs no lookup.
        vec![ip]
    } else {
        resolver
            .resolve(host)
            .await
            .map_err(|failure| OpenError::Dns {
                failure,
                server: resolver.description.clone(),
            })?
            .addresses
    };
    Ok(Connection::connect(host, port, &addrs, proxy, tls, timeout).await?)
}

#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// The body was longer than [`BODY_LIMIT`] and was cut off.
    pub truncated: bool,
}

impl Response {
    /// A header's value; bytes that are not ASCII (legal in HTTP, if rare)
    /// are read lossily rather than taken for a missing header.
    pub(crate) fn header(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) struct Connection {
    sender: SendRequest<Full<Bytes>>,
    /// False once a response was not read to its end (cut off at the size
    /// limit, timed out, failed): the next response on this connection
    /// could be the rest of that one, so it is never used again.
    reusable: bool,
    pub host: String,
    pub port: u16,
    pub info: ConnInfo,
    /// This run's number for the connection, which tags its `--debug`
    /// lines so that concurrent exchanges can be told apart.
    number: u32,
}

/// The number of the next connection opened.
static NEXT_NUMBER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

impl Connection {
    /// TCP to `addrs` (or through `proxy`), then TLS for `host`.
    pub(crate) async fn connect(
        host: &str,
        port: u16,
        addrs: &[IpAddr],
        proxy: Option<&Proxy>,
        tls: &TlsSetup,
        timeout: Duration,
    ) -> Result<Connection, ConnectError> {
        let start = Instant::now();
        let tcp = match proxy {
            Some(p) => proxy::tunnel(p, host, port, timeout)
                .await
                .map_err(TransportError::from),
            None => {
                let sockets: Vec<SocketAddr> =
                    addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
                tcp_connect(&sockets, timeout)
                    .await
                    .map_err(TransportError::from)
            }
        }?;
        let peer = tcp
            .peer_addr()
            .map_err(|e| TransportError::Io(IoFailure::from(&e)))?;
        let tcp_ms = start.elapsed().as_millis() as u64;

        let tls_start = Instant::now();
        let (config, presented) = tls.client_config();
        let cert = || presented.info();
        let stream = handshake(tcp, host, config, timeout, cert).await?;
        let tls_version = match stream.get_ref().1.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2",
            _ => "TLS",
        }
        .to_string();
        let tls_ms = tls_start.elapsed().as_millis() as u64;
        let info = ConnInfo {
            peer,
            via_proxy: proxy.map(Proxy::display),
            tls_version,
            cert: cert(),
            tcp_ms,
            tls_ms,
        };
        Self::over(super::lenient_eof::LenientEof(stream), host, port, info).await
    }

    /// Plain HTTP, only for identity endpoints on this host (managed
    /// identity: IMDS at a link-local address, App Service on loopback).
    pub(crate) async fn connect_plain(
        host: &str,
        port: u16,
        addrs: &[IpAddr],
        timeout: Duration,
    ) -> Result<Connection, ConnectError> {
        let start = Instant::now();
        let sockets: Vec<SocketAddr> = addrs.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
        let tcp = tcp_connect(&sockets, timeout)
            .await
            .map_err(TransportError::from)?;
        let peer = tcp
            .peer_addr()
            .map_err(|e| TransportError::Io(IoFailure::from(&e)))?;
        let info = ConnInfo {
            peer,
            via_proxy: None,
            tls_version: String::new(),
            cert: None,
            tcp_ms: start.elapsed().as_millis() as u64,
            tls_ms: 0,
        };
        Self::over(tcp, host, port, info).await
    }

    /// HTTP/1.1 over an established stream.
    async fn over<S>(
        stream: S,
        host: &str,
        port: u16,
        info: ConnInfo,
    ) -> Result<Connection, ConnectError>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| TransportError::HttpSetup(e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let number = NEXT_NUMBER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::debug::log(|| {
            let how = match info.tls_version.as_str() {
                "" => "plain HTTP".to_string(),
                tls => format!("{tls} in {} ms", info.tls_ms),
            };
            let cert = info.cert.as_ref().map(|c| c.describe()).unwrap_or_default();
            let line = format!(
                "* connected to {host}:{port} at {} in {} ms, {how}; {cert}",
                info.peer, info.tcp_ms
            );
            crate::debug::tagged(number, &line)
        });
        Ok(Connection {
            sender,
            reusable: true,
            host: host.to_string(),
            port,
            info,
            number,
        })
    }

    /// `host[:port]` as it goes in the Host header and in URLs (an IPv6
    /// address in brackets).
    pub(crate) fn authority(&self) -> String {
        super::origin::authority(&self.host, self.port)
    }

    /// Whether another request can be sent on this connection.
    pub(crate) fn is_open(&self) -> bool {
        self.reusable && !self.sender.is_closed()
    }

    /// Sends one request and reads the response, all within `timeout`.
    pub(crate) async fn send(
        &mut self,
        method: http::Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
        timeout: Duration,
    ) -> Result<Response, HttpError> {
        let mut req = http::Request::builder()
            .method(method.clone())
            .uri(path_and_query)
            .header(http::header::HOST, self.authority())
            .header(
                http::header::USER_AGENT,
                concat!("acr-health/", env!("CARGO_PKG_VERSION")),
            );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = body.unwrap_or_default();
        crate::debug::log(|| {
            let scheme = if self.info.tls_version.is_empty() {
                "http"
            } else {
                "https"
            };
            let target = format!("{method} {scheme}://{}{path_and_query}", self.authority());
            crate::debug::tagged(self.number, &crate::debug::request(&target, headers, &body))
        });
        let req = req
            .body(Full::new(body))
            .map_err(|e| HttpError::InvalidRequest(e.to_string()))?;
        let outcome = tokio::time::timeout(timeout, self.exchange(req))
            .await
            .map_err(|_| HttpError::Timeout(timeout))
            .and_then(|r| r);
        if !matches!(&outcome, Ok(r) if !r.truncated) {
            self.reusable = false;
        }
        outcome
    }

    /// Sends `req` and reads the response, its body up to [`BODY_LIMIT`].
    async fn exchange(&mut self, req: http::Request<Full<Bytes>>) -> Result<Response, HttpError> {
        self.sender
            .ready()
            .await
            .map_err(|e| HttpError::Closed(e.to_string()))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| describe_hyper(&e))?;
        let (parts, mut incoming) = resp.into_parts();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|e| describe_hyper(&e))?;
            if let Ok(data) = frame.into_data() {
                let room = BODY_LIMIT.saturating_sub(body.len());
                if data.len() > room {
                    body.extend_from_slice(&data[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&data);
            }
        }
        let response = Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: Bytes::from(body),
            truncated,
        };
        crate::debug::log(|| {
            let mut text =
                crate::debug::response(response.status, &response.headers, &response.body);
            if truncated {
                text.push_str(&format!("\n< (body cut off at {BODY_LIMIT} bytes)"));
            }
            crate::debug::tagged(self.number, &text)
        });
        Ok(response)
    }
}

fn describe_hyper(e: &hyper::Error) -> HttpError {
    use std::error::Error;
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return HttpError::Io(IoFailure::from(io));
        }
        source = s.source();
    }
    if e.is_incomplete_message() {
        HttpError::Incomplete
    } else if e.is_parse() {
        HttpError::Malformed(e.to_string())
    } else {
        HttpError::Other(e.to_string())
    }
}

/// The TLS handshake for `host` over `tcp`; a failure says why, with the
/// certificate the server presented (`cert`) when it got that far.
async fn handshake(
    tcp: tokio::net::TcpStream,
    host: &str,
    config: std::sync::Arc<rustls::ClientConfig>,
    timeout: Duration,
    cert: impl Fn() -> Option<CertInfo>,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, ConnectError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| TransportError::BadName(host.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(config);
    match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Err(_) => Err(ConnectError::Tls {
            reason: format!(
                "The TLS handshake did not complete within {}.",
                crate::duration::format_duration(timeout)
            ),
            cert: cert(),
        }),
        Ok(Err(e)) => match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls_err) => {
                let cert = cert();
                let reason = explain_failure(tls_err, cert.as_ref());
                Err(ConnectError::Tls { reason, cert })
            }
            // Not a TLS verdict: the peer hung up or reset mid-handshake.
            None => Err(TransportError::Handshake(IoFailure::from(&e)).into()),
        },
        Ok(Ok(s)) => Ok(s),
    }
}

/// A session not opened yet: another connection to a session's host.
pub(crate) struct SpareSession {
    host: String,
    port: u16,
    addrs: Vec<IpAddr>,
    proxy: Option<Proxy>,
    tls: TlsSetup,
    timeout: Duration,
}

impl SpareSession {
    pub(crate) async fn open(self) -> Result<Session, ConnectError> {
        let conn = Connection::connect(
            &self.host,
            self.port,
            &self.addrs,
            self.proxy.as_ref(),
            &self.tls,
            self.timeout,
        )
        .await?;
        Ok(Session::new(
            conn,
            self.addrs,
            self.proxy,
            self.tls,
            self.timeout,
        ))
    }
}

/// A connection to one host that is re-opened (to the same addresses, with
/// the same proxy) when the server closed it between requests.
pub(crate) struct Session {
    conn: Connection,
    addrs: Vec<IpAddr>,
    proxy: Option<Proxy>,
    tls: TlsSetup,
    timeout: Duration,
    /// How many connections were opened, for the report.
    pub connections: u32,
}

impl Session {
    pub(crate) fn new(
        conn: Connection,
        addrs: Vec<IpAddr>,
        proxy: Option<Proxy>,
        tls: TlsSetup,
        timeout: Duration,
    ) -> Session {
        Session {
            conn,
            addrs,
            proxy,
            tls,
            timeout,
            connections: 1,
        }
    }

    pub(crate) fn authority(&self) -> String {
        self.conn.authority()
    }

    /// What it takes to open another session to the same host, the same
    /// way (a second request that must not wait for this session's).
    pub(crate) fn spare(&self) -> SpareSession {
        SpareSession {
            host: self.conn.host.clone(),
            port: self.conn.port,
            addrs: self.addrs.clone(),
            proxy: self.proxy.clone(),
            tls: self.tls.clone(),
            timeout: self.timeout,
        }
    }

    pub(crate) async fn send(
        &mut self,
        method: http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> Result<Response, HttpError> {
        if !self.conn.is_open() {
            let host = self.conn.host.clone();
            self.conn = Connection::connect(
                &host,
                self.conn.port,
                &self.addrs,
                self.proxy.as_ref(),
                &self.tls,
                self.timeout,
            )
            .await
            .map_err(|e| HttpError::Reconnect(Box::new(e)))?;
            self.connections += 1;
        }
        self.conn
            .send(method, path, headers, body, self.timeout)
            .await
    }
}
