//! On a Kubernetes node (`--kubelet --host-root DIR`): the kubelet's
//! credential path checked from the node's own files (real AKS files under
//! a temporary root), its identity's token from a fake instance metadata
//! service that knows only the kubelet identity, and the exchange as the
//! credential provider makes it, through the node's trust store and
//! containerd's proxy.
#![cfg(unix)]

use crate::common::acr::*;
use crate::common::plain::{connect_proxy, http_server_with, Log};
use crate::common::server::{aad_jwt, Reply, Request};
use crate::common::{run_with, Run};
use std::net::SocketAddr;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

const KUBELET_CLIENT_ID: &str = "0f0f0f0f-1111-2222-3333-444444444444";
const KUBELET_RESOURCE_ID: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/MC_rg_aks_eastus/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-agentpool";
const NODE_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SP_ID: &str = "8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d";
const SP_SECRET: &str = "sp-client-secret-SECRET-4d3c2b";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aks-node")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The registry's refusal of a credential.
const UNAUTHORIZED: &str =
    r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;

const PROVIDER_CONFIG: &str = "/var/lib/kubelet/credential-provider-config.yaml";

/// The fixture's provider configuration, its `*.azurecr.io` pattern given
/// the test registry's port: the kubelet matches ports too, and a real
/// registry is on 443, which an image reference leaves out.
fn provider_config(acr: &FakeAcr) -> String {
    let port = acr.server.port();
    fixture("credential-provider-config.yaml")
        .replace("\"*.azurecr.io\"", &format!("\"*.azurecr.io:{port}\""))
}

/// A node: the registry, its files under a root, and its IMDS.
struct Node {
    acr: FakeAcr,
    root: tempfile::TempDir,
    imds: SocketAddr,
    imds_log: Log,
}

fn write(root: &Path, path: &str, text: &str) {
    let at = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::fs::write(at, text).unwrap();
}

/// An Azure AD token of `aud` for the node's tenant.
fn jwt_for(aud: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let claims = serde_json::json!({"aud": aud, "tid": NODE_TENANT, "oid": "kubelet"});
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&claims.to_string())
    )
}

const ARM_AUDIENCE: &str = "https://management.core.windows.net/";

/// IMDS that gives the kubelet identity only a token of the registry's or
/// Resource Manager's audience, and refuses any other identity as IMDS does.
fn imds() -> (SocketAddr, Log) {
    http_server_with(|line| {
        let known = line.contains(&format!("client_id={KUBELET_CLIENT_ID}"))
            || line.contains(&format!(
                "msi_res_id={}",
                KUBELET_RESOURCE_ID.replace('/', "%2F")
            ));
        let token = if line.contains("resource=https%3A%2F%2Fcontainerregistry.azure.net") {
            Some(aad_jwt(NODE_TENANT))
        } else if line.contains("resource=https%3A%2F%2Fmanagement") {
            Some(jwt_for(ARM_AUDIENCE))
        } else {
            None
        };
        if let (true, Some(token)) = (known, token) {
            let body = serde_json::json!({"access_token": token,
                "expires_on": "4070908800", "token_type": "Bearer"});
            (200, body.to_string())
        } else {
            (
                400,
                r#"{"error":"invalid_request","error_description":"Identity not found"}"#.into(),
            )
        }
    })
}

impl Node {
    /// A healthy AKS node whose kubelet identity may pull from the registry.
    fn new(handler: impl Fn(&Request) -> Option<Reply> + Send + Sync + 'static) -> Node {
        let acr = FakeAcr::start(handler);
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write(
            r,
            "/etc/kubernetes/azure.json",
            &fixture("azure.json.managed-identity"),
        );
        write(r, "/etc/default/kubelet", &fixture("kubelet"));
        write(r, PROVIDER_CONFIG, &provider_config(&acr));
        let provider = "/var/lib/kubelet/credential-provider/acr-credential-provider";
        write(r, provider, "#!/bin/sh\nexit 1\n");
        let mode = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(r.join(provider.trim_start_matches('/')), mode).unwrap();
        // The node's trust store holds the registry's CA, through a symlink
        // as update-ca-certificates leaves it.
        let pem = std::fs::read_to_string(acr.ca.pem_file()).unwrap();
        write(r, "/usr/local/share/ca-certificates/registry-ca.crt", &pem);
        std::fs::create_dir_all(r.join("etc/ssl/certs")).unwrap();
        symlink(
            "/usr/local/share/ca-certificates/registry-ca.crt",
            r.join("etc/ssl/certs/ca-certificates.crt"),
        )
        .unwrap();
        let (imds, imds_log) = imds();
        Node {
            acr,
            root,
            imds,
            imds_log,
        }
    }

    fn healthy() -> Node {
        Node::new(|_| None)
    }

    fn set(&self, path: &str, text: &str) {
        write(self.root.path(), path, text);
    }

    fn run(&self, extra: &[&str]) -> Run {
        let mut args = vec!["--dns-server".to_string(), self.acr.dns.flag()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run_resolving(&args)
    }

    /// `run` without `--dns-server`: names are asked of the node's resolver.
    fn run_resolving(&self, extra: &[&str]) -> Run {
        self.run_at(&self.acr.login_server(), extra)
    }

    /// `run_resolving` against `login_server`.
    fn run_at(&self, login_server: &str, extra: &[&str]) -> Run {
        let root = self.root.path().display().to_string();
        let mut args = vec![
            "check".to_string(),
            "-n".into(),
            REGISTRY.into(),
            "--login-server".into(),
            login_server.to_string(),
            "--kubelet".into(),
            "--host-root".into(),
            root,
            "--timeout".into(),
            "3".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let imds = format!("http://{}", self.imds);
        // Azure AD, for a service principal's sign-in.
        let aad = format!("https://127.0.0.1:{}", self.acr.server.port());
        let out = run_with(
            &args,
            &self.acr.tools,
            &[
                ("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds.as_str()),
                ("AZURE_AUTHORITY_HOST", aad.as_str()),
            ],
        );
        out.assert_no_secrets();
        out
    }
}

fn status(out: &Run, id: &str) -> String {
    out.check(id)["status"].as_str().unwrap().to_string()
}

fn message(out: &Run, id: &str) -> String {
    out.check(id)["message"].as_str().unwrap().to_string()
}

#[test]
fn a_healthy_node_gets_the_kubelet_s_credential_the_provider_s_way() {
    let node = Node::healthy();
    let out = node.run(&["--json"]);
    out.assert_code(0);
    for id in [
        "node.azure_json",
        "node.credential_provider",
        "node.identity",
        "node.exchange",
        "node.audiences",
        "registry.tls",
        "registry.access_token",
    ] {
        assert_eq!(status(&out, id), "pass", "{id}: {}", out.check(id));
    }
    // The workstation's checks and the registry's own exchange step aside.
    for id in [
        "docker.command",
        "helm.command",
        "notary.version",
        "registry.refresh_token",
    ] {
        assert_eq!(status(&out, id), "skip", "{id}");
        assert!(
            message(&out, id).contains("node mode"),
            "{id}: {}",
            message(&out, id)
        );
    }
    // IMDS was asked for the kubelet identity and the registry's audience.
    let asked = node.imds_log.lock().unwrap().join("\n");
    assert!(
        asked.contains(&format!("client_id={KUBELET_CLIENT_ID}")),
        "{asked}"
    );
    assert!(
        asked.contains("resource=https%3A%2F%2Fcontainerregistry.azure.net"),
        "{asked}"
    );
    // The exchange, as the credential provider posts it (the registry
    // audience's; the Resource Manager audience's went beside it).
    let exchanges = node.acr.server.requests_to("/oauth2/exchange");
    let exchange = exchanges
        .iter()
        .find(|r| r.form("access_token") == Some(aad_jwt(NODE_TENANT)))
        .expect("the registry-audience exchange");
    assert_eq!(
        exchange.form("grant_type").as_deref(),
        Some("access_token_refresh_token")
    );
    assert_eq!(exchange.form("tenant").as_deref(), Some(NODE_TENANT));
    assert_eq!(exchange.form("access_token"), Some(aad_jwt(NODE_TENANT)));
    assert_eq!(exchange.form("refresh_token"), Some(aad_jwt(NODE_TENANT)));
    // Trusted through the node's store alone (no --ca-file).
    assert!(
        out.check("registry.tls")["details"]
            .to_string()
            .contains("node store"),
        "{}",
        out.check("registry.tls")
    );
    // The text report names the checks too.
    let text = node.run(&[]);
    text.assert_code(0);
    text.assert_text_has("Credential provider 'acr-credential-provider' for");
}

#[test]
fn an_identity_not_assigned_to_the_node_is_named() {
    let node = Node::healthy();
    let other = "99999999-8888-7777-6666-555555555555";
    node.set(
        "/etc/kubernetes/azure.json",
        &fixture("azure.json.managed-identity").replace(KUBELET_CLIENT_ID, other),
    );
    let out = node.run(&[]);
    out.assert_code(1);
    out.assert_error_block(
        "KUBELET_CREDENTIAL_ERROR",
        &format!("managed identity client id {other} (Identity not found): it is not assigned to this node's virtual machine scale set"),
    );
    assert!(node.acr.server.requests_to("/oauth2/exchange").is_empty());
}

#[test]
fn match_images_that_miss_the_registry_leave_the_kubelet_without_a_credential() {
    let node = Node::healthy();
    let port = node.acr.server.port();
    let without =
        provider_config(&node.acr).replace(&format!("      - \"*.azurecr.io:{port}\"\n"), "");
    node.set(PROVIDER_CONFIG, &without);
    let out = node.run(&[]);
    out.assert_code(1);
    out.assert_error_block("KUBELET_CREDENTIAL_ERROR", "covers myregistry.azurecr.io");
    out.assert_text_has("*.azurecr.cn");
}

#[test]
fn without_azure_json_the_node_says_which_file_is_missing() {
    let node = Node::healthy();
    std::fs::remove_file(node.root.path().join("etc/kubernetes/azure.json")).unwrap();
    let out = node.run(&["--json", "--ignore-errors"]);
    out.assert_code(1);
    let azure = out.check("node.azure_json");
    assert_eq!(azure["code"], "KUBELET_CREDENTIAL_ERROR");
    assert!(
        message(&out, "node.azure_json").contains("etc/kubernetes/azure.json does not exist"),
        "{azure}"
    );
    assert_eq!(status(&out, "node.identity"), "skip");
    assert_eq!(status(&out, "node.exchange"), "skip");
}

#[test]
fn the_in_tree_credential_path_is_said_to_be_not_covered() {
    let node = Node::healthy();
    node.set("/etc/default/kubelet", &fixture("kubelet.in-tree"));
    let out = node.run(&["--json"]);
    assert_eq!(status(&out, "node.credential_provider"), "warn");
    assert!(message(&out, "node.credential_provider").contains("in-tree"));
}

#[test]
fn token_attributes_mean_pods_pull_with_their_own_identity() {
    let node = Node::healthy();
    node.set(
        PROVIDER_CONFIG,
        &format!(
            "{}    tokenAttributes:\n      serviceAccountTokenAudience: api://AzureADTokenExchange\n      requireServiceAccount: true\n",
            provider_config(&node.acr)
        ),
    );
    let out = node.run(&["--json"]);
    let provider = out.check("node.credential_provider");
    assert_eq!(provider["status"], "warn", "{provider}");
    assert!(
        provider.to_string().contains("own service account"),
        "{provider}"
    );
}

#[test]
fn a_service_principal_node_sends_its_id_and_secret_as_containerd_does() {
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{SP_ID}:{SP_SECRET}"))
    };
    let expected = format!("Basic {basic}");
    let node = Node::new(move |r| {
        if r.path.starts_with("/oauth2/token") {
            let sent = r
                .headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.clone());
            return Some(match (r.method.as_str(), sent) {
                ("GET", Some(v)) if v == expected => {
                    Reply::json(200, r#"{"access_token":"sp-access-token-SECRET-0a0b"}"#)
                }
                _ => Reply::json(401, UNAUTHORIZED),
            });
        }
        None
    });
    node.set(
        "/etc/kubernetes/azure.json",
        &fixture("azure.json.service-principal"),
    );
    let out = node.run(&["--json", "--repository", "team/app"]);
    out.assert_code(0);
    assert_eq!(status(&out, "node.exchange"), "skip");
    assert!(message(&out, "node.exchange").contains("service principal"));
    assert_eq!(
        status(&out, "registry.access_token"),
        "pass",
        "{}",
        out.check("registry.access_token")
    );
    let token = &node
        .acr
        .server
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/oauth2/token"))
        .unwrap();
    assert_eq!(token.method, "GET");
    assert!(
        token.query.contains("scope=repository%3Ateam%2Fapp%3Apull"),
        "{}",
        token.query
    );
    assert!(node.acr.server.requests_to("/oauth2/exchange").is_empty());
    assert!(node.imds_log.lock().unwrap().is_empty(), "IMDS was asked");
}

#[test]
fn a_refused_service_principal_is_named_and_advised_for() {
    let node = Node::new(|r| {
        r.path
            .starts_with("/oauth2/token")
            .then(|| Reply::json(401, UNAUTHORIZED))
    });
    node.set(
        "/etc/kubernetes/azure.json",
        &fixture("azure.json.service-principal"),
    );
    let out = node.run(&[]);
    out.assert_code(1);
    out.assert_error_block(
        "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        "Please check the service principal's role assignment on the registry (AcrPull) and its client secret.",
    );
    out.assert_text_has(&format!(
        "Credential used: the node's service principal {SP_ID} (azure.json)."
    ));
    // Azure AD signs it in: the secret is good, the role is missing.
    out.assert_text_has(
        "the secret is valid, and the registry refuses the service principal for want of a role \
         on it (AcrPull).",
    );
}

#[test]
fn a_service_principal_with_an_expired_secret_is_told_from_a_missing_role() {
    let node = Node::new(|r| {
        if r.path.ends_with("/oauth2/v2.0/token") {
            return Some(Reply::json(
                401,
                r#"{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app are expired. Trace ID: x"}"#,
            ));
        }
        r.path
            .starts_with("/oauth2/token")
            .then(|| Reply::json(401, UNAUTHORIZED))
    });
    node.set(
        "/etc/kubernetes/azure.json",
        &fixture("azure.json.service-principal"),
    );
    let out = node.run(&["--json"]);
    out.assert_code(1);
    let access = message(&out, "registry.access_token");
    assert!(
        access.contains("Azure AD refuses the service principal too")
            && access.contains("AADSTS7000222")
            && access.contains("the client secret has expired"),
        "{access}"
    );
    // Asked with the node's tenant, id and secret.
    let sign_in = node
        .acr
        .server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .expect("Azure AD was asked");
    assert!(sign_in.path.contains(NODE_TENANT), "{}", sign_in.path);
    assert_eq!(sign_in.form("client_id").as_deref(), Some(SP_ID));
}

#[test]
fn the_registry_is_reached_through_containerd_s_proxy() {
    let node = Node::healthy();
    let (proxy, log) = connect_proxy();
    node.set(
        "/etc/systemd/system.conf.d/proxy.conf",
        &fixture("system-proxy.conf").replace(
            "http://proxy.contoso.internal:3128/",
            &format!("http://{proxy}/"),
        ),
    );
    let out = node.run(&["--json"]);
    out.assert_code(0);
    let connects = log.lock().unwrap().join("\n");
    assert!(
        connects.contains("CONNECT myregistry.azurecr.io"),
        "{connects}"
    );
}

#[test]
fn names_are_asked_of_the_node_s_resolver_through_its_symlinked_resolv_conf() {
    // A resolver asks port 53 only: a DNS server there needs root (as
    // .ci/run runs the tests); elsewhere this test has nothing to bind.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: a DNS server on port 53 needs root");
        return;
    }
    let dns =
        crate::common::dns::DnsServer::start_on("127.77.0.53:53").expect("127.77.0.53:53 is free");
    dns.a(HOST, "127.0.0.1");
    let node = Node::healthy();
    node.set(
        "/run/systemd/resolve/resolv.conf",
        "nameserver 127.77.0.53\noptions timeout:2\n",
    );
    symlink(
        "/run/systemd/resolve/resolv.conf",
        node.root.path().join("etc/resolv.conf"),
    )
    .unwrap();
    let out = node.run_resolving(&["--json"]);
    out.assert_code(0);
    let lookup = out.check("registry.dns");
    assert_eq!(lookup["status"], "pass", "{lookup}");
    assert!(
        lookup.to_string().contains("the node's resolver"),
        "{lookup}"
    );
    assert!(
        dns.asked().iter().any(|n| n.trim_end_matches('.') == HOST),
        "{:?}",
        dns.asked()
    );
    assert!(
        node.acr.dns.asked().is_empty(),
        "the test's other DNS server was asked"
    );
}

#[test]
fn a_registry_served_from_another_region_than_the_node_s_is_a_warning() {
    let node = Node::healthy();
    // The node is in eastus (azure.json); the DNS chain leads to westeurope.
    node.acr
        .dns
        .cname(HOST, "westeurope-acr-reg.trafficmanager.net")
        .a("westeurope-acr-reg.trafficmanager.net", "127.0.0.1");
    let out = node.run(&["--json"]);
    out.assert_code(0);
    let region = out.check("node.region");
    assert_eq!(region["status"], "warn", "{region}");
    assert!(
        message(&out, "node.region")
            .contains("from westeurope (by its DNS chain), and the node is in eastus"),
        "{region}"
    );
    // The same region is a pass.
    let node = Node::healthy();
    node.acr
        .dns
        .cname(HOST, "eastus-acr-reg.trafficmanager.net")
        .a("eastus-acr-reg.trafficmanager.net", "127.0.0.1");
    let out = node.run(&["--json"]);
    assert_eq!(
        status(&out, "node.region"),
        "pass",
        "{}",
        out.check("node.region")
    );
}

#[test]
fn a_registry_that_refuses_the_resource_manager_audience_is_said_to() {
    // azureADAuthenticationAsArmPolicy disabled: only the registry audience.
    let node = Node::new(|r| {
        let arm = jwt_for(ARM_AUDIENCE);
        (r.path == "/oauth2/exchange" && r.form("access_token") == Some(arm)).then(|| {
            Reply::json(
                401,
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"arm aad token disallowed"}]}"#,
            )
        })
    });
    let out = node.run(&["--json"]);
    // The kubelet of a current node pulls: the run is healthy.
    out.assert_code(0);
    assert_eq!(status(&out, "node.exchange"), "pass");
    let audiences = out.check("node.audiences");
    assert_eq!(audiences["status"], "warn", "{audiences}");
    assert!(
        message(&out, "node.audiences").contains("refuses the Resource Manager audience (401)")
            && message(&out, "node.audiences").contains("az aks check-acr"),
        "{audiences}"
    );
}

#[test]
fn an_azure_json_readable_by_root_only_is_said_to_need_root() {
    // As AKS writes it (0600, root); the check runs as nobody. Needs root
    // to set up, and util-linux's setpriv.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: making a root-only file needs root");
        return;
    }
    let node = Node::healthy();
    let walk = |dir: &Path| -> Vec<std::path::PathBuf> {
        let mut all = vec![dir.to_path_buf()];
        let mut at = 0;
        while at < all.len() {
            if let Ok(entries) = std::fs::read_dir(&all[at]) {
                all.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
            }
            at += 1;
        }
        all
    };
    for dir in walk(node.root.path()).into_iter().chain([
        node.acr.tools.path().to_path_buf(),
        node.acr.tools.home.path().to_path_buf(),
    ]) {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let azure = node.root.path().join("etc/kubernetes/azure.json");
    std::fs::set_permissions(&azure, std::fs::Permissions::from_mode(0o600)).unwrap();
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("util-linux's setpriv");
    let out = std::process::Command::new(setpriv)
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            crate::common::BIN,
        ])
        .args([
            "check",
            "-n",
            REGISTRY,
            "--login-server",
            &node.acr.login_server(),
        ])
        .args([
            "--dns-server",
            &node.acr.dns.flag(),
            "--kubelet",
            "--host-root",
        ])
        .arg(node.root.path())
        .args(["--json", "--timeout", "3"])
        .env_clear()
        .env("PATH", node.acr.tools.path())
        .env("HOME", node.acr.tools.home.path())
        .env(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            format!("http://{}", node.imds),
        )
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "node.azure_json")
        .unwrap()
        .clone();
    assert_eq!(check["code"], "KUBELET_CREDENTIAL_ERROR", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("readable by root only: run as root"),
        "{check}"
    );
}

#[test]
fn a_kubelet_identity_named_by_resource_id_is_asked_for_by_msi_res_id() {
    let node = Node::healthy();
    node.set(
        "/etc/kubernetes/azure.json",
        &fixture("azure.json.managed-identity").replace(KUBELET_CLIENT_ID, KUBELET_RESOURCE_ID),
    );
    let out = node.run(&["--json"]);
    out.assert_code(0);
    assert_eq!(
        status(&out, "node.identity"),
        "pass",
        "{}",
        out.check("node.identity")
    );
    let asked = node.imds_log.lock().unwrap().join("\n");
    assert!(asked.contains("msi_res_id=%2Fsubscriptions%2F"), "{asked}");
    assert!(!asked.contains("client_id="), "{asked}");
    assert!(message(&out, "node.azure_json").contains("resource id /subscriptions/"));
}

/// A login server outside the cloud's registries, as a node's test world
/// reaches the fake registry: by its IP address.
fn outside_the_cloud(node: &Node) -> String {
    format!("127.0.0.1:{}", node.acr.server.port())
}

#[test]
fn the_kubelet_identity_s_tokens_go_to_no_host_outside_the_cloud() {
    let node = Node::healthy();
    node.set(
        PROVIDER_CONFIG,
        &provider_config(&node.acr).replace("*.azurecr.io", "127.0.0.1"),
    );
    let ls = outside_the_cloud(&node);
    let dns = node.acr.dns.flag();
    let out = node.run_at(&ls, &["--json", "--ignore-errors", "--dns-server", &dns]);
    assert_eq!(status(&out, "registry.challenge"), "pass", "{}", out.stdout);
    assert!(
        node.acr.server.requests_to("/oauth2/exchange").is_empty(),
        "a token went to {ls}: {}",
        out.stdout
    );
    assert_eq!(
        status(&out, "node.audiences"),
        "skip",
        "{}",
        out.check("node.audiences")
    );
    // Allowed by name, the registry-audience token may go, never the
    // Resource Manager one.
    let allowed = [
        "--json",
        "--ignore-errors",
        "--allow-token-to",
        "127.0.0.1",
        "--dns-server",
        &dns,
    ];
    let out = node.run_at(&ls, &allowed);
    assert_eq!(
        status(&out, "node.exchange"),
        "pass",
        "{}",
        out.check("node.exchange")
    );
    let arm = jwt_for(ARM_AUDIENCE);
    assert!(
        node.acr
            .server
            .requests_to("/oauth2/exchange")
            .iter()
            .all(|r| r.form("access_token") != Some(arm.clone())),
        "the Resource Manager token went to {ls}"
    );
}

#[test]
fn a_service_principal_s_secret_goes_to_no_host_outside_the_cloud_nor_uncovered() {
    let node = Node::healthy();
    node.set(
        "/etc/kubernetes/azure.json",
        &fixture("azure.json.service-principal"),
    );
    node.set(
        PROVIDER_CONFIG,
        &provider_config(&node.acr).replace("*.azurecr.io", "127.0.0.1"),
    );
    let sent_basic = |node: &Node| {
        node.acr.server.requests().iter().any(|r| {
            r.headers
                .iter()
                .any(|(k, v)| k == "authorization" && v.starts_with("Basic "))
        })
    };
    let dns = node.acr.dns.flag();
    let out = node.run_at(
        &outside_the_cloud(&node),
        &["--json", "--ignore-errors", "--dns-server", &dns],
    );
    assert_eq!(status(&out, "registry.challenge"), "pass", "{}", out.stdout);
    assert!(
        !sent_basic(&node),
        "the secret went outside the cloud: {}",
        out.stdout
    );
    // In the cloud, but no provider covers the registry: the kubelet hands
    // out nothing, and neither does the check.
    let node = Node::healthy();
    node.set(
        "/etc/kubernetes/azure.json",
        &fixture("azure.json.service-principal"),
    );
    node.set(
        PROVIDER_CONFIG,
        &provider_config(&node.acr).replace("*.azurecr.io", "*.azurecr.cn"),
    );
    let out = node.run(&["--json", "--ignore-errors"]);
    assert_eq!(status(&out, "node.credential_provider"), "fail");
    assert!(
        !sent_basic(&node),
        "the secret went to an uncovered registry: {}",
        out.stdout
    );
}

#[test]
fn the_node_s_cloud_decides_the_login_server() {
    let node = Node::healthy();
    node.set(
        "/etc/kubernetes/azure.json",
        &fixture("azure.json.managed-identity").replace("AzurePublicCloud", "AzureChinaCloud"),
    );
    let root = node.root.path().display().to_string();
    let dns = node.acr.dns.flag();
    let args = [
        "check",
        "-n",
        REGISTRY,
        "--kubelet",
        "--host-root",
        &root,
        "--dns-server",
        &dns,
        "--json",
        "--ignore-errors",
        "--timeout",
        "2",
    ];
    let out = run_with(&args, &node.acr.tools, &[]);
    let report = out.json();
    assert_eq!(
        report["registry"]["login_server"], "myregistry.azurecr.cn",
        "{}",
        out.stdout
    );
}

/// A credential provider as cloud-provider-azure's answers: the login
/// server's entry (the refresh token as the password of the 0000… user)
/// and the anonymous `*.azurecr.io` entry; it keeps what it was given.
fn fake_provider(node: &Node, body: &str) {
    let root = node.root.path();
    let script = format!(
        "#!/bin/sh\n/bin/cat > {root}/provider.stdin\nprintf '%s\\n' \"$@\" > {root}/provider.args\nprintf '%s' \"$PROVIDER_MARKER\" > {root}/provider.env\n{body}\n",
        root = root.display()
    );
    write(
        root,
        "/var/lib/kubelet/credential-provider/acr-credential-provider",
        &script,
    );
    std::fs::set_permissions(
        root.join("var/lib/kubelet/credential-provider/acr-credential-provider"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let config = format!(
        "{}    env:\n      - name: PROVIDER_MARKER\n        value: from-the-config\n",
        provider_config(&node.acr)
    );
    node.set(PROVIDER_CONFIG, &config);
}

const PROVIDER_REFRESH: &str = "provider-refresh-token-SECRET-77aa";

fn accepting_the_provider_s_credential() -> Node {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "00000000-0000-0000-0000-000000000000:{PROVIDER_REFRESH}"
    ));
    let expected = format!("Basic {basic}");
    Node::new(move |r| {
        let sent = r
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone());
        (r.method == "GET" && r.path == "/oauth2/token").then(|| match sent {
            Some(v) if v == expected => {
                Reply::json(200, r#"{"access_token":"provider-access-SECRET-1b2c"}"#)
            }
            _ => Reply::json(401, UNAUTHORIZED),
        })
    })
}

#[test]
fn the_node_s_credential_provider_is_run_as_the_kubelet_runs_it() {
    let node = accepting_the_provider_s_credential();
    let ls = node.acr.login_server();
    let response = serde_json::json!({
        "kind": "CredentialProviderResponse",
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "cacheKeyType": "Registry",
        "cacheDuration": "10m0s",
        "auth": {
            "*.azurecr.io": {"username": "", "password": ""},
            ls.clone(): {"username": "00000000-0000-0000-0000-000000000000", "password": PROVIDER_REFRESH},
        }
    });
    fake_provider(&node, &format!("printf '%s' '{response}'"));
    let out = node.run(&[
        "--json",
        "--run-credential-provider",
        "--repository",
        "team/app",
    ]);
    out.assert_code(0);
    let run = out.check("node.provider_run");
    assert_eq!(run["status"], "pass", "{run}");
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("the registry accepts it"),
        "{run}"
    );
    // What the provider was given: the kubelet's request, the node's
    // azure.json under the root, the configured environment.
    let root = node.root.path();
    let request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("provider.stdin")).unwrap())
            .unwrap();
    assert_eq!(request["kind"], "CredentialProviderRequest");
    assert_eq!(
        request["apiVersion"],
        "credentialprovider.kubelet.k8s.io/v1"
    );
    assert_eq!(request["image"], format!("{ls}/team/app:latest"));
    let args = std::fs::read_to_string(root.join("provider.args")).unwrap();
    assert_eq!(
        args.trim(),
        root.join("etc/kubernetes/azure.json").display().to_string()
    );
    assert_eq!(
        std::fs::read_to_string(root.join("provider.env")).unwrap(),
        "from-the-config"
    );
}

#[test]
fn a_provider_that_hangs_or_talks_nonsense_is_a_clear_failure() {
    let node = accepting_the_provider_s_credential();
    fake_provider(&node, "exec /bin/sleep 30");
    let started = std::time::Instant::now();
    let out = node.run(&["--json", "--run-credential-provider", "--timeout", "1"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let run = out.check("node.provider_run");
    assert_eq!(run["code"], "KUBELET_CREDENTIAL_ERROR", "{run}");
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("did not finish within"),
        "{run}"
    );
    fake_provider(&node, "printf 'not json'");
    let out = node.run(&["--json", "--run-credential-provider"]);
    let run = out.check("node.provider_run");
    assert_eq!(run["code"], "KUBELET_CREDENTIAL_ERROR", "{run}");
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("not a CredentialProviderResponse"),
        "{run}"
    );
    // Only the anonymous entry: no credential for the registry.
    fake_provider(
        &node,
        r#"printf '%s' '{"kind":"CredentialProviderResponse","auth":{"*.azurecr.io":{"username":"","password":""}}}'"#,
    );
    let out = node.run(&["--json", "--run-credential-provider"]);
    let run = out.check("node.provider_run");
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("answered no credential"),
        "{run}"
    );
}
