//! The login server to check: from `--login-server`, or the registry name
//! plus the cloud's suffix.

use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::target::LoginServerSource;
use crate::target::{LoginServer, Target};

/// The `registry.login_server` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.login_server",
    title: "Login server",
    proves: "A login server to check: --login-server, else Resource Manager's loginServer (which \
        may carry a hash suffix), else the name and the cloud's suffix.",
    warnings: &[],
    codes: &[ErrorCode::LoginServerError],
    planned: Planned::WithRegistry,
};

pub(crate) fn check(target: &Target) -> (CheckResult, Option<LoginServer>) {
    let id = CheckId::RegistryLoginServer;
    match &target.login_server {
        Ok(ls) => {
            let from = match ls.source {
                LoginServerSource::Flag => "from --login-server".to_string(),
                LoginServerSource::Suffix => {
                    format!("registry name + {} suffix", target.cloud.name)
                }
                LoginServerSource::Arm => "from Azure Resource Manager".to_string(),
            };
            let mut result = CheckResult::pass(
                id,
                format!(
                    "Login server for registry '{}': {} ({from})",
                    target.name,
                    ls.authority()
                ),
            )
            .with_detail("login_server", ls.authority())
            .with_detail(
                "source",
                serde_json::to_value(ls.source).unwrap_or_default(),
            )
            .with_detail("cloud", target.cloud.name.clone());
            for note in &target.notes {
                result = result.with_note(note);
            }
            (result, Some(ls.clone()))
        }
        Err(why) => (
            CheckResult::fail(
                id,
                ErrorCode::LoginServerError,
                format!(
                    "Unable to find login server for registry '{}': {why}",
                    target.name
                ),
            )
            .with_detail("cloud", target.cloud.name.clone()),
            None,
        ),
    }
}
