//! Helm: the client is found and is at least the version ACR's Helm
//! integration needs.

use super::tool_version::{check_tool_version, version_after, ToolVersion};
use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::pipeline::ctx::Ctx;
use crate::process::lookup::{self as tool_lookup, Lookup};
use crate::process::one_line;

/// The `helm.command` check.
pub const COMMAND: CheckSpec = CheckSpec {
    key: "helm.command",
    title: "Helm command",
    proves: "A Helm client is on PATH.",
    warnings: &[],
    codes: &[ErrorCode::HelmCommandError],
    planned: Planned::Always,
};

/// The `helm.version` check.
pub const VERSION: CheckSpec = CheckSpec {
    key: "helm.version",
    title: "Helm version",
    proves: "Helm is 2.11.0 or newer (Helm 2 and Helm 3 output).",
    warnings: &[],
    codes: &[ErrorCode::HelmVersionError],
    planned: Planned::Always,
};

/// The oldest Helm client az supports.
pub const MIN_HELM_VERSION: &str = "2.11.0";

/// The client version in `helm version --client` output: Helm 2 prints
/// `SemVer:"v2.16.12"`, Helm 3 prints `Version:"v3.14.4"`.
pub fn parse_version(output: &str) -> Option<ToolVersion> {
    version_after(output, "SemVer:").or_else(|| version_after(output, "Version:"))
}

pub async fn run(ctx: &Ctx) {
    if !ctx.wants(CheckId::HelmCommand) {
        ctx.skip_all(&[CheckId::HelmVersion], "Helm command check skipped");
        return;
    }
    let helm = match tool_lookup::find("helm") {
        Lookup::Found(p) => p,
        other => {
            let why = match other {
                Lookup::OnlyInCurrentDir(p) => format!(
                    "'{}' was found only in the current directory and was not run.",
                    p.display()
                ),
                _ => "'helm' was not found on PATH.".to_string(),
            };
            ctx.record(CheckResult::fail(
                CheckId::HelmCommand,
                ErrorCode::HelmCommandError,
                why,
            ));
            ctx.skip_all(&[CheckId::HelmVersion], "Helm client not found");
            return;
        }
    };
    let helm_str = helm.display().to_string();
    ctx.record(
        CheckResult::pass(CheckId::HelmCommand, format!("Helm command: {helm_str}"))
            .with_detail("path", helm_str.clone()),
    );

    let id = CheckId::HelmVersion;
    if !ctx.wants(id) {
        return;
    }
    let args = ["version", "--client"];
    check_tool_version(ctx, id, ErrorCode::HelmVersionError, &helm, &args, judge).await;
}

fn judge(stdout: &str) -> CheckResult {
    let id = CheckId::HelmVersion;
    let Some(version) = parse_version(stdout) else {
        return CheckResult::warn(
            id,
            format!(
                "Helm version: unknown; 'helm version --client' printed: {}",
                one_line(stdout, 200)
            ),
        );
    };
    let minimum = ToolVersion::parse(MIN_HELM_VERSION).expect("constant is a version");
    if version < minimum {
        CheckResult::fail(
            id,
            ErrorCode::HelmVersionError,
            format!(
                "Helm version: {version}\nCurrent Helm client version is not recommended. Please upgrade your Helm client to at least version {MIN_HELM_VERSION}."
            ),
        )
    } else {
        CheckResult::pass(id, format!("Helm version: {version}"))
    }
    .with_detail("version", version.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_helm2_and_helm3_output() {
        let helm2 = r#"Client: &version.Version{SemVer:"v2.16.12", GitCommit:"47f0b88409e71fd9ca272abc7cd762a56a1c613e", GitTreeState:"clean"}"#;
        let helm3 = r#"version.BuildInfo{Version:"v3.14.4", GitCommit:"81c902a123462fd4052bc5e9aa9c513c4c8fc142", GitTreeState:"clean", GoVersion:"go1.21.9"}"#;
        assert_eq!(parse_version(helm2).unwrap().as_str(), "2.16.12");
        assert_eq!(parse_version(helm3).unwrap().as_str(), "3.14.4");
        assert_eq!(parse_version("garbage"), None);
    }
}
