//! Dotted numeric versions as the external tools print them (`v3.14.4`,
//! `0.6.1`, `2.11.0-rc.2`), compared component by component as az does with
//! `packaging.version`: missing components count as zero and any pre-release
//! or build suffix is ignored.

use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::process::{self, tool_said};
use std::cmp::Ordering;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// Runs `tool args…` for check `id`: a run that fails is `code` with the
/// tool's own error, a successful one is judged from its output by `judge`.
pub(crate) async fn tool_version(
    id: CheckId,
    code: ErrorCode,
    tool: &Path,
    args: &[&str],
    timeout: Duration,
    judge: fn(&str) -> CheckResult,
) -> CheckResult {
    let command = format!("'{} {}'", tool.display(), args.join(" "));
    let result = match process::run(tool, args, timeout).await {
        Err(e) => CheckResult::fail(id, code, format!("{command} {e}")),
        Ok(out) if !out.success => CheckResult::fail(id, code, tool_said(tool, &out.stderr)),
        Ok(out) => judge(&out.stdout),
    };
    result.with_detail("path", tool.display().to_string())
}

#[derive(Clone, Debug, Eq)]
pub struct ToolVersion {
    parts: Vec<u64>,
    text: String,
}

impl ToolVersion {
    /// Parses the leading `[v]N(.N)*` of `s`; `None` when it has no digits.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        let end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let numeric = s[..end].trim_end_matches('.');
        if numeric.is_empty() || numeric.starts_with('.') {
            return None;
        }
        let parts = numeric
            .split('.')
            .map(|p| p.parse::<u64>().ok())
            .collect::<Option<Vec<_>>>()?;
        Some(ToolVersion {
            parts,
            text: numeric.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The version printed after `key` in a tool's output, e.g. `SemVer:"v2.16.12"`
/// or `Version:    0.5.1`: spaces and quotes after the key are skipped.
pub(crate) fn version_after(output: &str, key: &str) -> Option<ToolVersion> {
    output.match_indices(key).find_map(|(at, _)| {
        let rest = output[at + key.len()..].trim_start_matches([' ', '\t', '"']);
        ToolVersion::parse(rest.lines().next().unwrap_or_default())
    })
}

impl PartialEq for ToolVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl PartialOrd for ToolVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ToolVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        (0..n)
            .map(|i| {
                let a = self.parts.get(i).copied().unwrap_or(0);
                let b = other.parts.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl fmt::Display for ToolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> ToolVersion {
        ToolVersion::parse(s).unwrap()
    }

    #[test]
    fn parses_prefixes_and_suffixes() {
        assert_eq!(v("v3.14.4").as_str(), "3.14.4");
        assert_eq!(v("2.11.0-rc.2").as_str(), "2.11.0");
        assert_eq!(v("0.6").as_str(), "0.6");
        assert!(ToolVersion::parse("").is_none());
        assert!(ToolVersion::parse("   ").is_none());
        assert!(ToolVersion::parse("v").is_none());
        assert!(ToolVersion::parse(".1").is_none());
        assert!(ToolVersion::parse("99999999999999999999999").is_none());
    }

    #[test]
    fn finds_versions_after_keys() {
        let helm2 = r#"Client: &version.Version{SemVer:"v2.16.12", GitCommit:"47f0b88", GitTreeState:"clean"}"#;
        assert_eq!(version_after(helm2, "SemVer:").unwrap().as_str(), "2.16.12");
        let notary = "notary\n Version:    0.5.1\n Git commit: 1b2c3d\n";
        assert_eq!(version_after(notary, "Version:").unwrap().as_str(), "0.5.1");
        let debian = "notary\n Version:    \n Git commit: \n Go version: go1.19.8";
        assert_eq!(version_after(debian, "Version:"), None);
    }

    #[test]
    fn compares_numerically_with_missing_parts_as_zero() {
        assert!(v("2.9.1") < v("2.11.0"));
        assert!(v("2.11") == v("2.11.0"));
        assert!(v("0.6.0") <= v("0.6.1"));
        assert!(v("10.0") > v("9.99.99"));
    }
}
