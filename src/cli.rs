//! Command-line definitions (clap). Validation of single values happens in
//! value parsers so every bad input is a one-line usage error (exit 2).

use crate::checks::CheckId;
use crate::codes::ErrorCode;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  Check this machine's docker, helm and notary:
    acr-health check
  Check the machine and the path to a registry, pulling a test image without asking:
    acr-health check -n myregistry --yes
  Report every problem, not just the first, as JSON:
    acr-health check -n myregistry --ignore-errors --json | jq '.checks[] | select(.status == \"fail\")'
  Explain an error code:
    acr-health explain DOCKER_DAEMON_ERROR";

#[derive(Debug, Parser)]
#[command(
    name = "acr-health",
    version,
    about = "Diagnose why pulling from an Azure Container Registry fails: a fast, drop-in replacement for `az acr check-health`.",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the local environment and, with --name, the path to a registry.
    #[command(after_help = EXAMPLES)]
    Check(CheckArgs),
    /// Print the documented meaning and remediation of an error code.
    Explain {
        /// The code, e.g. DOCKER_DAEMON_ERROR (case-insensitive; the _ERROR suffix is optional).
        #[arg(value_parser = parse_code)]
        code: ErrorCode,
    },
    /// List every error code.
    Codes {
        /// Print the catalogue as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Name of the registry to check (without checking a registry only the
    /// environment is checked).
    #[arg(short = 'n', long = "name", value_name = "REGISTRY")]
    pub name: Option<String>,

    /// Run every check and report every error instead of stopping at the
    /// first (the exit code is still 1 when a check failed).
    #[arg(long)]
    pub ignore_errors: bool,

    /// Do not ask before pulling the test image; pull it.
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Print the report as JSON (schema version 1) on stdout.
    #[arg(long)]
    pub json: bool,

    /// When to colour the text report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Time limit for each step (a tool run, a lookup, a request): seconds,
    /// or with a unit (500ms, 2s, 1m). The docker pull gets three times this.
    #[arg(long, value_name = "DURATION", default_value = "10", value_parser = crate::config::parse_duration)]
    pub timeout: Duration,

    /// Do not run a check or a group of checks (repeatable): docker, helm,
    /// notary, environment, or a check id such as docker.pull.
    #[arg(long, value_name = "CHECK", value_parser = parse_skip)]
    pub skip: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn parse_code(s: &str) -> Result<ErrorCode, String> {
    s.parse()
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
