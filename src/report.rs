//! The report model: what every renderer prints and what decides the exit code.

use crate::check_spec::CheckSpec;
use crate::codes::ErrorCode;
use crate::target::LoginServerSource;
use serde::Serialize;
use serde_json::{Map, Value};

/// Version of the JSON output contract; bumped only when a field changes.
pub(crate) const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
}

/// One check as reported.
#[derive(Clone, Debug)]
pub(crate) struct Check {
    pub id: &'static CheckSpec,
    pub title: &'static str,
    pub status: Status,
    pub code: Option<ErrorCode>,
    pub message: String,
    pub remediation: Option<&'static str>,
    pub docs_url: Option<String>,
    pub details: Map<String, Value>,
    /// One-line remarks under the check's line (`details.notes` in JSON).
    pub notes: Vec<String>,
    pub duration_ms: u64,
    /// Skipped because the run stopped at an earlier error (the text report
    /// counts these on one line).
    pub stopped: bool,
}

/// A check's JSON form (schema v1): the notes sit among the details.
#[derive(Serialize)]
struct CheckJson<'a> {
    id: &'static str,
    title: &'static str,
    status: Status,
    code: Option<ErrorCode>,
    message: &'a str,
    remediation: Option<&'static str>,
    docs_url: Option<&'a str>,
    details: Map<String, Value>,
    duration_ms: u64,
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut details = self.details.clone();
        if !self.notes.is_empty() {
            details.insert("notes".into(), self.notes.clone().into());
        }
        CheckJson {
            id: self.id.key,
            title: self.title,
            status: self.status,
            code: self.code,
            message: &self.message,
            remediation: self.remediation,
            docs_url: self.docs_url.as_deref(),
            details,
            duration_ms: self.duration_ms,
        }
        .serialize(s)
    }
}

/// `a`, `a and b`, `a, b and c`, as az lists things.
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => "nothing".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct RegistryInfo {
    pub name: String,
    pub login_server: Option<String>,
    pub login_server_source: Option<LoginServerSource>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub registry: Option<RegistryInfo>,
    pub healthy: bool,
    pub duration_ms: u64,
    pub checks: Vec<Check>,
    pub summary: Summary,
    /// Set when the run was cut short; not part of the JSON contract.
    #[serde(skip)]
    pub cut_short: Option<CutShort>,
}

/// Why a run ended before every check finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CutShort {
    /// Ctrl-C (SIGINT).
    Interrupted,
    /// SIGTERM: timeout(1), systemd, a cancelled CI job.
    Terminated,
    /// SIGHUP: the terminal was closed.
    HungUp,
    /// The run's overall deadline passed.
    Deadline,
}

impl Report {
    pub(crate) fn new(
        registry: Option<RegistryInfo>,
        checks: Vec<Check>,
        duration_ms: u64,
        cut_short: Option<CutShort>,
    ) -> Self {
        let mut summary = Summary::default();
        for check in &checks {
            match check.status {
                Status::Pass => summary.pass += 1,
                Status::Fail => summary.fail += 1,
                Status::Warn => summary.warn += 1,
                Status::Skip => summary.skip += 1,
            }
        }
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            registry,
            healthy: summary.fail == 0 && cut_short.is_none(),
            duration_ms,
            checks,
            summary,
            cut_short,
        }
    }

    /// 0 healthy; 1 any check failed (with or without `--ignore-errors`) or
    /// the deadline passed; 128 + the signal that ended the run: 130
    /// interrupted, 143 terminated, 129 hung up.
    pub(crate) fn exit_code(&self) -> i32 {
        match self.cut_short {
            Some(CutShort::Interrupted) => 130,
            Some(CutShort::Terminated) => 143,
            Some(CutShort::HungUp) => 129,
            Some(CutShort::Deadline) => 1,
            None => i32::from(self.summary.fail > 0),
        }
    }
}
