//! A fake registry and Azure AD over real HTTPS on 127.0.0.1, with
//! certificates from a test CA, recording every request it gets.

use super::pki::ServerCert;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const REFRESH_TOKEN: &str = "refresh-token-SECRET-7f3a9c";
pub const ACCESS_TOKEN: &str = "access-token-SECRET-51bd02";
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// An unsigned JWT such as Azure AD issues, with tenant `tid`.
pub fn aad_jwt(tid: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2lnbmF0dXJlLVNFQ1JFVA",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"aud":"https://containerregistry.azure.net","tid":"{tid}","oid":"x"}}"#
        ))
    )
}

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    /// The Host header: the login server as the client addressed it.
    pub fn host(&self) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// A form field of the body.
    pub fn form(&self, key: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Never answer.
    pub stall: bool,
    /// Answer only after this long (a slow service), without holding up
    /// the server's other connections.
    pub delay: std::time::Duration,
}

impl Reply {
    pub fn new(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: body.to_string(),
            stall: false,
            delay: std::time::Duration::ZERO,
        }
    }

    pub fn json(status: u16, body: &str) -> Reply {
        Reply::new(status, body).header("content-type", "application/json")
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn after(mut self, delay: std::time::Duration) -> Reply {
        self.delay = delay;
        self
    }

    pub fn stall() -> Reply {
        Reply {
            stall: true,
            ..Reply::new(200, "")
        }
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Option<Reply> + Send + Sync>;

pub struct HttpsServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    connections: Arc<AtomicUsize>,
    _runtime: Arc<tokio::runtime::Runtime>,
}

/// A TLS acceptor that presents `cert`.
fn tls_acceptor(cert: ServerCert) -> tokio_rustls::TlsAcceptor {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(cert.chain, cert.key)
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// One request: recorded, then answered by `handler` (or as a healthy
/// registry and Azure AD for `login_server` would answer it).
async fn serve(
    req: hyper::Request<hyper::body::Incoming>,
    handler: &Handler,
    reqs: &Mutex<Vec<Request>>,
    login_server: &str,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let request = Request {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    reqs.lock().unwrap().push(request.clone());
    let reply = handler(&request).unwrap_or_else(|| healthy(login_server, &request));
    if reply.stall {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(reply.delay).await;
    let mut resp = hyper::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        resp = resp.header(k, v);
    }
    resp.body(Full::new(Bytes::from(reply.body))).unwrap()
}

impl HttpsServer {
    /// Like `start`, for a login server host whose port is this server's own
    /// (known only once it listens); the handler is made knowing the port.
    pub fn start_deferred(
        cert: ServerCert,
        host: &str,
        handler: impl FnOnce(u16) -> Handler,
    ) -> HttpsServer {
        Self::start_inner(cert, host, true, handler)
    }

    /// Serves `handler`'s replies (falling back to a healthy ACR + Azure AD
    /// for `login_server`) with `cert`.
    pub fn start(cert: ServerCert, login_server: &str, handler: Handler) -> HttpsServer {
        Self::start_inner(cert, login_server, false, |_| handler)
    }

    fn start_inner(
        cert: ServerCert,
        login_server: &str,
        add_port: bool,
        handler: impl FnOnce(u16) -> Handler,
    ) -> HttpsServer {
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap(),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tls_acceptor(cert);
        let handler = handler(addr.port());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let login_server = if add_port {
            format!("{login_server}:{}", addr.port())
        } else {
            login_server.to_string()
        };
        let (reqs, conns) = (requests.clone(), connections.clone());
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                // As a real front end does: no Nagle delay on small writes.
                let _ = tcp.set_nodelay(true);
                conns.fetch_add(1, Ordering::SeqCst);
                let (acceptor, handler, reqs, ls) = (
                    acceptor.clone(),
                    handler.clone(),
                    reqs.clone(),
                    login_server.clone(),
                );
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req| {
                        let (handler, reqs, ls) = (handler.clone(), reqs.clone(), ls.clone());
                        async move { Ok::<_, Infallible>(serve(req, &handler, &reqs, &ls).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        HttpsServer {
            addr,
            requests,
            connections,
            _runtime: runtime,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// The Bearer challenge of a registry addressed as `host` (`name[:port]`).
pub fn bearer_challenge(host: &str) -> String {
    let bare = host.split(':').next().unwrap_or(host);
    format!(r#"Bearer realm="https://{host}/oauth2/token",service="{bare}""#)
}

/// What a healthy registry and Azure AD answer.
pub fn healthy(login_server: &str, r: &Request) -> Reply {
    // A registry names itself as it was addressed (one server plays several
    // login servers here, as a registry answers to its name and its hash name).
    let addressed = r.host();
    let login_server = if addressed.is_empty() {
        login_server
    } else {
        addressed.as_str()
    };
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/v2/") => Reply::json(401, r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":null}]}"#)
            .header("www-authenticate", &bearer_challenge(login_server)),
        ("POST", "/oauth2/exchange") => Reply::json(200, &format!(r#"{{"refresh_token":"{REFRESH_TOKEN}"}}"#)),
        ("POST", "/oauth2/token") => Reply::json(200, &format!(r#"{{"access_token":"{ACCESS_TOKEN}"}}"#)),
        ("POST", p) if p.ends_with("/oauth2/v2.0/token") => Reply::json(
            200,
            &format!(r#"{{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"{}"}}"#, aad_jwt(TENANT)),
        ),
        _ => Reply::json(404, r#"{"errors":[{"code":"NOT_FOUND","message":"not found"}]}"#),
    }
}

/// One stream of a raw TLS server.
pub type RawTls = rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>;

/// Reads one HTTP request head (up to the blank line) from a raw stream.
pub fn read_head(s: &mut impl std::io::Read) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap_or(0) == 1 {
        head.push(b[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A TLS server that hands each accepted stream to `serve` (blocking I/O on
/// a thread): for answers no well-behaved HTTP server would give.
pub fn raw_tls_server(
    cert: ServerCert,
    serve: impl Fn(&mut RawTls) + Send + Sync + 'static,
) -> SocketAddr {
    raw_tls_server_on("127.0.0.1:0", cert, serve)
}

/// `raw_tls_server` listening on `bind` (e.g. `[::1]:0`).
pub fn raw_tls_server_on(
    bind: &str,
    cert: ServerCert,
    serve: impl Fn(&mut RawTls) + Send + Sync + 'static,
) -> SocketAddr {
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(cert.chain, cert.key)
        .unwrap(),
    );
    let listener = std::net::TcpListener::bind(bind).unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let (config, serve) = (config.clone(), serve.clone());
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut stream = rustls::StreamOwned::new(conn, tcp);
                serve(&mut stream);
            });
        }
    });
    addr
}

/// A TCP server that writes `bytes` to each connection and then holds it open.
pub fn raw_tcp_server(bytes: &'static [u8]) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut tcp in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf);
                let _ = tcp.write_all(bytes);
                std::thread::sleep(std::time::Duration::from_secs(5));
            });
        }
    });
    addr
}
