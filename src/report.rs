//! The report model: what every renderer prints and what decides the exit code.

use crate::check_id::CheckId;
use crate::codes::ErrorCode;
use crate::target::LoginServerSource;
use serde::Serialize;
use serde_json::{Map, Value};

/// Version of the JSON output contract; bumped only when a field changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
}

/// The outcome of one check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub id: CheckId,
    pub title: &'static str,
    pub status: Status,
    pub code: Option<ErrorCode>,
    pub message: String,
    pub remediation: Option<&'static str>,
    pub docs_url: Option<String>,
    pub details: Map<String, Value>,
    pub duration_ms: u64,
    /// Skipped because the run stopped at an earlier error (the text report
    /// counts these on one line).
    #[serde(skip)]
    pub stopped: bool,
}

impl CheckResult {
    fn new(id: CheckId, status: Status, code: Option<ErrorCode>, message: String) -> Self {
        CheckResult {
            id,
            title: id.title(),
            status,
            code,
            message,
            remediation: code.map(ErrorCode::remediation),
            docs_url: code.map(ErrorCode::docs_url),
            details: Map::new(),
            duration_ms: 0,
            stopped: false,
        }
    }

    /// Marks a skip as caused by the run stopping at an earlier error.
    pub fn stopped(mut self) -> Self {
        self.stopped = true;
        self
    }

    pub fn pass(id: CheckId, message: impl Into<String>) -> Self {
        Self::new(id, Status::Pass, None, message.into())
    }

    /// A failure: `detail` is the specific cause. The report puts az's
    /// sentence for the code before it (see [`Report::new`]), once the
    /// registry and login server the run settled on are known.
    pub fn fail(id: CheckId, code: ErrorCode, detail: impl AsRef<str>) -> Self {
        Self::new(
            id,
            Status::Fail,
            Some(code),
            detail.as_ref().trim().to_string(),
        )
    }

    /// A failure's message with az's sentence for its code first, its values
    /// filled in as az fills them.
    fn with_az_sentence(mut self, registry: Option<&RegistryInfo>) -> Self {
        let Some(code) = self.code.filter(|_| self.status == Status::Fail) else {
            return self;
        };
        let status = match self.details.get("status") {
            Some(Value::Number(n)) => n.to_string(),
            _ => "(none)".to_string(),
        };
        let actions = |key: &str| -> Option<Vec<String>> {
            let list = self.details.get(key)?.as_array()?;
            Some(
                list.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            )
        };
        if let (ErrorCode::ConnectivityAccessTokenError, Some(granted), Some(missing)) =
            (code, actions("granted_actions"), actions("missing_actions"))
        {
            let granted = if granted.is_empty() {
                "no".to_string()
            } else {
                and_list(&granted)
            };
            let sentence = crate::codes::AZ_ACCESS_PERMISSIONS
                .replace("{granted}", &granted)
                .replace("{missing}", &and_list(&missing));
            self.message = format!("{sentence}\n{}", self.message);
            return self;
        }
        let name = registry.map(|r| r.name.as_str()).unwrap_or_default();
        let login_server = registry
            .and_then(|r| r.login_server.as_deref())
            .unwrap_or(name);
        let sentence = code
            .info()
            .az_sentence
            .replace("{login_server}", login_server)
            .replace("{registry}", name)
            .replace("{status}", &status);
        self.message = if self.message.is_empty() {
            sentence
        } else {
            format!("{sentence}\n{}", self.message)
        };
        self
    }

    pub fn warn(id: CheckId, message: impl Into<String>) -> Self {
        Self::new(id, Status::Warn, None, message.into())
    }

    pub fn skip(id: CheckId, reason: impl Into<String>) -> Self {
        Self::new(id, Status::Skip, None, reason.into())
    }

    /// A one-line remark shown under the check's line (details.notes in JSON).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        let notes = self
            .details
            .entry("notes")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = notes {
            list.push(Value::String(note.into()));
        }
        self
    }

    pub fn notes(&self) -> impl Iterator<Item = &str> {
        self.details
            .get("notes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }
}

/// `a`, `a and b`, `a, b and c`, as az lists things.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => "nothing".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
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
pub struct RegistryInfo {
    pub name: String,
    pub login_server: Option<String>,
    pub login_server_source: Option<LoginServerSource>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub registry: Option<RegistryInfo>,
    pub healthy: bool,
    pub duration_ms: u64,
    pub checks: Vec<CheckResult>,
    pub summary: Summary,
    /// Set when the run was cut short; not part of the JSON contract.
    #[serde(skip)]
    pub cut_short: Option<CutShort>,
}

/// Why a run ended before every check finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutShort {
    /// Ctrl-C.
    Interrupted,
    /// The run's overall deadline passed.
    Deadline,
}

impl Report {
    pub fn new(
        registry: Option<RegistryInfo>,
        checks: Vec<CheckResult>,
        duration_ms: u64,
        cut_short: Option<CutShort>,
    ) -> Self {
        let checks: Vec<CheckResult> = checks
            .into_iter()
            .map(|c| c.with_az_sentence(registry.as_ref()))
            .collect();
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
    /// the deadline passed; 130 interrupted.
    pub fn exit_code(&self) -> i32 {
        if self.cut_short == Some(CutShort::Interrupted) {
            130
        } else if self.summary.fail > 0 || self.cut_short.is_some() {
            1
        } else {
            0
        }
    }
}
