//! Docker: the client is found, its daemon answers, its version, and (with
//! consent) a pull of a small public image.
//!
//! One `docker version --format '{{json .}}'` answers the first three
//! questions at once: it prints the client's version even when the daemon is
//! down (exit 1, `"Server": null`), which is how a down daemon is told apart
//! from a missing or broken client.

use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::env::Env;
use crate::process::lookup::{self as tool_lookup, Lookup};
use crate::process::{self, one_line, tool_said, RunError, ToolOutput};
use crate::report::Status;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The `docker.command` check.
pub(crate) const COMMAND: CheckSpec = CheckSpec {
    key: "docker.command",
    title: "Docker command",
    proves:
        "A docker client (DOCKER_COMMAND, else docker, else podman) is on PATH; one found only \
        in the current folder is never run.",
    warnings: &[warning(
        "no docker client, but containerd (nerdctl, crictl, ctr or its socket) is \
        the runtime that would \
        pull",
        "the docker checks are skipped; registry.containerd_hosts reads containerd's own \
            routing for the login server",
    )],
    codes: &[ErrorCode::DockerCommandError],
    planned: Planned::Always,
};

/// The `docker.daemon` check.
pub(crate) const DAEMON: CheckSpec = CheckSpec {
    key: "docker.daemon",
    title: "Docker daemon",
    proves: "The client reaches its daemon (docker version names a server; for local podman, \
        podman ps works).",
    warnings: &[],
    codes: &[ErrorCode::DockerDaemonError],
    planned: Planned::Always,
};

/// The `docker.version` check.
pub(crate) const VERSION: CheckSpec = CheckSpec {
    key: "docker.version",
    title: "Docker version",
    proves: "The client's version, build and platform, as az prints them; the daemon's version as \
        a detail.",
    warnings: &[],
    codes: &[ErrorCode::DockerVersionError],
    planned: Planned::Always,
};

/// The `docker.pull` check.
pub(crate) const PULL: CheckSpec = CheckSpec {
    key: "docker.pull",
    title: "Docker pull",
    proves: "The daemon pulls mcr.microsoft.com/mcr/hello-world:latest (only with --yes or a y at \
        the prompt).",
    warnings: &[
        warning(
            "no terminal to ask and no --yes",
            "pass --yes (-y) to include the pull",
        ),
        warning(
            "the image is for another platform",
            "the pull works; the daemon runs another \
                platform's containers (Windows containers mode)",
        ),
    ],
    codes: &[ErrorCode::DockerPullError],
    planned: Planned::Always,
};

pub(crate) const PULL_IMAGE: &str = "mcr.microsoft.com/mcr/hello-world:latest";

/// Output when the image exists but has no variant for this platform, which
/// still proves that pulling works.
/// What the pull says for an image of another platform: az's words
/// (Windows containers mode), and docker's on Linux.
const WRONG_PLATFORM: [&str; 2] = [
    "cannot be used on this platform",
    "no matching manifest for",
];

/// What `docker version` told about the client and the daemon.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct VersionInfo {
    pub client: Option<Component>,
    pub server: Option<Component>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Component {
    pub version: String,
    pub git_commit: String,
    pub platform: String,
}

impl Component {
    fn from_json(v: &Value) -> Option<Self> {
        // The tool controls these strings: keep them escaped for printing.
        let text = |key: &str| {
            let raw = v.get(key).and_then(Value::as_str).unwrap_or_default();
            crate::untrusted::inline(raw).shown()
        };
        let version = text("Version");
        if version.is_empty() {
            return None;
        }
        // Docker reports Os and Arch; podman reports OsArch.
        let platform = match (text("Os"), text("Arch")) {
            (os, arch) if !os.is_empty() && !arch.is_empty() => format!("{os}/{arch}"),
            _ => text("OsArch"),
        };
        // az shows the build as 7 characters of the commit.
        let git_commit: String = text("GitCommit").chars().take(7).collect();
        Some(Component {
            version,
            git_commit,
            platform,
        })
    }

    /// `X, build Y, platform os/arch`, as az prints it.
    pub fn describe(&self) -> String {
        let mut s = self.version.clone();
        if !self.git_commit.is_empty() {
            s.push_str(&format!(", build {}", self.git_commit));
        }
        if !self.platform.is_empty() {
            s.push_str(&format!(", platform {}", self.platform));
        }
        s
    }
}

/// Parses `docker version --format '{{json .}}'` (or podman's equivalent).
/// `None` when the output is not that JSON document.
pub fn parse_version_json(stdout: &str) -> Option<VersionInfo> {
    let doc: Value = serde_json::from_str(stdout.trim()).ok()?;
    let doc = doc.as_object()?;
    let client = doc.get("Client").and_then(Component::from_json);
    let server = doc.get("Server").and_then(Component::from_json);
    if client.is_none() && server.is_none() {
        return None;
    }
    Some(VersionInfo { client, server })
}

/// The docker client to run: `DOCKER_COMMAND`, else `docker`, else `podman`.
pub(crate) fn locate(docker_command: Option<&str>, env: &Env) -> Result<PathBuf, String> {
    if let Some(cmd) = docker_command {
        return match tool_lookup::resolve(cmd, env) {
            Lookup::Found(p) => Ok(p),
            Lookup::OnlyInCurrentDir(p) => Err(refused(&p)),
            Lookup::NotFound => Err(format!(
                "DOCKER_COMMAND is set to '{cmd}', which is not an executable file or a command on \
                    PATH."
            )),
        };
    }
    let mut planted = None;
    for name in ["docker", "podman"] {
        match tool_lookup::find(name, env) {
            Lookup::Found(p) => return Ok(p),
            Lookup::OnlyInCurrentDir(p) => {
                planted.get_or_insert(p);
            }
            Lookup::NotFound => {}
        }
    }
    Err(match planted {
        Some(p) => refused(&p),
        None => "Neither 'docker' nor 'podman' was found on PATH.".to_string(),
    })
}

fn refused(path: &Path) -> String {
    format!(
        "'{}' was found only in the current directory or through a relative PATH entry, and was \
            not run; add the folder of a trusted client to PATH as an absolute path.",
        path.display()
    )
}

/// The `docker.command` check: the client to run, or the reason the
/// docker checks after it cannot run. Without docker, a containerd client
/// or socket is named as the runtime that would pull.
pub(crate) async fn command(
    docker_command: Option<&str>,
    env: &Env,
    timeout: Duration,
) -> (CheckResult, Result<PathBuf, &'static str>) {
    let why = match locate(docker_command, env) {
        Ok(docker) => {
            let shown = docker.display().to_string();
            let r = CheckResult::pass(CheckId::DockerCommand, format!("Docker command: {shown}"))
                .with_detail("path", shown);
            return (r, Ok(docker));
        }
        Err(why) => why,
    };
    let containerd = match docker_command {
        None => super::containerd::instead_of_docker(env, timeout).await,
        Some(_) => None,
    };
    match containerd {
        Some(r) => (r, Err("no docker client; containerd would pull")),
        None => (
            CheckResult::fail(CheckId::DockerCommand, ErrorCode::DockerCommandError, why),
            Err("Docker client not found"),
        ),
    }
}

/// The `docker.daemon` and `docker.version` checks, from one `docker
/// version` (and a `docker ps` when that said nothing usable): their
/// results, and whether the daemon is there to pull (else why not).
pub(crate) async fn daemon_and_version(
    docker: &Path,
    timeout: Duration,
) -> (Vec<CheckResult>, Result<(), &'static str>) {
    let start = Instant::now();
    let version_args = ["version", "--format", "{{json .}}"];
    let out = process::run(docker, &version_args, timeout).await;
    let took = start.elapsed();
    let docker_str = docker.display().to_string();
    let (daemon, mut version) = judge_version_output(&docker_str, out);
    let mut daemon = match daemon {
        Some(known) => known,
        // `docker version` said nothing usable: ask the daemon directly, as
        // az does with `docker ps`, so that a broken `docker version` is not
        // mistaken for a daemon that is down.
        None => judge_ps(
            &docker_str,
            process::run(docker, &["ps", "--quiet"], timeout).await,
        ),
    };
    // One command answered both: both took its time.
    (daemon.duration, version.duration) = (Some(took), Some(took));
    let up = match daemon.status {
        Status::Pass => Ok(()),
        _ => Err("Docker daemon not available"),
    };
    (vec![daemon, version], up)
}

/// How az names the client in its lines: `Docker`, or `Podman`.
pub(crate) fn title(docker: &Path) -> &'static str {
    let name = docker.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.to_ascii_lowercase().starts_with("podman") {
        "Podman"
    } else {
        "Docker"
    }
}

fn daemon_available(docker: &str) -> CheckResult {
    CheckResult::pass(
        CheckId::DockerDaemon,
        format!("{} daemon status: available", title(Path::new(docker))),
    )
}

fn judge_ps(docker: &str, out: Result<ToolOutput, RunError>) -> CheckResult {
    let id = CheckId::DockerDaemon;
    match out {
        Ok(out) if out.success => daemon_available(docker),
        Ok(out) => CheckResult::fail(
            id,
            ErrorCode::DockerDaemonError,
            tool_said(Path::new(docker), &out.stderr),
        ),
        Err(e) => CheckResult::fail(
            id,
            ErrorCode::DockerDaemonError,
            format!("'{docker} ps' {e}; the Docker daemon may be stuck."),
        ),
    }
}

/// Turns the outcome of `docker version` into the daemon result (`None` when
/// the output says nothing about the daemon) and the version result.
fn judge_version_output(
    docker: &str,
    out: Result<ToolOutput, RunError>,
) -> (Option<CheckResult>, CheckResult) {
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            let why = format!("'{docker} version' {e}; the Docker daemon may be stuck.");
            return (
                Some(CheckResult::fail(
                    CheckId::DockerDaemon,
                    ErrorCode::DockerDaemonError,
                    &why,
                )),
                CheckResult::fail(CheckId::DockerVersion, ErrorCode::DockerVersionError, why),
            );
        }
    };
    let stderr = tool_said(Path::new(docker), &out.stderr);
    let Some(info) = parse_version_json(&out.stdout) else {
        let shown = if stderr.is_empty() {
            one_line(&out.stdout, 200)
        } else {
            stderr
        };
        let version = CheckResult::fail(
            CheckId::DockerVersion,
            ErrorCode::DockerVersionError,
            format!("'{docker} version' gave no version information: {shown}"),
        );
        return (out.success.then(|| daemon_available(docker)), version);
    };
    judge_version_info(docker, &info, &stderr)
}

/// The daemon and version results from a parsed `docker version`.
fn judge_version_info(
    docker: &str,
    info: &VersionInfo,
    stderr: &str,
) -> (Option<CheckResult>, CheckResult) {
    let title = title(Path::new(docker));
    let version_of = |c: &Component, suffix: &str| {
        CheckResult::pass(
            CheckId::DockerVersion,
            format!("{title} version: {}{suffix}", c.describe()),
        )
        .with_detail("client_version", c.version.clone())
        .with_detail("platform", c.platform.clone())
    };
    match (&info.server, &info.client) {
        (Some(server), client) => {
            // As az 2.91 prints it: the client's version and build; the
            // daemon's is a detail, and a note when it differs.
            let shown = client.as_ref().unwrap_or(server);
            let mut version = version_of(shown, "")
                .with_detail("server_version", server.version.clone())
                .with_detail("server_build", server.git_commit.clone());
            if server.version != shown.version {
                version =
                    version.with_note(format!("the daemon runs Docker {}", server.describe()));
            }
            (Some(daemon_available(docker)), version)
        }
        // Local podman has no daemon: its version names no server, and
        // `podman ps` says whether containers can be run, as az asks it.
        (None, Some(c)) if title == "Podman" => (None, version_of(c, "")),
        (None, Some(c)) => {
            let daemon = CheckResult::fail(
                CheckId::DockerDaemon,
                ErrorCode::DockerDaemonError,
                if stderr.is_empty() {
                    "The Docker client reported no daemon (server) information."
                } else {
                    stderr
                },
            );
            (Some(daemon), version_of(c, " (client; daemon unavailable)"))
        }
        (None, None) => (
            None,
            CheckResult::fail(
                CheckId::DockerVersion,
                ErrorCode::DockerVersionError,
                format!("'{docker} version' gave no version information"),
            ),
        ),
    }
}

/// Whether the person running the check agreed to the pull.
pub(crate) enum Consent {
    /// `--yes`, or a "y" at the prompt.
    Given,
    /// No `--yes` and no terminal to ask.
    NoTerminal,
    Declined,
}

/// The question asked on a terminal before the pull.
pub(crate) fn pull_question() -> String {
    format!("This will pull the image {PULL_IMAGE}. Proceed? (y/n): ")
}

/// The `docker.pull` check: the pull of a tiny public image, run only with
/// consent (asked before the check runs).
pub(crate) async fn pull(docker: &Path, consent: Consent, timeout: Duration) -> CheckResult {
    let id = CheckId::DockerPull;
    match consent {
        Consent::Given => {}
        Consent::NoTerminal => {
            return CheckResult::warn(
                id,
                format!(
                    "Docker pull of '{PULL_IMAGE}' skipped: it needs consent and there is no \
                terminal to ask; pass --yes (-y) to include it."
                ),
            )
        }
        Consent::Declined => {
            return CheckResult::skip(id, "declined at the prompt. Skipping pull check.")
        }
    }
    let out = process::run(docker, &["pull", PULL_IMAGE], timeout).await;
    match out {
        Ok(out) if out.success => {
            CheckResult::pass(id, format!("{} pull of '{PULL_IMAGE}' : OK", title(docker)))
        }
        Ok(out) if WRONG_PLATFORM.iter().any(|w| out.stderr.contains(w)) => CheckResult::warn(
            id,
            format!("Image '{PULL_IMAGE}' can be pulled but cannot be used on this platform"),
        ),
        Ok(out) => CheckResult::fail(
            id,
            ErrorCode::DockerPullError,
            tool_said(docker, &out.stderr),
        ),
        Err(e) => CheckResult::fail(
            id,
            ErrorCode::DockerPullError,
            format!("'{} pull {PULL_IMAGE}' {e}", docker.display()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_client_only_output_of_a_client_without_daemon() {
        let out = r#"{"Client":{"Version":"28.2.2","ApiVersion":"1.50","GitCommit":"e6534b4","GoVersion":"go1.24.3","Os":"linux","Arch":"amd64","Context":"default"},"Server":null}"#;
        let info = parse_version_json(out).unwrap();
        assert_eq!(info.server, None);
        assert_eq!(
            info.client.unwrap().describe(),
            "28.2.2, build e6534b4, platform linux/amd64"
        );
    }

    #[test]
    fn parses_podman_os_arch() {
        let out = r#"{"Client":{"APIVersion":"4.3.1","Version":"4.3.1","GoVersion":"go1.19.8","GitCommit":"","BuiltTime":"Thu Jan  1 00:00:00 1970","Built":0,"OsArch":"linux/amd64","Os":"linux"}}"#;
        let info = parse_version_json(out).unwrap();
        assert_eq!(
            info.client.unwrap().describe(),
            "4.3.1, platform linux/amd64"
        );
    }

    #[test]
    fn rejects_non_json_and_empty_documents() {
        assert_eq!(parse_version_json("Docker version 28.2.2"), None);
        assert_eq!(parse_version_json("{}"), None);
        assert_eq!(parse_version_json("[1,2]"), None);
        assert_eq!(parse_version_json(r#"{"Client":{"Version":""}}"#), None);
    }
}
