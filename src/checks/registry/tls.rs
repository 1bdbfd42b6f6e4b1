//! TCP and TLS to the login server: the connection every later registry
//! request reuses.

use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::net::connection::{ConnectError, Connection};
use crate::net::proxy::Proxy;
use crate::net::tls::TlsSetup;
use crate::target::LoginServer;
use std::net::IpAddr;
use std::time::Duration;

/// The `registry.tls` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.tls",
    title: "TLS connection",
    proves: "TCP and TLS to the registry (directly or through HTTPS_PROXY): the TLS version and \
        the certificate's subject, issuer, names and validity; with IPv4 and IPv6 addresses, one \
        of each is connected to alongside.",
    warnings: &[
        warning(
            "one IP family fails while the other works",
            "pulls stall or fail depending on \
                the family the runtime tries first: fix the failing family's route or firewall, or \
                stop publishing its addresses",
        ),
        warning(
            "az would not verify TLS (AZURE_CLI_DISABLE_CONNECTION_VERIFICATION)",
            "docker verifies: trust the registry's certificate chain instead",
        ),
    ],
    codes: &[
        ErrorCode::ConnectivitySslError,
        ErrorCode::ConnectivityChallengeError,
    ],
    planned: Planned::WithRegistry,
};

pub(crate) async fn check(
    ls: &LoginServer,
    addrs: &[IpAddr],
    proxy: Option<&Proxy>,
    tls: &TlsSetup,
    timeout: Duration,
) -> (CheckResult, Option<Connection>) {
    let id = CheckId::RegistryTls;
    let target = ls.authority();
    match Connection::connect(&ls.host, ls.port, addrs, proxy, tls, timeout).await {
        Ok(conn) => {
            let info = &conn.info;
            let mut r = CheckResult::pass(
                id,
                format!(
                    "TLS connection to {target} at {} : OK ({})",
                    info.peer, info.tls_version
                ),
            )
            .with_detail("peer", info.peer.to_string())
            .with_detail("tls_version", info.tls_version.clone())
            .with_detail("tcp_ms", info.tcp_ms)
            .with_detail("tls_ms", info.tls_ms)
            .with_detail("trust", tls.trust_sources.clone());
            if let Some(cert) = &info.cert {
                r = r
                    .with_detail("certificate", cert.to_json())
                    .with_note(format!("certificate: {}", cert.describe()));
            }
            if let Some(p) = &info.via_proxy {
                r = r
                    .with_detail("proxy", p.clone())
                    .with_note(format!("through proxy {p} (HTTPS_PROXY)"));
            }
            (r, Some(conn))
        }
        Err(ConnectError::Transport(why)) => {
            let mut detail = format!("Could not connect to {target}: {why}.");
            if let Some(p) = proxy {
                detail.push_str(&format!(
                    " The connection goes through proxy {} (HTTPS_PROXY).",
                    p.display()
                ));
            }
            let r = CheckResult::fail(id, ErrorCode::ConnectivityChallengeError, detail)
                .with_detail("transport", why.to_string());
            (r, None)
        }
        Err(ConnectError::Tls { reason, cert }) => {
            let mut detail = reason.clone();
            if let Some(c) = &cert {
                detail.push_str(&format!("\nPresented certificate: {}.", c.describe()));
            }
            if let Some(p) = proxy {
                detail.push_str(&format!(
                    "\nThe connection goes through proxy {} (HTTPS_PROXY).",
                    p.display()
                ));
            }
            let mut r = CheckResult::fail(id, ErrorCode::ConnectivitySslError, detail)
                .with_detail("reason", reason)
                .with_detail("trust", tls.trust_sources.clone());
            if let Some(c) = cert {
                r = r.with_detail("certificate", c.to_json());
            }
            (r, None)
        }
    }
}

/// `AZURE_CLI_DISABLE_CONNECTION_VERIFICATION` makes az skip certificate
/// checks; acr-health verifies anyway, and warns that az and tools run with
/// that variable would not have.
pub(crate) fn az_would_not_verify(r: CheckResult) -> CheckResult {
    const NOTE: &str = "AZURE_CLI_DISABLE_CONNECTION_VERIFICATION is set: az would not verify the \
        registry's certificate, acr-health does (docker and other clients do too)";
    match r.status {
        crate::report::Status::Pass => {
            let line = format!("{} ({NOTE})", r.message);
            r.into_warning(line)
        }
        _ => r.with_note(NOTE),
    }
}
