//! What can go wrong on the network, as types a check can match on. Each
//! `Display` is the words a person reads; the checks put them into their
//! sentence ("Could not connect to X: …").

use super::dns::DnsFailure;
use super::tls::CertInfo;
use crate::duration::format_duration;
use crate::untrusted::Untrusted;
use std::net::SocketAddr;
use std::time::Duration;

/// An I/O failure of a socket.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum IoFailure {
    #[error("connection refused")]
    Refused,
    #[error("connection reset by peer")]
    Reset,
    #[error("connection aborted")]
    Aborted,
    #[error("timed out")]
    TimedOut,
    #[error("connection closed by the server")]
    Closed,
    #[error("{0}")]
    Other(String),
}

impl From<&std::io::Error> for IoFailure {
    fn from(e: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ConnectionRefused => IoFailure::Refused,
            K::ConnectionReset => IoFailure::Reset,
            K::ConnectionAborted => IoFailure::Aborted,
            K::TimedOut => IoFailure::TimedOut,
            K::UnexpectedEof => IoFailure::Closed,
            _ => IoFailure::Other(e.to_string()),
        }
    }
}

/// Why one address did not accept a TCP connection.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AttemptFailure {
    #[error("{0}")]
    Io(IoFailure),
    #[error("timed out after {}", format_duration(*.0))]
    TimedOut(Duration),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TcpError {
    #[error("no address to connect to")]
    NoAddress,
    #[error("TCP connection failed ({})", attempts(.0))]
    Failed(Vec<(SocketAddr, AttemptFailure)>),
}

fn attempts(list: &[(SocketAddr, AttemptFailure)]) -> String {
    list.iter()
        .map(|(addr, why)| format!("{addr}: {why}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `HTTPS_PROXY` is unusable, or the proxy would not open the tunnel.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProxyError {
    #[error("invalid proxy URL: {0}")]
    InvalidUrl(url::ParseError),
    #[error("proxy scheme '{0}' is not supported (use http://)")]
    Scheme(String),
    #[error("the proxy URL has no host")]
    NoHost,
    #[error("proxy {proxy} could not be resolved in time")]
    ResolveTimeout { proxy: String },
    #[error("proxy {proxy} could not be resolved: {reason}")]
    Resolve { proxy: String, reason: IoFailure },
    #[error("proxy {proxy}: {source}")]
    Connect { proxy: String, source: TcpError },
    #[error("proxy {proxy} did not answer CONNECT in time")]
    Timeout { proxy: String },
    #[error("proxy {proxy}: {source}")]
    Io { proxy: String, source: IoFailure },
    /// 407: the proxy wants credentials, or refused the ones sent.
    #[error("{}", proxy_auth(.proxy, .schemes, *.sent))]
    AuthenticationRequired {
        proxy: String,
        /// The schemes of its `Proxy-Authenticate` headers.
        schemes: Untrusted,
        sent: bool,
    },
    /// The proxy answered CONNECT with something else than 200.
    #[error("proxy {proxy} refused the tunnel to {target}: {}", answer_or_none(.answer))]
    Refused {
        proxy: String,
        target: String,
        answer: Untrusted,
    },
}

fn proxy_auth(proxy: &str, schemes: &Untrusted, sent: bool) -> String {
    let asks = if schemes.is_empty() {
        String::new()
    } else {
        format!(" (it offers {schemes})")
    };
    let what = if sent {
        "it refused the user name and password in the proxy URL"
    } else {
        "the proxy URL carries no credentials; give them as http://user:password@proxy:port in \
            HTTPS_PROXY (and in the docker daemon's proxy setting)"
    };
    let only_windows = schemes.to_string().to_ascii_lowercase();
    let relay = if !only_windows.is_empty() && !only_windows.contains("basic") {
        "; a proxy that takes only Negotiate or NTLM needs a local relay (such as cntlm or px) for \
            docker as well"
    } else {
        ""
    };
    format!("proxy {proxy} wants authentication (407){asks}: {what}{relay}")
}

fn answer_or_none(answer: &Untrusted) -> String {
    if answer.is_empty() {
        "no answer".into()
    } else {
        answer.to_string()
    }
}

/// Below TLS: the TCP connection, the proxy tunnel, the HTTP set-up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TransportError {
    #[error(transparent)]
    Tcp(#[from] TcpError),
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("{0}")]
    Io(IoFailure),
    #[error("'{0}' is not a valid TLS name")]
    BadName(String),
    /// The peer hung up or reset in the middle of the handshake.
    #[error("the connection failed during the TLS handshake: {0}")]
    Handshake(IoFailure),
    #[error("HTTP setup failed: {0}")]
    HttpSetup(String),
}

/// A request on an open connection that got no (complete) response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("the connection was closed: {0}")]
    Closed(String),
    #[error("{0}")]
    Io(IoFailure),
    #[error("the server closed the connection before a complete response")]
    Incomplete,
    #[error("the response is not valid HTTP: {0}")]
    Malformed(String),
    #[error("{0}")]
    Other(String),
    #[error("no complete response within {}", format_duration(*.0))]
    Timeout(Duration),
    /// The connection had to be opened again for this request, and could not.
    #[error("reconnecting failed: {0}")]
    Reconnect(Box<ConnectError>),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConnectError {
    /// TCP (or the proxy tunnel) failed: refused, reset, timed out.
    #[error("connection: {0}")]
    Transport(#[from] TransportError),
    /// The TLS handshake failed.
    #[error("TLS: {reason}")]
    Tls {
        reason: String,
        cert: Option<CertInfo>,
    },
}

/// Why a connection to a named host could not be opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OpenError {
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("DNS: {failure} (asked {server})")]
    Dns { failure: DnsFailure, server: String },
    #[error(transparent)]
    Connect(#[from] ConnectError),
}
