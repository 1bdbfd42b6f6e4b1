//! The paths users take, timed whole: a full `acr-health check -n myregistry
//! --yes` with Resource Manager on the path and no `--login-server`, for
//! (1) a service principal with a subscription, (2) a user logged in with
//! az (a valid token in az's cache, and an `az` that records whether it was
//! run), (3) a VM's managed identity through a fake instance metadata
//! service, (4) an AKS node (`--kubelet --host-root`, the files of
//! tests/fixtures/aks-node, the kubelet identity through the fake IMDS, the
//! node's own resolv.conf and trust store). Each through latency proxies at D = 0 and D = 20 ms one way;
//! the slope between the two gives the sequential round trips a run waits.
//! The registry is a Premium one with geo-replications, which Resource
//! Manager lists once the registry is found; the local tools (docker, its
//! credential helper) cost what the real ones cost to start and answer.
//!
//! At D = 0 the whole run is also set beside its longest dependent chain:
//! the environment's checks alone (docker version → pull) and the
//! registry's alone (`--skip environment`), each timed as a whole process.
//!
//! `cargo bench --bench user_paths` (RUNS=N to change the number of runs).
//!
//! The registry's proxy listens on 127.0.0.1:443 so that the login server
//! is the plain `myregistry.azurecr.io` a user has, and names are resolved
//! by the system resolver, as users have it: the benchmark runs in a mount
//! namespace of its own, where `/etc/resolv.conf` names a real DNS server
//! on loopback port 53 (one for each latency, 127.0.0.1 and 127.0.0.2).
//! The machine's own configuration is untouched. Both need root; without it
//! `--login-server` names the port and `--dns-server` the server, and the
//! run says so.

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/it/common/mod.rs"]
mod common;
#[allow(dead_code, unreachable_pub)]
#[path = "support/latency.rs"]
mod latency;

use common::acr::{arm_handler, registry_doc, CLIENT_SECRET, HOST, REGISTRY, SUBSCRIPTION};
use common::dns::DnsServer;
use common::pki::Ca;
use common::server::{aad_jwt, HttpsServer, TENANT};
use common::Tools;
use latency::LatencyProxy;
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// DNS, TLS, GET /v2/, POST /oauth2/exchange, POST /oauth2/token; Azure AD
/// and Resource Manager (its token, the registry list, the replications)
/// run alongside.
const IDEAL_ROUND_TRIPS: f64 = 5.0;

/// What a Go client costs to start and get its daemon's answer (the real
/// docker 28 client here: `docker version` 15–25 ms warm), and a cached
/// `hello-world` pull on top of it.
const DOCKER_SCRIPT: &str = r#"#!/bin/sh
/bin/sleep 0.02
case "$1" in
  version) printf '%s\n' "$VERSION_JSON";;
  pull) /bin/sleep 0.08; printf 'latest: Pulling from library/hello-world\nDigest: sha256:0b6a027b5cf322f09f6706c754e086a232ec1ddba835c8a15c6cb74ef0d43c29\nStatus: Image is up to date for hello-world:latest\ndocker.io/library/hello-world:latest\n';;
  info) /bin/cat "$INFO_JSON";;
  *) exit 1;;
esac
"#;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Path {
    ServicePrincipal,
    AzLogin,
    ManagedIdentity,
    /// `--kubelet` on an AKS node: the kubelet identity through IMDS, the
    /// node's resolver and trust store.
    Node,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::ServicePrincipal => "service principal + subscription",
            Path::AzLogin => "logged in with az (cached token)",
            Path::ManagedIdentity => "VM managed identity (IMDS)",
            Path::Node => "AKS node, kubelet identity (--kubelet)",
        }
    }
}

struct World {
    ca: Ca,
    dns: DnsServer,
    /// The DNS server is on port 53 and the system resolver is pointed at
    /// it while this world is timed.
    system_resolver: bool,
    _server: HttpsServer,
    _proxies: Vec<LatencyProxy>,
    /// `None` when the registry's proxy is on 443.
    registry_port: Option<u16>,
    aad_port: u16,
    imds_port: u16,
    az_dir: tempfile::TempDir,
    /// The same cloud configuration, with nobody logged in.
    no_login_dir: tempfile::TempDir,
    /// An AKS node's files (its resolver asks the benchmark's DNS server).
    node_root: tempfile::TempDir,
    tools: Tools,
}

fn bind_registry() -> (std::net::TcpListener, Option<u16>) {
    match std::net::TcpListener::bind("127.0.0.1:443") {
        Ok(l) => (l, None),
        Err(_) => {
            let (l, a) = LatencyProxy::bind();
            (l, Some(a.port()))
        }
    }
}

/// A mount namespace of this process's own (made before any thread
/// exists, so that every later thread and child shares it), where
/// `/etc/resolv.conf` can be replaced without touching the machine's.
#[cfg(target_os = "linux")]
fn private_mounts() -> bool {
    // SAFETY: plain system calls on static, NUL-terminated strings.
    unsafe {
        libc::unshare(libc::CLONE_NEWNS) == 0
            && libc::mount(
                c"none".as_ptr(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) == 0
    }
}

/// Elsewhere there are no mount namespaces: `--dns-server` names the server.
#[cfg(not(target_os = "linux"))]
fn private_mounts() -> bool {
    false
}

#[cfg(not(target_os = "linux"))]
fn use_resolver(_: &DnsServer, _: &std::path::Path) {}

/// Points this namespace's system resolver at `dns` (port 53).
#[cfg(target_os = "linux")]
fn use_resolver(dns: &DnsServer, dir: &std::path::Path) {
    let file = dir.join(format!("resolv.conf.{}", dns.addr.ip()));
    std::fs::write(
        &file,
        format!(
            "nameserver {}\noptions timeout:2 attempts:1\n",
            dns.addr.ip()
        ),
    )
    .unwrap();
    let target = c"/etc/resolv.conf";
    let source = std::ffi::CString::new(file.display().to_string()).unwrap();
    // SAFETY: system calls on NUL-terminated strings that outlive them.
    unsafe {
        libc::umount2(target.as_ptr(), libc::MNT_DETACH);
        assert_eq!(
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            ),
            0,
            "bind-mounting {} on /etc/resolv.conf",
            file.display()
        );
    }
}

fn world(one_way: Duration, dns_ip: Option<&str>) -> World {
    let ca = Ca::new("acr-health bench root");
    let cert = ca.issue(&[HOST, "127.0.0.1"]);
    let (reg_listener, registry_port) = bind_registry();
    let (aad_listener, aad_addr) = LatencyProxy::bind();
    let (imds_listener, imds_addr) = LatencyProxy::bind();
    let login_server = match registry_port {
        None => HOST.to_string(),
        Some(p) => format!("{HOST}:{p}"),
    };
    let mut doc = registry_doc(json!({"loginServer": login_server}), json!(null));
    doc["sku"] = json!({"name": "Premium", "tier": "Premium"});
    let arm = arm_handler(vec![doc], vec![]);
    let handler = move |r: &common::server::Request| {
        if r.path
            .ends_with(&format!("/registries/{REGISTRY}/replications"))
        {
            return Some(common::server::Reply::json(200, REPLICATIONS));
        }
        arm(r)
    };
    let server = HttpsServer::start(cert, &login_server, Arc::new(handler));
    let token = aad_jwt(TENANT);
    let imds_body: &'static str = Box::leak(
        json!({"access_token": token, "expires_on": "4070908800", "token_type": "Bearer"})
            .to_string()
            .into_boxed_str(),
    );
    let (imds, _) = common::plain::http_server(200, imds_body);
    let proxies = vec![
        LatencyProxy::start(reg_listener, server.addr, one_way),
        LatencyProxy::start(aad_listener, server.addr, one_way),
        LatencyProxy::start(imds_listener, imds, one_way),
    ];
    let on_53 = dns_ip.and_then(|ip| DnsServer::start_on(&format!("{ip}:53")));
    let system_resolver = on_53.is_some();
    let dns = on_53.unwrap_or_else(DnsServer::start);
    dns.a(HOST, "127.0.0.1");
    dns.set_delay(one_way * 2);
    let w = World {
        ca,
        dns,
        system_resolver,
        _server: server,
        _proxies: proxies,
        registry_port,
        aad_port: aad_addr.port(),
        imds_port: imds_addr.port(),
        az_dir: tempfile::tempdir().unwrap(),
        no_login_dir: tempfile::tempdir().unwrap(),
        node_root: tempfile::tempdir().unwrap(),
        tools: local_tools(&login_server),
    };
    node_files(&w, dns_ip.unwrap_or("127.0.0.1"));
    az_config(&w);
    cloud_config(w.no_login_dir.path(), w.aad_port);
    // An az that records being run, and fails: the cached token must serve.
    w.tools
        .write_executable("az", "#!/bin/sh\necho \"$*\" >> \"$0.calls\"\nexit 1\n");
    w
}

const REPLICATIONS: &str = r#"{"value": [
  {"name": "eastus", "location": "eastus", "properties": {"provisioningState": "Succeeded", "status": {"displayStatus": "Ready"}}},
  {"name": "westeurope", "location": "westeurope", "properties": {"provisioningState": "Succeeded", "status": {"displayStatus": "Ready"}}}
]}"#;

/// docker, helm and notary as a healthy machine has them, docker with a
/// daemon that answers `docker info` and a credential helper that holds
/// the registry's token, as `az acr login` leaves them.
fn local_tools(login_server: &str) -> Tools {
    let tools = Tools::healthy();
    tools.write_executable("docker", DOCKER_SCRIPT);
    let helper = format!(
        "#!/bin/sh\n/bin/sleep 0.01\n/bin/cat >/dev/null\nprintf '%s' '{{\"ServerURL\":\"{login_server}\",\"Username\":\"00000000-0000-0000-0000-000000000000\",\"Secret\":\"{}\"}}'\n",
        refresh_jwt()
    );
    tools.write_executable("docker-credential-acr", &helper);
    let config = tools.home.path().join(".docker");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        json!({"credHelpers": {login_server: "acr"}}).to_string(),
    )
    .unwrap();
    tools
}

/// A refresh token as ACR issues it, valid for an hour.
fn refresh_jwt() -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256"}"#),
        b64(&format!(r#"{{"exp":{exp},"grant_type":"refresh_token"}}"#))
    )
}

/// The files of an AKS node (tests/fixtures/aks-node) under the world's
/// node root: its trust store holds the benchmark's CA, its resolv.conf
/// names the benchmark's DNS server.
fn node_files(w: &World, dns_ip: &str) {
    let fixture = |name: &str| {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/aks-node")
                .join(name),
        )
        .unwrap()
    };
    let pem = std::fs::read_to_string(w.ca.pem_file()).unwrap();
    let files = [
        (
            "etc/kubernetes/azure.json",
            fixture("azure.json.managed-identity"),
        ),
        ("etc/default/kubelet", fixture("kubelet")),
        (
            "var/lib/kubelet/credential-provider-config.yaml",
            fixture("credential-provider-config.yaml"),
        ),
        (
            "var/lib/kubelet/credential-provider/acr-credential-provider",
            "#!/bin/sh\nexit 1\n".to_string(),
        ),
        ("etc/ssl/certs/ca-certificates.crt", pem),
        (
            "etc/resolv.conf",
            format!("nameserver {dns_ip}\noptions timeout:2 attempts:1\n"),
        ),
    ];
    for (path, text) in files {
        let at = w.node_root.path().join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// az configured for a cloud whose Resource Manager and Azure AD are the
/// fake (through the Azure AD latency proxy), logged in as a user with a
/// valid Resource Manager token in its cache.
fn az_config(w: &World) {
    let dir = w.az_dir.path();
    cloud_config(dir, w.aad_port);
    let profile = json!({"subscriptions": [{"id": SUBSCRIPTION, "name": "Bench", "isDefault": true,
        "tenantId": TENANT, "user": {"name": "dev@contoso.com", "type": "user"}}]});
    std::fs::write(dir.join("azureProfile.json"), format!("\u{feff}{profile}")).unwrap();
    let home = format!("oid.{TENANT}");
    let cache = json!({
        "Account": {"a": {"home_account_id": home, "username": "dev@contoso.com"}},
        "AccessToken": {"t": {"credential_type": "AccessToken", "home_account_id": home,
            "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "realm": TENANT,
            "target": "https://management.core.windows.net//.default", "secret": aad_jwt(TENANT),
            "expires_on": "4070908800"}}
    });
    std::fs::write(dir.join("msal_token_cache.json"), cache.to_string()).unwrap();
}

fn cloud_config(dir: &std::path::Path, aad_port: u16) {
    let me = format!("https://127.0.0.1:{aad_port}");
    std::fs::write(dir.join("config"), "[cloud]\nname = BenchCloud\n").unwrap();
    std::fs::write(
        dir.join("clouds.config"),
        format!("[BenchCloud]\nendpoint_resource_manager = {me}\nendpoint_active_directory = {me}\nendpoint_active_directory_resource_id = https://management.core.windows.net/\nsuffix_acr_login_server_endpoint = .azurecr.io\n"),
    )
    .unwrap();
}

/// The binary in the benchmark's environment: its tools, its home, nothing
/// of the machine's.
fn environment_only(w: &World) -> Command {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("PATH", w.tools.path())
        .env("HOME", w.tools.home.path())
        .env("VERSION_JSON", common::DOCKER_VERSION_UP)
        .env("INFO_JSON", info_fixture())
        .current_dir(w.tools.home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn command(w: &World, path: Path) -> Command {
    let mut cmd = environment_only(w);
    cmd.args(["check", "--yes", "-n", REGISTRY]);
    match path {
        // The node's own trust store and resolver.
        Path::Node => cmd
            .args(["--kubelet", "--host-root"])
            .arg(w.node_root.path()),
        _ => cmd.args(["--ca-file", &w.ca.pem_file().display().to_string()]),
    };
    if !w.system_resolver {
        cmd.args(["--dns-server", &w.dns.flag()]);
    }
    if let Some(port) = w.registry_port {
        cmd.args(["--login-server", &format!("{HOST}:{port}")]);
    }
    cmd.env("AZURE_CONFIG_DIR", w.az_dir.path()).env(
        "AZURE_AUTHORITY_HOST",
        format!("https://127.0.0.1:{}", w.aad_port),
    );
    let imds = format!("http://127.0.0.1:{}", w.imds_port);
    match path {
        Path::ServicePrincipal => {
            cmd.env("AZURE_TENANT_ID", TENANT)
                .env("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555")
                .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
                .env("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)
                .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9");
        }
        Path::AzLogin => {
            cmd.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9");
        }
        Path::ManagedIdentity => {
            // Nobody logged in with az here.
            cmd.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds)
                .env("AZURE_CONFIG_DIR", w.no_login_dir.path())
                .env("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION);
        }
        Path::Node => {
            cmd.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds);
        }
    }
    cmd
}

/// The path is the one described: Resource Manager answered, and the
/// registry token came from the expected credential.
fn check_the_path(w: &World, path: Path) {
    let out = command(w, path)
        .arg("--json")
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let check = |id: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_default()
    };
    if path == Path::Node {
        for id in [
            "node.credential_provider",
            "node.identity",
            "node.exchange",
            "node.audiences",
            "registry.access_token",
        ] {
            assert_eq!(check(id)["status"], "pass", "{path:?}: {}", check(id));
        }
        assert_eq!(report["healthy"], true, "{path:?}");
        return;
    }
    assert_eq!(
        check("registry.arm")["status"],
        "pass",
        "{path:?}: {}",
        check("registry.arm")
    );
    let credential = check("registry.refresh_token")["details"]["credential"].clone();
    let expected = match path {
        Path::ServicePrincipal => "service principal (AZURE_CLIENT_SECRET)",
        Path::AzLogin => "Azure CLI login (token cache)",
        Path::ManagedIdentity => "managed identity (instance metadata service)",
        Path::Node => unreachable!("the node's path is checked above"),
    };
    assert_eq!(credential, expected, "{path:?}");
    assert_eq!(report["healthy"], true, "{path:?}");
    for id in [
        "registry.replicas",
        "registry.docker_credential",
        "registry.docker_daemon",
        "docker.pull",
    ] {
        assert_eq!(check(id)["status"], "pass", "{path:?}: {}", check(id));
    }
    if w.system_resolver {
        let dns = check("registry.dns");
        assert!(
            dns["details"]["os_addresses"].is_array() && !w.dns.asked().is_empty(),
            "{path:?}: the system resolver did not ask the benchmark's DNS server: {dns}"
        );
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_runs(runs: usize, make: impl Fn() -> Command) -> Duration {
    let _ = make().status();
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                let status = make().status().expect("binary runs");
                assert!(status.success(), "a benchmark run failed: {status}");
                start.elapsed()
            })
            .collect(),
    )
}

/// Largest resident set of any child so far, in MB (Linux: ru_maxrss is KiB).
fn peak_child_rss_mb() -> f64 {
    // SAFETY: getrusage writes into the struct we pass and nothing else.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u
    };
    usage.ru_maxrss as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(11)
        .max(5);
    let d = Duration::from_millis(20);
    let private = private_mounts();
    let ips = |ip| private.then_some(ip);
    let (w0, w20) = (
        world(Duration::ZERO, ips("127.0.0.1")),
        world(d, ips("127.0.0.2")),
    );
    if w0.registry_port.is_some() {
        println!("note: 127.0.0.1:443 is not available (not root?): --login-server names the registry's port");
    }
    if !(w0.system_resolver && w20.system_resolver) {
        println!(
            "note: no mount namespace or port 53 (not root?): --dns-server names the DNS server"
        );
    }
    let resolv_dir = tempfile::tempdir().unwrap();
    println!("acr-health on the paths users take: {runs} runs per figure, median wall time");
    let timed = |w: &World, path: Path, registry_alone: bool| {
        if w.system_resolver {
            use_resolver(&w.dns, resolv_dir.path());
        }
        time_runs(runs, || {
            let mut cmd = command(w, path);
            if registry_alone {
                cmd.args(["--skip", "environment"]);
            }
            cmd
        })
    };
    let mut sp = None;
    for path in [
        Path::ServicePrincipal,
        Path::AzLogin,
        Path::ManagedIdentity,
        Path::Node,
    ] {
        if w0.system_resolver {
            use_resolver(&w0.dns, resolv_dir.path());
        }
        check_the_path(&w0, path);
        std::fs::remove_file(w0.tools.path().join("az.calls")).ok();
        let whole = timed(&w0, path, false);
        // The round trips are the registry chain's: the local tools' time
        // does not depend on the network.
        let t0 = timed(&w0, path, true);
        let t20 = timed(&w20, path, true);
        let az_ran = w0.tools.calls("az").len() + w20.tools.calls("az").len();
        let round_trips = (t20.as_secs_f64() - t0.as_secs_f64()) / (2.0 * d.as_secs_f64());
        let (sp_whole, _) = *sp.get_or_insert((whole, t0));
        println!(
            "{:<40} whole run D=0: {:>6.1} ms ({:.2}x the service principal)  registry chain D=0: {:>5.1} ms  D=20ms: {:>6.1} ms  round trips {:.1} (ideal {IDEAL_ROUND_TRIPS}, {:.2}x){}",
            path.name(),
            ms(whole),
            whole.as_secs_f64() / sp_whole.as_secs_f64(),
            ms(t0),
            ms(t20),
            round_trips,
            round_trips / IDEAL_ROUND_TRIPS,
            if path == Path::AzLogin { format!("  az run {az_ran} times") } else { String::new() }
        );
    }
    if w0.system_resolver {
        use_resolver(&w0.dns, resolv_dir.path());
    }
    if let Some((whole, registry)) = sp {
        chains(&w0, runs, whole, registry);
    }
    println!(
        "peak resident memory of any run: {:.1} MB",
        peak_child_rss_mb()
    );
}

/// The whole run at D = 0 beside its longest dependent chain, each chain
/// timed alone as a whole process: the environment's checks (docker
/// version → pull) and the registry's (`--skip environment`).
fn chains(w: &World, runs: usize, whole: Duration, registry: Duration) {
    let environment = time_runs(runs, || {
        let mut cmd = environment_only(w);
        cmd.args(["check", "--yes"]);
        cmd
    });
    let longest = environment.max(registry);
    println!(
        "D=0 whole run {:.1} ms; its chains alone: environment (docker version -> pull) {:.1} ms, registry {:.1} ms; whole / longest chain {:.2}x",
        ms(whole),
        ms(environment),
        ms(registry),
        whole.as_secs_f64() / longest.as_secs_f64()
    );
}

fn info_fixture() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/docker-info/engine-28.json"
    )
    .to_string()
}

/// The binary timed: this build's, or `ACR_HEALTH_BIN` (another build, to
/// compare two in one sitting).
fn binary() -> String {
    std::env::var("ACR_HEALTH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_acr-health").into())
}
