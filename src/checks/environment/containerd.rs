//! Machines without docker: AKS nodes run containerd, many CI runners
//! nerdctl or crictl. When no docker (or podman) client is found but
//! containerd is there (a client on PATH that can answer, or its socket),
//! the report says which runtime would pull and its version instead of a
//! docker error; `DOCKER_COMMAND_ERROR` stays for machines with no runtime
//! at all.

use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::env::Env;
use crate::process::{self, lookup};
use std::path::PathBuf;
use std::time::Duration;

/// containerd's socket: `CONTAINERD_ADDRESS` (as its clients read it), else
/// the default.
fn socket(env: &Env) -> PathBuf {
    let address = env
        .var("CONTAINERD_ADDRESS")
        .unwrap_or("/run/containerd/containerd.sock");
    PathBuf::from(address.trim_start_matches("unix://"))
}

/// The containerd client found first, in the order a person would use them.
fn client(env: &Env) -> Option<(&'static str, PathBuf)> {
    ["nerdctl", "crictl", "ctr"]
        .into_iter()
        .find_map(|name| match lookup::find(name, env) {
            lookup::Lookup::Found(p) => Some((name, p)),
            _ => None,
        })
}

/// The first version number in a client's `version` output.
fn version_in(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (key, value) = l.split_once(':')?;
        (key.trim().eq_ignore_ascii_case("version") || key.trim() == "RuntimeVersion")
            .then(|| value.trim().trim_start_matches('v').to_string())
            .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
    })
}

/// The docker.command result on a machine with containerd and no docker,
/// or `None` when containerd is not there either. `ctr` talks only to
/// containerd's socket and dials it until the step's time is up: without
/// the socket it is not run, and a machine with nothing else has no runtime
/// that would pull. nerdctl and crictl find their own endpoints (k3s,
/// rootless, CRI-O) and are asked.
pub(crate) async fn instead_of_docker(env: &Env, timeout: Duration) -> Option<CheckResult> {
    let id = CheckId::DockerCommand;
    let socket = socket(env);
    let client = client(env).filter(|(name, _)| *name != "ctr" || socket.exists());
    let Some((name, path)) = client else {
        return socket.exists().then(|| {
            CheckResult::warn(
                id,
                format!(
                    "No docker client, but containerd runs here ({}): pulls go through \
                    containerd (kubelet, nerdctl, crictl), which these docker checks cannot test.",
                    socket.display()
                ),
            )
        });
    };
    let out = process::run(&path, &["version"], timeout).await.ok();
    let version = out
        .as_ref()
        .and_then(|o| version_in(&o.stdout))
        .map(|v| crate::untrusted::inline(&v).shown())
        .unwrap_or_else(|| "unknown".into());
    let r = CheckResult::warn(
        id,
        format!(
            "No docker client: containerd would pull, through {name} ({}, version {version}). \
            The docker checks are skipped; the registry checks still apply.",
            path.display()
        ),
    );
    Some(
        r.with_detail("runtime", "containerd")
            .with_detail("client", name)
            .with_detail("version", version),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_client_versions() {
        let ctr = "Client:\n  Version:  v1.7.24\n  Revision: 88bf19b\n  Go version: \
            go1.22.10\n\nServer:\n  Version:  v1.7.24\n";
        assert_eq!(super::version_in(ctr).as_deref(), Some("1.7.24"));
        let crictl = "Version:  0.1.0\nRuntimeName:  containerd\nRuntimeVersion:  \
            v1.7.15\nRuntimeApiVersion:  v1\n";
        assert_eq!(super::version_in(crictl).as_deref(), Some("0.1.0"));
    }
}
