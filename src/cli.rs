//! Command-line definitions (clap). Validation of single values happens in
//! value parsers so every bad input is a one-line usage error (exit 2).

use crate::azure::auth::AuthSource;
use crate::checks::CheckId;
use crate::codes::ErrorCode;
use crate::help::Offering;
use crate::render::Format;
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  Check this machine's docker, helm and notary:
    acr-health check
  Check the machine and the path to a registry, pulling a test image without asking:
    acr-health check -n myregistry --yes
  Report every problem, not just the first, as JSON:
    acr-health check -n myregistry --ignore-errors --json \\
      | jq '.checks[] | select(.status == \"fail\")'
  Explain an error code:
    acr-health explain DOCKER_DAEMON_ERROR";

#[derive(Debug, Parser)]
#[command(
    name = "acr-health",
    version,
    about = "Diagnose why pulling from an Azure Container Registry fails: a fast, drop-in \
        replacement for `az acr check-health`.",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check the local environment and, with --name, the path to a registry.
    #[command(after_help = EXAMPLES, args_override_self = true, infer_long_args = true)]
    Check(Box<CheckArgs>),
    /// Print the documented meaning and remediation of an error code, or
    /// what a check proves; with nothing named, list the checks and codes.
    Explain {
        /// An error code, e.g. DOCKER_DAEMON_ERROR (case-insensitive; the
        /// _ERROR suffix is optional), or a check, e.g. registry.docker_credential
        /// or docker_credential: what it proves, its warnings and what to do.
        #[arg(
            value_parser = Offering { parse: parse_topic, values: topic_values },
            value_name = "CODE_OR_CHECK",
            hide_possible_values = true
        )]
        topic: Option<Topic>,
        /// List every check and every code (what `explain` takes).
        #[arg(long, conflicts_with = "topic")]
        list: bool,
    },
    /// List every error code.
    Codes {
        /// Print the catalogue as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List every check, in pipeline order: the ids --skip and explain take.
    Checks {
        /// Print each check's declaration as JSON (what it proves, its
        /// warnings, its codes).
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (e.g. `acr-health completions bash >
    /// /etc/bash_completion.d/acr-health`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff) on stdout: acr-health(1), or a
    /// command's (`acr-health man check`); with --dir, write them all.
    Man {
        /// The command whose page to print.
        #[arg(value_parser = crate::help::man::page_names(), value_name = "COMMAND")]
        command: Option<String>,
        /// Write every page (acr-health.1, acr-health-check.1, …) into this
        /// folder instead, e.g. /usr/local/share/man/man1.
        #[arg(
            long,
            value_name = "DIR",
            value_hint = ValueHint::DirPath,
            conflicts_with = "command"
        )]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Name of the registry to check (without checking a registry only the
    /// environment is checked).
    #[arg(short = 'n', long = "name", value_name = "REGISTRY", value_hint = ValueHint::Other)]
    pub name: Option<String>,

    /// Run every check and report every error instead of stopping at the
    /// first (the exit code is still 1 when a check failed).
    #[arg(long)]
    pub ignore_errors: bool,

    /// Do not ask before pulling the test image; pull it.
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Print the report as JSON (schema version 1) on stdout; short for --output json.
    #[arg(long, conflicts_with = "output")]
    pub json: bool,

    /// Report format on stdout: text (az's lines), json, jsonc (coloured
    /// JSON on a terminal), tsv or table (a line per check: status, id,
    /// code, duration), junit (XML, one test case per check, for CI test
    /// reports), or none (only the exit code). Default: text, whatever
    /// az's own output setting (az's check-health prints its lines then too).
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,

    /// A JMESPath query over the JSON report, printed as JSON, e.g.
    /// "checks[?status=='fail'].code".
    #[arg(long, value_name = "JMESPATH", value_hint = ValueHint::Other)]
    pub query: Option<String>,

    /// Print only the error blocks (and the closing summary); nothing at
    /// all on a healthy run. Also az's core.only_show_errors
    /// (AZURE_CORE_ONLY_SHOW_ERRORS).
    #[arg(long)]
    pub only_show_errors: bool,

    /// Show each check's details and timing in the text report.
    #[arg(long)]
    pub verbose: bool,

    /// Trace DNS answers, connections and HTTP requests and responses on
    /// stderr (tokens, passwords and secrets replaced by ****).
    #[arg(long)]
    pub debug: bool,

    /// When to colour the text report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Time limit for each step (a tool run, a lookup, a request): seconds,
    /// or with a unit (500ms, 2s, 1m). The docker pull gets three times this,
    /// and the whole run ten times.
    #[arg(
        long,
        value_name = "DURATION",
        value_hint = ValueHint::Other,
        default_value = crate::duration::DEFAULT_TIMEOUT,
        value_parser = crate::duration::parse_duration
    )]
    pub timeout: Duration,

    /// Do not run a check or a group of checks (repeatable): docker, helm,
    /// notary, environment, registry, or a check id such as docker.pull or
    /// registry.dns.
    #[arg(
        long,
        value_name = "CHECK",
        value_parser = Offering { parse: parse_skip, values: CheckId::skip_values },
        hide_possible_values = true
    )]
    pub skip: Vec<String>,

    /// Check this login server instead of NAME + the cloud's suffix
    /// (connected registries, custom setups).
    #[arg(
        long,
        value_name = "HOST[:PORT]",
        value_hint = ValueHint::Hostname,
        help_heading = "Registry"
    )]
    pub login_server: Option<String>,

    /// Send the Azure AD token to this login server though it is not a
    /// registry of the cloud (repeatable). Never a Resource Manager token.
    #[arg(long, value_name = "HOST", value_hint = ValueHint::Hostname, help_heading = "Registry")]
    pub allow_token_to: Vec<String>,

    /// Azure cloud of the registry (default: the cloud az is set to, else AzureCloud).
    #[arg(long, value_name = "CLOUD", value_hint = ValueHint::Other, help_heading = "Registry")]
    pub cloud: Option<String>,

    /// Ask this DNS server only (UDP then TCP), without the hosts file.
    #[arg(
        long,
        value_name = "IP[:PORT]",
        value_hint = ValueHint::Other,
        value_parser = parse_dns_server,
        help_heading = "Registry"
    )]
    pub dns_server: Option<std::net::SocketAddr>,

    /// Also trust the CA certificates in this PEM file (e.g. a corporate proxy's root).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = "Registry")]
    pub ca_file: Option<std::path::PathBuf>,

    /// Which credential to use for the registry token steps.
    #[arg(long, value_enum, default_value_t = AuthSource::Auto, help_heading = "Credentials")]
    pub auth: AuthSource,

    /// Registry user (admin user or ACR token name) for the password grant.
    #[arg(
        short = 'u',
        long,
        value_name = "USER",
        value_hint = ValueHint::Other,
        help_heading = "Credentials"
    )]
    pub username: Option<String>,

    /// Password of --username. Prefer --password-stdin: arguments are visible to other users.
    #[arg(
        short = 'p',
        long,
        value_name = "PASSWORD",
        value_hint = ValueHint::Other,
        conflicts_with = "password_stdin",
        help_heading = "Credentials"
    )]
    pub password: Option<String>,

    /// Read the password of --username from standard input.
    #[arg(long, help_heading = "Credentials")]
    pub password_stdin: bool,

    /// Subscription to find the registry in, by id or name (default:
    /// AZURE_SUBSCRIPTION_ID, else az's default).
    #[arg(
        long,
        value_name = "NAME_OR_ID",
        value_hint = ValueHint::Other,
        help_heading = "Registry"
    )]
    pub subscription: Option<String>,

    /// Resource group of the registry (faster lookup in Resource Manager).
    #[arg(
        short = 'g',
        long,
        value_name = "GROUP",
        value_hint = ValueHint::Other,
        help_heading = "Registry"
    )]
    pub resource_group: Option<String>,

    /// Request access to this repository instead of the catalog scope
    /// (pull, push, delete and metadata, as az asks), and check that pull
    /// is granted.
    #[arg(long, value_name = "REPO", value_hint = ValueHint::Other, help_heading = "Registry")]
    pub repository: Option<String>,

    /// With --image: the platform whose image an index must have
    /// (os/arch[/variant]; default: this machine's).
    #[arg(long, value_name = "OS/ARCH", value_hint = ValueHint::Other, help_heading = "Registry")]
    pub platform: Option<String>,

    /// With --repository: the actions whose absence fails the check
    /// (comma-separated: pull, push, delete, metadata_read,
    /// metadata_write). Pull is always required; the others are reported.
    #[arg(
        long,
        value_name = "ACTIONS",
        value_delimiter = ',',
        value_parser = ["pull", "push", "delete", "metadata_read", "metadata_write"],
        help_heading = "Registry"
    )]
    pub require: Vec<String>,

    /// Check that DNS routes the registry's private endpoint in this virtual
    /// network (name or resource id) to its private IP addresses.
    #[arg(
        long,
        value_name = "NAME_OR_ID",
        value_hint = ValueHint::Other,
        help_heading = "Registry"
    )]
    pub vnet: Option<String>,

    /// Check as this Kubernetes node's kubelet pulls (Linux nodes): its
    /// cloud configuration (azure.json), its image credential provider, its
    /// identity's token and the registry's exchange, through the node's own
    /// resolver, trust store and containerd's proxy. The docker, helm and
    /// notary checks are left out.
    #[arg(
        long,
        help_heading = "Node",
        conflicts_with_all = ["username", "password", "password_stdin", "auth"]
    )]
    pub kubelet: bool,

    /// With --kubelet: where the node's root file system is (default /;
    /// /host in a pod that mounts it).
    #[arg(
        long,
        value_name = "DIR",
        value_hint = ValueHint::DirPath,
        requires = "kubelet",
        help_heading = "Node"
    )]
    pub host_root: Option<std::path::PathBuf>,

    /// With --kubelet: also run the node's credential provider as the
    /// kubelet runs it, and check that the registry accepts the credential
    /// it gives.
    #[arg(long, requires = "kubelet", help_heading = "Node")]
    pub run_credential_provider: bool,

    /// With --repository: also fetch this tag's (or sha256: digest's)
    /// manifest and smallest layer.
    #[arg(
        long,
        value_name = "TAG_OR_DIGEST",
        value_hint = ValueHint::Other,
        help_heading = "Registry"
    )]
    pub image: Option<String>,
}

fn parse_dns_server(s: &str) -> Result<std::net::SocketAddr, String> {
    let s = s.trim();
    if let Ok(addr) = s.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    s.parse::<std::net::IpAddr>()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
        .map_err(|_| {
            format!(
                "'{s}' is not an IP address with an optional port (e.g. 10.0.0.2 or \
            127.0.0.1:5353)"
            )
        })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// What `explain` explains.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Topic {
    Code(ErrorCode),
    Check(CheckId),
}

fn parse_topic(s: &str) -> Result<Topic, String> {
    let code_error = match s.parse::<ErrorCode>() {
        Ok(code) => return Ok(Topic::Code(code)),
        Err(e) => e,
    };
    let value = s.trim().to_ascii_lowercase();
    let named = |c: &&CheckId| {
        c.as_str() == value || c.as_str().split_once('.').is_some_and(|(_, n)| n == value)
    };
    let matching: Vec<&CheckId> = CheckId::ALL.iter().filter(named).collect();
    match matching.as_slice() {
        [one] => Ok(Topic::Check(**one)),
        [] => Err(format!(
            "{code_error}, nor a check (acr-health checks lists their ids)"
        )),
        several => {
            let ids: Vec<&str> = several.iter().map(|c| c.as_str()).collect();
            Err(format!("'{s}' names several checks: {}", ids.join(", ")))
        }
    }
}

/// Every code and check id, for completion.
fn topic_values() -> Vec<&'static str> {
    crate::codes::CATALOGUE
        .iter()
        .map(|c| c.name)
        .chain(CheckId::ALL.iter().map(|c| c.as_str()))
        .collect()
}

fn parse_skip(s: &str) -> Result<String, String> {
    let value = s.trim().to_ascii_lowercase();
    if CheckId::ALL.iter().any(|c| c.matches_skip(&value)) {
        Ok(value)
    } else {
        Err(format!(
            "unknown check '{s}' (one of: {})",
            CheckId::skip_values().join(", ")
        ))
    }
}
