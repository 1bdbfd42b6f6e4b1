//! The validated, resolved settings the checks see. Built once from the
//! command line and the environment; nothing after this reads either.

use crate::cli::{CheckArgs, ColorChoice};
use crate::report::RegistryInfo;
use std::io::IsTerminal;
use std::time::Duration;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `--timeout` accepted.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub registry: Option<String>,
    pub ignore_errors: bool,
    pub yes: bool,
    /// A person is at a terminal who can answer a y/n prompt.
    pub interactive: bool,
    /// Bound on each external step (a subprocess, a lookup, a request).
    pub timeout: Duration,
    pub skip: Vec<String>,
    /// `DOCKER_COMMAND`: the docker client to use instead of `docker`.
    pub docker_command: Option<String>,
    pub format: OutputFormat,
    pub color: bool,
}

impl Config {
    pub fn from_args(args: &CheckArgs) -> Config {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let format = if args.json {
            OutputFormat::Json
        } else {
            OutputFormat::Text
        };
        Config {
            registry: args.name.clone(),
            ignore_errors: args.ignore_errors,
            yes: args.yes,
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            timeout: args.timeout,
            skip: args.skip.clone(),
            docker_command: env("DOCKER_COMMAND"),
            format,
            color: use_color(args.color, env("NO_COLOR").is_some(), || {
                std::io::stdout().is_terminal()
            }),
        }
    }

    /// A pull downloads an image, so it gets three step timeouts.
    pub fn pull_timeout(&self) -> Duration {
        self.timeout * 3
    }

    pub fn registry_info(&self) -> Option<RegistryInfo> {
        self.registry.as_ref().map(|name| RegistryInfo {
            name: name.clone(),
            login_server: None,
            login_server_source: None,
        })
    }
}

/// `--color always` wins over `NO_COLOR`; `auto` colours a terminal only.
fn use_color(choice: ColorChoice, no_color: bool, is_tty: impl FnOnce() -> bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && is_tty(),
    }
}

/// Parses `--timeout`: seconds (`10`, `2.5`) or with a unit (`500ms`, `3s`, `1m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| {
        format!("'{s}' is not a duration (use seconds such as 10 or 2.5, or 500ms)")
    })?;
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("'{s}' must be greater than zero"));
    }
    let d = Duration::from_secs_f64(secs);
    if d > MAX_TIMEOUT {
        return Err(format!("'{s}' is longer than the maximum of 1 hour"));
    }
    if d < Duration::from_millis(1) {
        return Err(format!("'{s}' is shorter than the minimum of 1ms"));
    }
    Ok(d)
}

/// A duration as a person would write it: `10s`, `2.5s`, `500ms`.
pub fn format_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        let s = d.as_secs_f64();
        if s.fract() == 0.0 {
            format!("{}s", s as u64)
        } else {
            format!("{s:.1}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        for bad in ["", "abc", "0", "-1", "nan", "inf", "2h", "7200"] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(Duration::from_secs(10)), "10s");
        assert_eq!(format_duration(Duration::from_millis(2500)), "2.5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
    }

    #[test]
    fn colour_rules() {
        assert!(use_color(ColorChoice::Always, true, || false));
        assert!(!use_color(ColorChoice::Never, false, || true));
        assert!(!use_color(ColorChoice::Auto, true, || true));
        assert!(use_color(ColorChoice::Auto, false, || true));
        assert!(!use_color(ColorChoice::Auto, false, || false));
    }
}
