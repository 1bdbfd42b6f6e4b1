//! What a check returns: its status, the cause in words, its details; made
//! into the report's row (with az's sentence first for a failure) when the
//! run is reported.

use crate::checks::CheckId;
use crate::codes::ErrorCode;
use crate::report::{and_list, Check, RegistryInfo, Status};
use serde_json::{Map, Value};

/// The outcome of one check.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub id: CheckId,
    pub status: Status,
    pub code: Option<ErrorCode>,
    pub message: String,
    pub details: Map<String, Value>,
    pub duration_ms: u64,
    /// Skipped because the run stopped at an earlier error (the text report
    /// counts these on one line).
    pub stopped: bool,
}

impl CheckResult {
    fn new(id: CheckId, status: Status, code: Option<ErrorCode>, message: String) -> Self {
        CheckResult {
            id,
            status,
            code,
            message,
            details: Map::new(),
            duration_ms: 0,
            stopped: false,
        }
    }

    /// The report's row: a failure's message with az's sentence first.
    pub fn into_report(self, registry: Option<&RegistryInfo>) -> Check {
        let r = self.with_az_sentence(registry);
        Check {
            id: r.id.spec(),
            title: r.id.title(),
            status: r.status,
            code: r.code,
            message: r.message,
            remediation: r.code.map(ErrorCode::remediation),
            docs_url: r.code.map(ErrorCode::docs_url),
            details: r.details,
            duration_ms: r.duration_ms,
            stopped: r.stopped,
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
