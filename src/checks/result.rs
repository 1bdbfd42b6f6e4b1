//! What a check returns: its status, the cause in words, its details and
//! the typed parts of its words (the HTTP status and grants az's sentence
//! names, what Resource Manager explains, notes). [`CheckResult::into_report`]
//! is the one place that composes a failure's message from them.

use super::CheckId;
use crate::azure::auth::AuthSource;
use crate::codes::ErrorCode;
use crate::report::{and_list, Check, RegistryInfo, Status};
use serde_json::{Map, Value};
use std::time::Duration;

/// The outcome of one check.
#[derive(Clone, Debug)]
pub(crate) struct CheckResult {
    pub id: CheckId,
    pub status: Status,
    pub code: Option<ErrorCode>,
    /// The check's own words: the line a pass prints, or the specific cause
    /// of a failure (az's sentence is put before it when reported).
    pub message: String,
    /// What the JSON report shows under `details`, as the check wrote it.
    pub details: Map<String, Value>,
    /// How long the check took, when the check measured it itself (one
    /// command that answers two checks, a walk step); else the runner's time.
    pub duration: Option<Duration>,
    /// Skipped because the run stopped at an earlier error (the text report
    /// counts these on one line).
    pub stopped: bool,
    notes: Vec<String>,
    http_status: Option<u16>,
    grants: Option<Grants>,
    explanations: Vec<String>,
    credential: Option<UsedCredential>,
}

/// The credential a token step used: its kind decides what a failure tells
/// the user to do, its label names it.
#[derive(Clone, Debug)]
pub(crate) struct UsedCredential {
    pub source: AuthSource,
    pub label: String,
}

/// The repository actions an access token grants, and those it lacks.
#[derive(Clone, Debug)]
pub(crate) struct Grants {
    pub granted: Vec<String>,
    pub missing: Vec<String>,
}

impl CheckResult {
    fn new(id: CheckId, status: Status, code: Option<ErrorCode>, message: String) -> Self {
        CheckResult {
            id,
            status,
            code,
            message,
            details: Map::new(),
            duration: None,
            stopped: false,
            notes: Vec::new(),
            http_status: None,
            grants: None,
            explanations: Vec::new(),
            credential: None,
        }
    }

    pub(crate) fn pass(id: CheckId, message: impl Into<String>) -> Self {
        Self::new(id, Status::Pass, None, message.into())
    }

    /// A failure: `detail` is the specific cause. The report puts az's
    /// sentence for the code before it (see [`CheckResult::into_report`]),
    /// once the registry and login server the run settled on are known.
    pub(crate) fn fail(id: CheckId, code: ErrorCode, detail: impl AsRef<str>) -> Self {
        Self::new(
            id,
            Status::Fail,
            Some(code),
            detail.as_ref().trim().to_string(),
        )
    }

    pub(crate) fn warn(id: CheckId, message: impl Into<String>) -> Self {
        Self::new(id, Status::Warn, None, message.into())
    }

    pub(crate) fn skip(id: CheckId, reason: impl Into<String>) -> Self {
        Self::new(id, Status::Skip, None, reason.into())
    }

    /// Marks a skip as caused by the run stopping at an earlier error.
    pub(crate) fn stopped(mut self) -> Self {
        self.stopped = true;
        self
    }

    /// A one-line remark shown under the check's line (details.notes in JSON).
    pub(crate) fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The same result as a warning whose line is `message`; its details,
    /// notes and other parts are kept.
    pub(crate) fn into_warning(mut self, message: impl Into<String>) -> Self {
        self.status = Status::Warn;
        self.message = message.into();
        self
    }

    /// A pass that needs attention: a warning with the note that says why.
    pub(crate) fn warning_because(mut self, note: impl Into<String>) -> Self {
        if self.status == Status::Pass {
            self.status = Status::Warn;
        }
        self.with_note(note)
    }

    #[cfg(test)]
    pub(crate) fn notes(&self) -> impl Iterator<Item = &str> {
        self.notes.iter().map(String::as_str)
    }

    pub(crate) fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// The HTTP status the registry answered (az's sentences name it).
    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    pub(crate) fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// What an access token grants on the repository it was asked for.
    pub(crate) fn with_grants(mut self, grants: Grants) -> Self {
        self.grants = Some(grants);
        self
    }

    /// The credential the step used (details.credential in JSON; named in
    /// a failure's message).
    pub(crate) fn with_credential(mut self, used: UsedCredential) -> Self {
        self.credential = Some(used);
        self
    }

    pub(crate) fn credential(&self) -> Option<&UsedCredential> {
        self.credential.as_ref()
    }

    /// A line that explains a failure from what another source knows (the
    /// registry's firewall rules from Resource Manager), after the cause.
    pub(crate) fn with_explanation(mut self, line: impl Into<String>) -> Self {
        self.explanations.push(line.into());
        self
    }

    /// The report's row. A failure's message is composed here, and only
    /// here: az's sentence for its code (values filled in as az fills
    /// them), the check's cause, then what explains it. The typed parts go
    /// into `details` under the names of JSON schema v1.
    pub(crate) fn into_report(self, registry: Option<&RegistryInfo>) -> Check {
        let message = self.composed_message(registry);
        let mut details = self.details;
        if let Some(status) = self.http_status {
            details.insert("status".into(), status.into());
        }
        if let Some(used) = &self.credential {
            details.insert("credential".into(), used.label.clone().into());
        }
        if let Some(g) = self.grants {
            details.insert("granted_actions".into(), g.granted.into());
            details.insert("missing_actions".into(), g.missing.into());
        }
        Check {
            id: self.id.spec(),
            title: self.id.title(),
            status: self.status,
            code: self.code,
            message,
            remediation: self.code.map(ErrorCode::remediation),
            docs_url: self.code.map(ErrorCode::docs_url),
            details,
            notes: self.notes,
            duration_ms: self.duration.map_or(0, |d| d.as_millis() as u64),
            stopped: self.stopped,
        }
    }

    fn composed_message(&self, registry: Option<&RegistryInfo>) -> String {
        let sentence = self
            .code
            .filter(|_| self.status == Status::Fail)
            .map(|code| self.az_sentence(code, registry));
        let used = (self.credential.as_ref())
            .filter(|_| self.status == Status::Fail)
            .map(|c| format!("Credential used: {}.", c.label));
        let parts = sentence
            .iter()
            .chain(std::iter::once(&self.message).filter(|m| !m.is_empty()))
            .chain(&self.explanations)
            .chain(&used);
        parts.map(String::as_str).collect::<Vec<_>>().join("\n")
    }

    /// az's sentence for `code`, with its values filled in as az fills them.
    fn az_sentence(&self, code: ErrorCode, registry: Option<&RegistryInfo>) -> String {
        if let (ErrorCode::ConnectivityAccessTokenError, Some(g)) = (code, &self.grants) {
            let granted = match g.granted.is_empty() {
                true => "no".to_string(),
                false => and_list(&g.granted),
            };
            return crate::codes::AZ_ACCESS_PERMISSIONS
                .replace("{granted}", &granted)
                .replace("{missing}", &and_list(&g.missing));
        }
        let name = registry.map(|r| r.name.as_str()).unwrap_or_default();
        let login_server = registry
            .and_then(|r| r.login_server.as_deref())
            .unwrap_or(name);
        let status = self
            .http_status
            .map_or_else(|| "(none)".to_string(), |s| s.to_string());
        let sentence = code
            .info()
            .az_sentence
            .replace("{login_server}", login_server)
            .replace("{registry}", name)
            .replace("{status}", &status);
        match self
            .credential
            .as_ref()
            .and_then(|c| instead_of_az_login(c.source))
        {
            Some(advice) => sentence.replace(AZ_LOGIN_ADVICE, advice),
            None => sentence,
        }
    }
}

/// az's advice in its token-denied sentences: right for an az login only.
const AZ_LOGIN_ADVICE: &str = "Please try running 'az login' again to refresh permissions.";

/// What to try instead of `az login` when another credential was used.
fn instead_of_az_login(source: AuthSource) -> Option<&'static str> {
    match source {
        AuthSource::AzCli | AuthSource::Auto => None,
        AuthSource::Password => Some(
            "Please check the username and password (the admin user's, or a token's and its \
            scope map).",
        ),
        AuthSource::ServicePrincipal => Some(
            "Please check the service principal's role assignment on the registry (AcrPull) \
            and its client secret.",
        ),
        AuthSource::WorkloadIdentity => Some(
            "Please check the workload identity's role assignment on the registry (AcrPull) \
            and its federated credential.",
        ),
        AuthSource::ManagedIdentity => {
            Some("Please check the managed identity's role assignment on the registry (AcrPull).")
        }
    }
}
