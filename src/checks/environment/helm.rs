//! Helm: the client is found and is at least the version ACR's Helm
//! integration needs.

use super::tool_version::{tool_version, version_after, ToolVersion};
use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::env::Env;
use crate::process::lookup::{self as tool_lookup, Lookup};
use crate::process::one_line;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `helm.command` check.
pub(crate) const COMMAND: CheckSpec = CheckSpec {
    key: "helm.command",
    title: "Helm command",
    proves: "A Helm client is on PATH.",
    warnings: &[],
    codes: &[ErrorCode::HelmCommandError],
    planned: Planned::Always,
};

/// The `helm.version` check.
pub(crate) const VERSION: CheckSpec = CheckSpec {
    key: "helm.version",
    title: "Helm version",
    proves: "Helm is 2.11.0 or newer (Helm 2 and Helm 3 output).",
    warnings: &[],
    codes: &[ErrorCode::HelmVersionError],
    planned: Planned::Always,
};

/// The oldest Helm client az supports.
pub(crate) const MIN_HELM_VERSION: &str = "2.11.0";

/// The client version in `helm version --client` output: Helm 2 prints
/// `SemVer:"v2.16.12"`, Helm 3 prints `Version:"v3.14.4"`.
pub fn parse_version(output: &str) -> Option<ToolVersion> {
    version_after(output, "SemVer:").or_else(|| version_after(output, "Version:"))
}

/// The `helm.command` check: the client, or the reason `helm.version`
/// cannot run.
pub(crate) fn command(env: &Env) -> (CheckResult, Result<PathBuf, &'static str>) {
    let why = match tool_lookup::find("helm", env) {
        Lookup::Found(helm) => {
            let shown = helm.display().to_string();
            let r = CheckResult::pass(CheckId::HelmCommand, format!("Helm command: {shown}"))
                .with_detail("path", shown);
            return (r, Ok(helm));
        }
        Lookup::OnlyInCurrentDir(p) => format!(
            "'{}' was found only in the current directory or through a relative PATH entry, and \
                was not run.",
            p.display()
        ),
        Lookup::NotFound => "'helm' was not found on PATH. If you do not use Helm, leave it out: \
            --skip helm."
            .to_string(),
    };
    let r = CheckResult::fail(CheckId::HelmCommand, ErrorCode::HelmCommandError, why);
    (r, Err("Helm client not found"))
}

/// The `helm.version` check.
pub(crate) async fn version(helm: &Path, timeout: Duration) -> CheckResult {
    let (id, code) = (CheckId::HelmVersion, ErrorCode::HelmVersionError);
    tool_version(id, code, helm, &["version", "--client"], timeout, judge).await
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
                "Helm version: {version}\nCurrent Helm client version is not recommended. Please \
                    upgrade your Helm client to at least version {MIN_HELM_VERSION}."
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
