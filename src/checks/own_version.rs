//! The acr-health version line, where az prints its own version.

use super::CheckId;
use super::Ctx;
use crate::report::CheckResult;

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
