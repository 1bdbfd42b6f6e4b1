//! The validated, resolved settings the checks see. Built once from the
//! command line and the environment; nothing after this reads either.

use crate::acr::actions::Action;
use crate::azure::arm::{ArmTarget, ArmUnused};
use crate::azure::az_cache::AzLogin;
use crate::azure::az_config::AzConfig;
use crate::azure::cloud::Cloud;
use crate::azure::credential::{AuthSource, PasswordLogin};
use crate::checks::CheckId;
use crate::cli::{CheckArgs, ColorChoice};
use crate::env::Env;
use crate::net::proxy::{Proxy, ProxySettings};
use crate::net::tls::TlsSetup;
use crate::node::host_root::HostRoot;
use crate::render::{self, Format, Query};
use crate::report::RegistryInfo;
use crate::secret::Secret;
use crate::target::{self, Target};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything the registry checks need, resolved before anything runs.
#[derive(Clone, Debug)]
pub(crate) struct RegistryConfig {
    pub target: Target,
    pub dns_server: Option<SocketAddr>,
    pub tls: TlsSetup,
    /// The proxy for the login server (`HTTPS_PROXY` unless `NO_PROXY`).
    pub proxy: Option<Proxy>,
    /// `HTTPS_PROXY` / `NO_PROXY` for every other host.
    pub proxies: ProxySettings,
    /// The Azure CLI's login and its cached tokens, when there is one.
    pub az_login: Option<Arc<AzLogin>>,
    pub auth: AuthSource,
    pub password: Option<PasswordLogin>,
    pub repository: Option<String>,
    /// The repository actions whose absence fails: pull, and `--require`.
    pub require: Vec<Action>,
    /// The platform `--image` must have (`--platform`, or this machine's).
    pub platform: crate::acr::manifest::Platform,
    /// `--image`: a tag or digest of `repository` to fetch.
    pub image: Option<String>,
    /// `--allow-token-to`: login servers outside the cloud's registries
    /// that may receive an Azure AD token (hosts, lowercase).
    pub allow_token_to: Vec<String>,
    /// `--vnet`: the virtual network whose private endpoint DNS is checked.
    pub vnet: Option<String>,
    /// Where to read the registry in Resource Manager, or why it is not read.
    pub arm: Result<ArmTarget, ArmUnused>,
}

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub registry: Option<RegistryConfig>,
    pub ignore_errors: bool,
    pub yes: bool,
    /// A person is at a terminal who can answer a y/n prompt.
    pub interactive: bool,
    /// Bound on each external step (a subprocess, a lookup, a request).
    pub timeout: Duration,
    /// The checks `--skip` names, each with the value that named it.
    pub skip: BTreeMap<CheckId, String>,
    /// `DOCKER_COMMAND`: the docker client to use instead of `docker`.
    pub docker_command: Option<String>,
    /// Live progress on stderr (a terminal, the text report, not only errors).
    pub progress: bool,
    /// Azure Cloud Shell (`ACC_CLOUD`): az skips the environment checks there.
    pub cloud_shell: bool,
    /// `AZURE_CLI_DISABLE_CONNECTION_VERIFICATION` is set: az would not
    /// verify certificates. acr-health still does, and says so.
    pub az_skips_tls_verification: bool,
    /// Where system configuration (docker's certs.d, containerd's) is read:
    /// `ACR_HEALTH_SYSCONFDIR`, else `/etc`; `/host/etc` in a node debug pod.
    pub sysconfdir: PathBuf,
    /// The environment the run reads, captured once here.
    pub env: Arc<Env>,
    /// `--kubelet`: the node whose kubelet's path is checked, by its root.
    pub node: Option<HostRoot>,
    /// `--run-credential-provider`: the node's provider is run too.
    pub run_credential_provider: bool,
    /// What of the configuration was left out, and why (an unreadable file
    /// of az's), said under the version line.
    pub notices: Vec<String>,
}

impl Config {
    /// Validates and resolves the arguments into the checks' settings and
    /// the renderer's options; an `Err` is a one-line usage error (exit 2),
    /// found before any network traffic.
    pub(crate) fn from_args(args: &CheckArgs) -> Result<(Config, render::Options), String> {
        Self::from_args_in(args, capture_environment())
    }

    /// As [`Config::from_args`], in the environment `env` rather than the
    /// process's: what the run reads of variables, files named by them and
    /// the working folder comes from here.
    pub(crate) fn from_args_in(
        args: &CheckArgs,
        env: Env,
    ) -> Result<(Config, render::Options), String> {
        let env = Arc::new(env);
        let var = |k: &str| {
            env.var_os(k)
                .filter(|v| !v.is_empty())
                .and_then(|v| v.to_str())
        };
        let az = AzConfig::load(&env);
        // az's output setting (AZURE_CORE_OUTPUT, `az config set
        // core.output`) does not change what `az acr check-health` prints:
        // it logs its lines whatever the format. Only -o does here.
        let format = match (args.json, args.output) {
            (true, _) => Format::Json,
            (_, Some(format)) => format,
            (_, None) => Format::Text,
        };
        let query = (args.query.as_deref())
            .map(|q| Query::compile(q).map_err(|e| format!("--query: {e}")))
            .transpose()?;
        let only_errors = args.only_show_errors || az.flag("core", "only_show_errors");
        let output = render::Options {
            format,
            color: use_color(args.color, az.flag("core", "no_color")),
            only_errors,
            // On a terminal a person reads it: timings help; scripts get az's lines.
            timings: args.verbose || std::io::stdout().is_terminal(),
            verbose: args.verbose,
            query,
        };
        remember_environment_secrets(&env)?;
        let node = node_root(args)?;
        let config = Config {
            registry: registry_config(args, &az, &env, node.as_ref())?,
            ignore_errors: args.ignore_errors,
            yes: args.yes,
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            timeout: args.timeout,
            skip: skipped_checks(&args.skip),
            docker_command: var("DOCKER_COMMAND").map(str::to_string),
            cloud_shell: var("ACC_CLOUD").is_some(),
            az_skips_tls_verification: var("AZURE_CLI_DISABLE_CONNECTION_VERIFICATION").is_some(),
            sysconfdir: sysconfdir(&env, node.as_ref()),
            env: env.clone(),
            node,
            run_credential_provider: args.run_credential_provider,
            notices: az
                .unread
                .iter()
                .map(|e| format!("{e}: left out, as az leaves out a file it cannot read"))
                .collect(),
            progress: format == Format::Text
                && args.query.is_none()
                && !only_errors
                && !args.debug
                && std::io::stderr().is_terminal(),
        };
        Ok((config, output))
    }

    /// The whole run's bound: every step has its own timeout, and this
    /// catches whatever would still add up past a sensible total.
    pub(crate) fn deadline(&self) -> Duration {
        self.timeout * 10
    }

    /// A pull downloads an image, so it gets three step timeouts.
    pub(crate) fn pull_timeout(&self) -> Duration {
        self.timeout * 3
    }

    pub(crate) fn registry_info(&self) -> Option<RegistryInfo> {
        self.registry.as_ref().map(|r| RegistryInfo {
            name: r.target.name.clone(),
            login_server: r.target.login_server.as_ref().ok().map(|l| l.authority()),
            login_server_source: r.target.login_server.as_ref().ok().map(|l| l.source),
        })
    }
}

/// The registry part of the configuration; `None` when no registry is named
/// (by -n, --login-server or az's default).
fn registry_config(
    args: &CheckArgs,
    az: &AzConfig,
    env: &Env,
    node: Option<&HostRoot>,
) -> Result<Option<RegistryConfig>, String> {
    let mut notes = Vec::new();
    let name = match (&args.name, &args.login_server) {
        (Some(n), _) => Some(n.clone()),
        (None, Some(_)) => None,
        (None, None) => match az.default_registry() {
            Some(n) => {
                notes.push(format!(
                    "registry '{n}' is az's default (az configure --defaults acr=)"
                ));
                Some(n)
            }
            None => {
                let registry_only = [
                    ("--dns-server", args.dns_server.is_some()),
                    ("--ca-file", args.ca_file.is_some()),
                    ("--username", args.username.is_some()),
                    ("--repository", args.repository.is_some()),
                    ("--require", !args.require.is_empty()),
                    ("--vnet", args.vnet.is_some()),
                    ("--cloud", args.cloud.is_some()),
                    ("--subscription", args.subscription.is_some()),
                    ("--resource-group", args.resource_group.is_some()),
                    ("--kubelet", args.kubelet),
                ];
                if let Some((flag, _)) = registry_only.iter().find(|(_, set)| *set) {
                    return Err(format!("{flag} needs a registry: add -n/--name REGISTRY"));
                }
                return Ok(None);
            }
        },
    };
    let cloud = cloud(args, az, node)?;
    let mut target = target::resolve(name.as_deref(), args.login_server.as_deref(), cloud)?;
    notes.append(&mut target.notes);
    target.notes = notes;

    let password = password_login(args)?;
    check_repository_and_image(args)?;
    let (tls, proxies) = network(args, env, node)?;
    let proxy = match &target.login_server {
        Ok(ls) => proxies.for_host(&ls.host, ls.port).cloned(),
        Err(_) => None,
    };
    // A subscription named with --subscription must exist (bad input).
    let subscription = args
        .subscription
        .as_deref()
        .map(|s| az.subscription_id(s, &target.cloud.name))
        .transpose()
        .map_err(|e| e.to_string())?;
    let arm = arm_target(args, (az, env), &target, password.is_some(), subscription);
    let az_login = az_login(args, (az, env), &arm, &target.cloud.name);
    Ok(Some(RegistryConfig {
        arm,
        target,
        dns_server: args.dns_server,
        tls,
        proxy,
        proxies,
        az_login,
        auth: args.auth,
        password,
        repository: args.repository.clone(),
        require: required_actions(&args.require),
        platform: platform(args)?,
        image: args.image.clone(),
        vnet: args.vnet.clone(),
        allow_token_to: args
            .allow_token_to
            .iter()
            .map(|h| host_of(h))
            .collect::<Result<_, _>>()?,
    }))
}

/// `--platform`, else this machine's.
fn platform(args: &CheckArgs) -> Result<crate::acr::manifest::Platform, String> {
    match &args.platform {
        Some(p) => crate::acr::manifest::Platform::parse(p).map_err(|e| e.to_string()),
        None => Ok(crate::acr::manifest::Platform::this_machine()),
    }
}

/// The host of `--allow-token-to`'s value (`host` or `host:port`).
fn host_of(value: &str) -> Result<String, String> {
    target::parse_login_server(value)
        .map(|(host, _)| host)
        .map_err(|why| format!("--allow-token-to: '{value}' is not a host[:port] ({why})"))
}

/// Pull, and whatever `--require` adds, without repeats.
fn required_actions(require: &[String]) -> Vec<Action> {
    let mut out = vec![Action::Pull];
    // clap took only the names of actions.
    for a in require.iter().filter_map(|a| Action::parse(a)) {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// `--repository` must be a repository name and `--image` a tag or digest
/// of it, as the registry API spells them.
fn check_repository_and_image(args: &CheckArgs) -> Result<(), String> {
    if let Some(repo) = &args.repository {
        let valid = !repo.is_empty()
            && repo.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            });
        if !valid {
            return Err(format!(
                "'{repo}' is not a repository name (lower-case letters, digits, '.', '_', '-' and \
                    '/')"
            ));
        }
    }
    if !args.require.is_empty() && args.repository.is_none() {
        return Err("--require needs --repository".into());
    }
    if let Some(image) = &args.image {
        if args.repository.is_none() {
            return Err("--image needs --repository".into());
        }
        let tag_ok = image.len() <= 128
            && image
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-:".contains(c))
            && !image.starts_with(['.', '-']);
        if !tag_ok {
            return Err(format!("'{image}' is not a tag or sha256: digest"));
        }
    }
    Ok(())
}

/// Remembers the secrets the Azure SDK conventions put in the environment,
/// so that no output shows them even when a server echoes them back.
fn remember_environment_secrets(env: &Env) -> Result<(), String> {
    // The tools inherit the proxy variables and may echo them.
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        if let Some(url) = env
            .var_os(var)
            .and_then(|v| v.to_str())
            .and_then(|v| url::Url::parse(v).ok())
        {
            crate::net::origin::remember_query_secrets(&url);
        }
    }
    for var in [
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "IDENTITY_HEADER",
        "MSI_SECRET",
        "AZURE_PASSWORD",
    ] {
        if let Some(v) = env.var_os(var).and_then(|v| v.to_str()) {
            crate::secret::remember(v);
        }
    }
    if let Some(file) = env.path("AZURE_FEDERATED_TOKEN_FILE") {
        match crate::input_file::read(&file) {
            Ok(token) => crate::secret::remember(&String::from_utf8_lossy(&token)),
            // A missing file is reported by the workload identity step.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(format!("AZURE_FEDERATED_TOKEN_FILE: {e}")),
        }
    }
    Ok(())
}

/// The Azure CLI's login for the subscription in use (or its default one),
/// read once from its configuration folder.
fn az_login(
    args: &CheckArgs,
    (az, env): (&AzConfig, &Env),
    arm: &Result<ArmTarget, ArmUnused>,
    cloud: &str,
) -> Option<Arc<AzLogin>> {
    if args.password.is_some() || args.password_stdin {
        return None;
    }
    let dir = AzConfig::dir(env)?;
    let wanted = arm.as_ref().ok().map(|t| t.subscription.as_str());
    let sub = az.subscription(wanted, cloud)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    // Valid for the whole run (its deadline is 10 x --timeout), and 5 minutes.
    let margin = (args.timeout * 10).as_secs().max(300);
    AzLogin::load(&dir, sub, now + margin).map(Arc::new)
}

/// The trust for TLS: the system's, az's extra bundle and --ca-file.
fn tls_setup(args: &CheckArgs, env: &Env) -> Result<TlsSetup, String> {
    // az (requests) takes REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE: a file,
    // or a folder of certificates.
    let requests_bundle = ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]
        .into_iter()
        .find_map(|name| Some((name, env.path(name)?)));
    let bundle = requests_bundle.as_ref().map(|(n, p)| (*n, p.as_path()));
    let ssl_cert_file = env.path("SSL_CERT_FILE");
    let ssl_cert_dirs: Vec<PathBuf> = env
        .var_os("SSL_CERT_DIR")
        .map(|dirs| std::env::split_paths(dirs).collect())
        .unwrap_or_default();
    let trust = (ssl_cert_file.as_deref(), ssl_cert_dirs.as_slice());
    TlsSetup::new(args.ca_file.as_deref(), bundle, trust).map_err(|e| e.to_string())
}

/// The registry's cloud: `--cloud`, else on a node its own (azure.json's),
/// else az's.
fn cloud(args: &CheckArgs, az: &AzConfig, node: Option<&HostRoot>) -> Result<Cloud, String> {
    let node_cloud = node.and_then(crate::node::azure_json::cloud_of);
    let name = args.cloud.as_deref().or(node_cloud);
    Cloud::select(name, az).map_err(|e| e.to_string())
}

/// `--kubelet`'s host root: a folder that exists, on a Linux node.
fn node_root(args: &CheckArgs) -> Result<Option<HostRoot>, String> {
    if !args.kubelet {
        return Ok(None);
    }
    if !cfg!(target_os = "linux") {
        return Err("--kubelet checks a Linux Kubernetes node: run it there".into());
    }
    let root = args.host_root.clone().unwrap_or_else(|| "/".into());
    if !root.is_dir() {
        return Err(format!("--host-root {}: no such folder", root.display()));
    }
    Ok(Some(HostRoot::new(root)))
}

/// Where the system's docker and containerd files are read:
/// `ACR_HEALTH_SYSCONFDIR`, else the node's `/etc` (its root's), else `/etc`.
fn sysconfdir(env: &Env, node: Option<&HostRoot>) -> PathBuf {
    if let Some(dir) = env.path("ACR_HEALTH_SYSCONFDIR") {
        return dir;
    }
    node.and_then(|host| host.resolve("/etc").ok())
        .unwrap_or_else(|| "/etc".into())
}

/// What to trust and which proxy to go through: this machine's, or on a
/// node (`--kubelet`) the node's.
fn network(
    args: &CheckArgs,
    env: &Env,
    node: Option<&HostRoot>,
) -> Result<(TlsSetup, ProxySettings), String> {
    match node {
        Some(host) => node_network(args, host),
        None => Ok((
            tls_setup(args, env)?,
            ProxySettings::from_env(env).map_err(|e| e.to_string())?,
        )),
    }
}

/// The node's trust store and the proxy containerd's service pulls
/// through: what the kubelet's pull uses, not this process's environment.
fn node_network(args: &CheckArgs, host: &HostRoot) -> Result<(TlsSetup, ProxySettings), String> {
    // Debian and Ubuntu's bundle (AKS custom CA trust adds to it), then
    // Azure Linux's.
    const BUNDLES: [&str; 2] = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ];
    let bundle = BUNDLES
        .iter()
        .find_map(|b| host.resolve(b).ok().filter(|p| p.is_file()))
        .ok_or_else(|| {
            format!(
                "--kubelet: the node has no certificate bundle ({} or {})",
                host.shown(BUNDLES[0]),
                host.shown(BUNDLES[1])
            )
        })?;
    let tls = TlsSetup::from_bundle(&bundle, args.ca_file.as_deref()).map_err(|e| e.to_string())?;
    let vars = crate::node::containerd_env::read(host)
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()));
    let proxies = ProxySettings::from_env(&Env::new(vars, None))
        .map_err(|e| format!("containerd's service environment: {e}"))?;
    Ok((tls, proxies))
}

/// Where Resource Manager is asked about the registry, or why it is not.
fn arm_target(
    args: &CheckArgs,
    (az, env): (&AzConfig, &Env),
    target: &Target,
    password: bool,
    subscription: Option<String>,
) -> Result<ArmTarget, ArmUnused> {
    if password {
        return Err(ArmUnused::PasswordLogin);
    }
    if args.kubelet {
        return Err(ArmUnused::NodeMode);
    }
    let cloud = &target.cloud.name;
    let endpoint = (target.cloud.resource_manager.clone())
        .ok_or_else(|| ArmUnused::NoEndpoint(cloud.clone()))?;
    // A bearer token goes to Resource Manager: never over plain HTTP, even
    // to this host (plain HTTP is for managed identity endpoints only).
    if !url::Url::parse(&endpoint).is_ok_and(|u| u.scheme() == "https") {
        return Err(ArmUnused::NotHttps {
            cloud: cloud.clone(),
            endpoint: crate::untrusted::inline(&endpoint),
        });
    }
    let subscription = subscription
        .or_else(|| env.var("AZURE_SUBSCRIPTION_ID").map(str::to_string))
        .or_else(|| az.default_subscription(cloud))
        .ok_or(ArmUnused::NoSubscription)?;
    Ok(ArmTarget {
        endpoint,
        subscription,
        resource_group: args.resource_group.clone(),
        name: target.name.clone(),
    })
}

/// The longest password `--password-stdin` takes.
const MAX_PASSWORD: u64 = 64 * 1024;

/// Standard input, read whole (to one byte past the cap) within `bound`
/// (the run's deadline): a pipe that never closes does not hold the run.
fn password_from_stdin(bound: Duration) -> Result<String, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    // The reader cannot be cancelled; past the bound it is left behind and
    // ends with the process.
    std::thread::spawn(move || {
        use std::io::Read;
        let mut text = String::new();
        let read = std::io::stdin()
            .take(MAX_PASSWORD + 1)
            .read_to_string(&mut text);
        let _ = tx.send(read.map(|_| text));
    });
    match rx.recv_timeout(bound) {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(format!("cannot read the password from standard input: {e}")),
        Err(_) => Err(format!(
            "--password-stdin: standard input did not end within {} (10 x --timeout)",
            crate::duration::format_duration(bound)
        )),
    }
}

fn password_login(args: &CheckArgs) -> Result<Option<PasswordLogin>, String> {
    let password = if args.password_stdin {
        let text = password_from_stdin(args.timeout * 10)?;
        if text.len() as u64 > MAX_PASSWORD {
            return Err(format!(
                "--password-stdin: standard input is longer than {} KiB; it is not a password",
                MAX_PASSWORD / 1024
            ));
        }
        let text = text.trim_end_matches(['\n', '\r']).to_string();
        if text.is_empty() {
            return Err("--password-stdin: standard input is empty".into());
        }
        Some(Secret::new(text))
    } else {
        args.password.clone().map(Secret::new)
    };
    match (&args.username, password) {
        (None, Some(_)) => Err("--password needs --username".into()),
        (Some(_), None) => Err("--username needs --password or --password-stdin".into()),
        (Some(_), Some(_)) if !matches!(args.auth, AuthSource::Auto | AuthSource::Password) => {
            Err(format!(
                "--username/--password conflict with --auth {}",
                clap::ValueEnum::to_possible_value(&args.auth)
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default()
            ))
        }
        (Some(user), Some(password)) => Ok(Some(PasswordLogin {
            username: user.clone(),
            password,
        })),
        (None, None) if args.auth == AuthSource::Password => {
            Err("--auth password needs --username and --password".into())
        }
        (None, None) => Ok(None),
    }
}

/// `--color always` and `never` decide; `auto` follows anstream's reading
/// of the terminal and the environment (`NO_COLOR`, `CLICOLOR`,
/// `CLICOLOR_FORCE`, `TERM=dumb`), and az's `core.no_color`
/// (`AZURE_CORE_NO_COLOR`).
fn use_color(choice: ColorChoice, az_no_color: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !az_no_color
                && anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
        }
    }
}

/// The process's environment and working folder: the one place the run
/// reads them. Everything after reads the snapshot in `Config::env`.
fn capture_environment() -> Env {
    Env::new(std::env::vars_os(), std::env::current_dir().ok())
}

/// Each check a `--skip` value names (a check, a group, `environment`),
/// with the first value that named it.
fn skipped_checks(values: &[String]) -> BTreeMap<CheckId, String> {
    let mut skipped = BTreeMap::new();
    for value in values {
        for id in CheckId::ALL.iter().filter(|id| id.matches_skip(value)) {
            skipped.entry(*id).or_insert_with(|| value.clone());
        }
    }
    skipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn check_args(args: &[&str]) -> CheckArgs {
        let cli = Cli::try_parse_from([&["acr-health", "check"], args].concat()).unwrap();
        match cli.command {
            Command::Check(args) => *args,
            _ => unreachable!("a check command"),
        }
    }

    #[test]
    fn the_configuration_reads_the_environment_it_is_given() {
        let vars = [
            ("HTTPS_PROXY", "http://proxy.example:3128"),
            ("NO_PROXY", "other.example"),
            ("DOCKER_COMMAND", "/opt/docker/bin/docker"),
            ("AZURE_CONFIG_DIR", "/nonexistent/azure"),
            ("ACR_HEALTH_SYSCONFDIR", "/host/etc"),
        ];
        let env = Env::new(vars.iter().map(|(k, v)| (k.into(), v.into())), None);
        let args = check_args(&["-n", "myregistry", "--skip", "docker"]);
        let (config, _) = Config::from_args_in(&args, env).unwrap();
        assert_eq!(
            config.docker_command.as_deref(),
            Some("/opt/docker/bin/docker")
        );
        assert_eq!(config.sysconfdir, PathBuf::from("/host/etc"));
        let registry = config.registry.unwrap();
        let proxy = registry.proxy.expect("the proxy of the given environment");
        assert!(
            proxy.display().contains("proxy.example:3128"),
            "{}",
            proxy.display()
        );
        assert!(config.skip.contains_key(&CheckId::DockerPull));
        // Another environment, another run: nothing was kept from the first.
        let (config, _) = Config::from_args_in(&args, Env::default()).unwrap();
        assert_eq!(config.docker_command, None);
        assert!(config.registry.unwrap().proxy.is_none());
    }
}
