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

/// The `cli.version` check: this tool's version, where az prints its own.
pub(crate) fn version() -> CheckResult {
    let version = env!("CARGO_PKG_VERSION");
    CheckResult::pass(
        CheckId::CliVersion,
        format!("acr-health version: {version}"),
    )
    .with_detail("version", version)
}
