//! A fake ACR: test CA, DNS server and HTTPS registry + Azure AD, wired so
//! that the binary reaches only 127.0.0.1.

use super::dns::DnsServer;
use super::pki::{Ca, ServerCert};
use super::server::{Handler, HttpsServer, Reply, Request};
use super::{run_with, Run, Tools};
use std::sync::Arc;

pub const REGISTRY: &str = "myregistry";
pub const HOST: &str = "myregistry.azurecr.io";
pub const CLIENT_SECRET: &str = "client-secret-SECRET-0c1d2e";
pub const PASSWORD: &str = "admin-password-SECRET-9a8b7c";

pub struct FakeAcr {
    pub ca: Ca,
    pub dns: DnsServer,
    pub server: HttpsServer,
    pub tools: Tools,
}

impl FakeAcr {
    /// A healthy registry, with `handler` answering first where it returns a reply.
    pub fn start(handler: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static) -> FakeAcr {
        let ca = Ca::new("acr-health test root");
        let cert = ca.issue(&[HOST, "127.0.0.1"]);
        Self::with_cert(ca, cert, handler)
    }

    pub fn healthy() -> FakeAcr {
        Self::start(|_| None)
    }

    pub fn with_cert(
        ca: Ca,
        cert: ServerCert,
        handler: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
    ) -> FakeAcr {
        let dns = DnsServer::start();
        // The port is only known once the server runs; the realm names it.
        let server = HttpsServer::start_deferred(cert, HOST, Arc::new(handler) as Handler);
        dns.a(HOST, "127.0.0.1");
        FakeAcr {
            ca,
            dns,
            server,
            tools: Tools::new(),
        }
    }

    pub fn login_server(&self) -> String {
        format!("{HOST}:{}", self.server.port())
    }

    /// `check` against this registry, environment checks skipped.
    pub fn args(&self) -> Vec<String> {
        vec![
            "check".into(),
            "-n".into(),
            REGISTRY.into(),
            "--login-server".into(),
            self.login_server(),
            "--dns-server".into(),
            self.dns.flag(),
            "--ca-file".into(),
            self.ca.pem_file().display().to_string(),
            "--skip".into(),
            "environment".into(),
            "--timeout".into(),
            "3".into(),
        ]
    }

    /// A service principal whose Azure AD is this server.
    pub fn sp_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "AZURE_AUTHORITY_HOST".into(),
                format!("https://127.0.0.1:{}", self.server.port()),
            ),
            ("AZURE_TENANT_ID".into(), super::server::TENANT.into()),
            (
                "AZURE_CLIENT_ID".into(),
                "11111111-2222-3333-4444-555555555555".into(),
            ),
            ("AZURE_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
        ]
    }

    /// Runs `check` with the service principal and `extra` arguments.
    pub fn check(&self, extra: &[&str]) -> Run {
        let env = self.sp_env();
        self.check_env(extra, &env)
    }

    pub fn check_env(&self, extra: &[&str], env: &[(String, String)]) -> Run {
        let mut args: Vec<String> = self.args();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let out = run_with(&args, &self.tools, &env);
        out.assert_no_secrets();
        out
    }
}
