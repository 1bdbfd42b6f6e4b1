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
    /// A healthy registry (certificate for `names`) whose Resource Manager
    /// answers with `make(port)`.
    pub fn with_arm<H>(names: &[&str], make: impl FnOnce(u16) -> H) -> FakeAcr
    where
        H: Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
    {
        let ca = Ca::new("acr-health test root");
        let cert = ca.issue(names);
        Self::with_port_handler(ca, cert, make)
    }

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
        Self::with_port_handler(ca, cert, move |_| handler)
    }

    /// A registry whose handler is made knowing the server's port (for
    /// documents that name the server, such as Resource Manager's).
    pub fn with_port_handler<H>(ca: Ca, cert: ServerCert, make: impl FnOnce(u16) -> H) -> FakeAcr
    where
        H: Fn(&Request) -> Option<Reply> + Send + Sync + 'static,
    {
        let dns = DnsServer::start();
        // The port is only known once the server runs; the realm names it.
        let server =
            HttpsServer::start_deferred(cert, HOST, |port| Arc::new(make(port)) as Handler);
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
        self.run_checked(self.args(), extra, env)
    }

    /// Runs `args` + `extra` with `env`, and asserts that no secret leaked.
    fn run_checked(&self, mut args: Vec<String>, extra: &[&str], env: &[(String, String)]) -> Run {
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let out = run_with(&args, &self.tools, &env);
        out.assert_no_secrets();
        out
    }
}

pub const SUBSCRIPTION: &str = "00000000-1111-2222-3333-444444444444";

/// A registry resource as Resource Manager returns it, with `properties`
/// and `identity` merged in.
pub fn registry_doc(
    properties: serde_json::Value,
    identity: serde_json::Value,
) -> serde_json::Value {
    let mut props = serde_json::json!({
        "loginServer": HOST,
        "publicNetworkAccess": "Enabled",
        "networkRuleSet": {"defaultAction": "Allow", "ipRules": []},
        "dataEndpointEnabled": false,
        "dataEndpointHostNames": [],
        "privateEndpointConnections": [],
        "encryption": {"status": "disabled"},
    });
    if let (Some(p), Some(extra)) = (props.as_object_mut(), properties.as_object()) {
        for (k, v) in extra {
            p.insert(k.clone(), v.clone());
        }
    }
    serde_json::json!({
        "id": format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.ContainerRegistry/registries/{REGISTRY}"),
        "name": REGISTRY,
        "type": "Microsoft.ContainerRegistry/registries",
        "location": "eastus",
        "identity": identity,
        "properties": props,
    })
}

/// Answers Resource Manager's registry list with `registries`, and each
/// identity in `identities` (resource id → document) by id.
pub fn arm_handler(
    registries: Vec<serde_json::Value>,
    identities: Vec<(String, serde_json::Value)>,
) -> impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static {
    move |r: &Request| {
        let list = format!(
            "/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerRegistry/registries"
        );
        if r.path == list {
            let body = serde_json::json!({ "value": registries }).to_string();
            return Some(Reply::json(200, &body));
        }
        if r.path
            .contains("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/")
        {
            return Some(
                match identities
                    .iter()
                    .find(|(id, _)| id.eq_ignore_ascii_case(&r.path))
                {
                    Some((_, doc)) => Reply::json(200, &doc.to_string()),
                    None => Reply::json(
                        404,
                        r#"{"error":{"code":"ResourceNotFound","message":"not found"}}"#,
                    ),
                },
            );
        }
        None
    }
}

impl FakeAcr {
    /// az configured for a cloud whose Resource Manager and Azure AD are this
    /// server, with a default subscription.
    pub fn arm_config(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let me = format!("https://127.0.0.1:{}", self.server.port());
        std::fs::write(dir.path().join("config"), "[cloud]\nname = TestCloud\n").unwrap();
        std::fs::write(
            dir.path().join("clouds.config"),
            format!("[TestCloud]\nendpoint_resource_manager = {me}\nendpoint_active_directory = {me}\nendpoint_active_directory_resource_id = https://management.core.windows.net/\nsuffix_acr_login_server_endpoint = .azurecr.io\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("azureProfile.json"),
            format!(
                "\u{feff}{{\"subscriptions\":[{{\"id\":\"{SUBSCRIPTION}\",\"isDefault\":true}}]}}"
            ),
        )
        .unwrap();
        dir
    }

    /// `check` with Resource Manager available; `with_flag` keeps --login-server.
    pub fn check_arm(&self, extra: &[&str], with_flag: bool) -> Run {
        let cfg = self.arm_config();
        let mut env = self.sp_env();
        env.push(("AZURE_CONFIG_DIR".into(), cfg.path().display().to_string()));
        let mut args = self.args();
        if !with_flag {
            let at = args.iter().position(|a| a == "--login-server").unwrap();
            args.drain(at..at + 2);
        }
        self.run_checked(args, extra, &env)
    }
}

/// A login server with a domain name label hash, as Resource Manager names it.
pub const HASHED: &str = "myregistry-abc123.azurecr.io";

impl FakeAcr {
    /// A registry whose Resource Manager document names the hash-suffixed
    /// login server [`HASHED`] (on this server's port), which DNS resolves.
    pub fn with_hashed_login_server() -> FakeAcr {
        let acr = FakeAcr::with_arm(&[HOST, HASHED, "127.0.0.1"], |port| {
            arm_handler(
                vec![registry_doc(
                    serde_json::json!({"loginServer": format!("{HASHED}:{port}")}),
                    serde_json::json!(null),
                )],
                vec![],
            )
        });
        acr.dns.a(HASHED, "127.0.0.1");
        acr
    }
}
