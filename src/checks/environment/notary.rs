//! Notary: an optional client (Docker Content Trust). Absent is fine; the
//! reference documents versions from 0.6.0 on as incompatible.

use super::tool_version::{tool_version, version_after, ToolVersion};
use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::env::Env;
use crate::process::lookup::{self as tool_lookup, Lookup};
use crate::process::one_line;
use std::time::Duration;

/// The `notary.version` check.
pub(crate) const VERSION: CheckSpec = CheckSpec {
    key: "notary.version",
    title: "Notary version",
    proves: "An installed Notary is older than 0.6.0 (absent is fine).",
    warnings: &[warning(
        "notary prints no readable version (Debian's build)",
        "nothing to do unless you sign with Docker Content Trust",
    )],
    codes: &[ErrorCode::NotaryVersionError],
    planned: Planned::Always,
};

/// The first Notary version the reference calls incompatible.
pub(crate) const INCOMPATIBLE_FROM: &str = "0.6.0";

/// The version in `notary version` output (`Version:    0.5.1`). Debian's
/// build prints an empty version, which yields `None`.
pub fn parse_version(output: &str) -> Option<ToolVersion> {
    version_after(output, "Version:")
}

/// The `notary.version` check: an absent client is a skip, not a failure.
pub(crate) async fn version(env: &Env, timeout: Duration) -> CheckResult {
    let id = CheckId::NotaryVersion;
    let notary = match tool_lookup::find("notary", env) {
        Lookup::Found(p) => p,
        Lookup::OnlyInCurrentDir(p) => {
            return CheckResult::skip(
                id,
                format!(
                    "Notary client found only in the current directory or through a relative PATH \
                        entry ('{}'); not run (Notary is optional)",
                    p.display()
                ),
            )
        }
        Lookup::NotFound => {
            return CheckResult::skip(
                id,
                "Notary client not found (optional: only Docker Content Trust needs it)",
            )
        }
    };
    let code = ErrorCode::NotaryVersionError;
    tool_version(id, code, &notary, &["version"], timeout, judge).await
}

fn judge(stdout: &str) -> CheckResult {
    let id = CheckId::NotaryVersion;
    let Some(version) = parse_version(stdout) else {
        return CheckResult::warn(
            id,
            format!(
                "Notary version: unknown; 'notary version' printed: {}",
                one_line(stdout, 200)
            ),
        )
        .with_detail("raw_output", one_line(stdout, 1000));
    };
    let limit = ToolVersion::parse(INCOMPATIBLE_FROM).expect("constant is a version");
    if version >= limit {
        CheckResult::fail(
            id,
            ErrorCode::NotaryVersionError,
            format!(
                "Notary version: {version}\nNotary clients from version {INCOMPATIBLE_FROM} on are \
                    not compatible; use a version earlier than {INCOMPATIBLE_FROM}."
            ),
        )
    } else {
        CheckResult::pass(id, format!("Notary version: {version}"))
    }
    .with_detail("version", version.as_str())
}
