//! The acr-health version line, where az prints its own version.

use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::pipeline::ctx::Ctx;

/// The `cli.version` check.
pub const VERSION: CheckSpec = CheckSpec {
    key: "cli.version",
    title: "acr-health version",
    proves: "The acr-health version.",
    warnings: &[],
    codes: &[],
    planned: Planned::Always,
};

pub async fn run(ctx: &Ctx) {
    let id = CheckId::CliVersion;
    if ctx.wants(id) {
        let version = env!("CARGO_PKG_VERSION");
        ctx.record(
            CheckResult::pass(id, format!("acr-health version: {version}"))
                .with_detail("version", version),
        );
    }
}
