//! The acr-health version line, where az prints its own version.

use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;

/// The `cli.version` check.
pub(crate) const VERSION: CheckSpec = CheckSpec {
    key: "cli.version",
    title: "acr-health version",
    proves: "The acr-health version.",
    warnings: &[],
    codes: &[],
    planned: Planned::Always,
};

/// The `cli.version` check: this tool's version, where az prints its own,
/// with what of its configuration was left out (`notices`).
pub(crate) fn version(notices: &[String]) -> CheckResult {
    let version = env!("CARGO_PKG_VERSION");
    let line = format!("acr-health version: {version}");
    let r = CheckResult::pass(CheckId::CliVersion, line).with_detail("version", version);
    notices.iter().fold(r, |r, n| r.with_note(n.clone()))
}
