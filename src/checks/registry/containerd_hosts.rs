//! containerd's registry host configuration for the login server: on AKS
//! nodes and containerd machines, `hosts.toml` in the `config_path` named by
//! `config.toml` (default `/etc/containerd/certs.d`) can send pulls for the
//! login server to a mirror or another server, or skip certificate checks,
//! and the older `registry.mirrors` table of `config.toml` can reroute them
//! too. None of that shows in this run's own requests.

use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::net::origin::shown_url;
use crate::untrusted::Untrusted;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `registry.containerd_hosts` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.containerd_hosts",
    title: "containerd's registry hosts",
    proves: "containerd's registry host configuration for the login server (hosts.toml under \
        config_path, or the older registry.mirrors table): what kubelet on AKS nodes, nerdctl and \
        crictl pull with.",
    warnings: &[
        warning(
            "a mirror or another server receives the pull first",
            "make sure it serves the \
                registry's content, or remove it",
        ),
        warning(
            "certificate checks are skipped (skip_verify)",
            "trust the registry's CA \
                instead",
        ),
        warning(
            "containerd cannot parse the file",
            "fix the file: containerd ignores it",
        ),
    ],
    codes: &[],
    planned: Planned::WithRegistry,
};

/// The registry table of containerd's CRI plugin, 1.x and 2.x names.
#[derive(Deserialize, Default)]
struct Registry {
    config_path: Option<String>,
    #[serde(default)]
    mirrors: BTreeMap<String, Mirror>,
}

#[derive(Deserialize, Default)]
struct Mirror {
    #[serde(default)]
    endpoint: Vec<String>,
}

#[derive(Deserialize, Default)]
struct Plugin {
    registry: Option<Registry>,
}

#[derive(Deserialize, Default)]
struct ContainerdConfig {
    #[serde(default)]
    plugins: BTreeMap<String, Plugin>,
}

/// One `hosts.toml`.
#[derive(Deserialize, Default)]
struct Hosts {
    server: Option<String>,
    skip_verify: Option<bool>,
    #[serde(default)]
    host: BTreeMap<String, HostEntry>,
}

#[derive(Deserialize, Default)]
struct HostEntry {
    capabilities: Option<Vec<String>>,
    skip_verify: Option<bool>,
}

/// A configuration file's text (regular files only, bounded in size).
fn read(path: &Path) -> Option<String> {
    let bytes = crate::input_file::read(path).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// A path containerd's configuration names, under the sysconfdir when it
/// lies in `/etc`.
fn rebased(etc: &Path, named: &str) -> PathBuf {
    match named.strip_prefix("/etc/") {
        Some(rest) => etc.join(rest),
        None => PathBuf::from(named),
    }
}

/// Credentials a configured URL carries (user information, a `sig`) are
/// remembered as secrets, so that no output shows them.
fn remember_secrets<'a>(urls: impl IntoIterator<Item = &'a String>) {
    for url in urls {
        if let Ok(url) = url::Url::parse(url) {
            crate::net::origin::remember_query_secrets(&url);
        }
    }
}

/// What containerd's configuration does to pulls from `host`.
fn findings(etc: &Path, host: &str) -> Option<(Vec<String>, PathBuf)> {
    let config_file = etc.join("containerd/config.toml");
    let config: ContainerdConfig = read(&config_file)
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or_default();
    let registry = config.plugins.into_values().find_map(|p| p.registry);
    let mut found = Vec::new();
    if let Some(m) = registry.as_ref().and_then(|r| r.mirrors.get(host)) {
        remember_secrets(&m.endpoint);
        let shown: Vec<String> = m.endpoint.iter().map(|e| shown_url(e)).collect();
        let to = shown.join(", ");
        found.push(format!(
            "containerd's config.toml sends pulls for {host} to the mirror \
            endpoints {to} (registry.mirrors)"
        ));
    }
    let dir = registry
        .and_then(|r| r.config_path)
        .map_or_else(|| etc.join("containerd/certs.d"), |p| rebased(etc, &p));
    let file = [host, "_default"]
        .iter()
        .map(|d| dir.join(d).join("hosts.toml"))
        .find(|f| f.is_file());
    let Some(file) = file else {
        return (!found.is_empty()).then_some((found, config_file));
    };
    match read(&file).map(|t| toml::from_str::<Hosts>(&t)) {
        Some(Ok(hosts)) => found.extend(judge(&hosts, host, &file)),
        _ => found.push(format!(
            "containerd cannot read {}: its pulls for {host} fail until it is fixed",
            file.display()
        )),
    }
    Some((found, file))
}

fn judge(hosts: &Hosts, host: &str, file: &Path) -> Vec<String> {
    remember_secrets(hosts.host.keys().chain(&hosts.server));
    let mut found = Vec::new();
    let pulls_through = hosts.host.iter().filter(|(_, e)| {
        e.capabilities
            .as_ref()
            .is_none_or(|c| c.iter().any(|c| c == "pull" || c == "resolve"))
    });
    for (url, entry) in pulls_through {
        let same = url.trim_end_matches('/').ends_with(&format!("//{host}"));
        let url = shown_url(url);
        if !same {
            found.push(format!(
                "containerd pulls {host} through {url} first ({}): a mirror without \
                the image or without a credential for it makes the pull fail or differ from these \
                checks",
                file.display()
            ));
        }
        if entry.skip_verify == Some(true) {
            found.push(format!(
                "containerd skips certificate checks for {url} (skip_verify in {})",
                file.display()
            ));
        }
    }
    if let Some(server) = &hosts.server {
        if !server.trim_end_matches('/').ends_with(&format!("//{host}")) {
            let server = shown_url(server);
            found.push(format!(
                "containerd sends pulls for {host} to the server {server} ({})",
                file.display()
            ));
        }
    }
    if hosts.skip_verify == Some(true) {
        found.push(format!(
            "containerd skips certificate checks for {host} (skip_verify in {})",
            file.display()
        ));
    }
    found
}

/// containerd's host configuration for `host` under `etc`; skipped where
/// containerd has none for it.
pub(crate) fn check(etc: &Path, host: &str) -> CheckResult {
    let id = CheckId::RegistryContainerdHosts;
    let Some((mut found, file)) = findings(etc, host) else {
        return CheckResult::skip(
            id,
            format!("containerd has no host configuration for {host}"),
        );
    };
    let file = file.display().to_string();
    let r = if found.is_empty() {
        CheckResult::pass(
            id,
            format!("containerd's host configuration for {host} : OK"),
        )
    } else {
        let first = Untrusted::new(found.remove(0)).shown();
        let mut w = CheckResult::warn(id, format!("containerd: {first}."));
        for more in found {
            w = w.with_note(Untrusted::new(&more).shown());
        }
        w
    };
    r.with_detail("file", Untrusted::new(&file).shown())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_older_mirrors_table_and_the_default_hosts_folder_count() {
        let etc = tempfile::tempdir().unwrap();
        let containerd = etc.path().join("containerd");
        std::fs::create_dir_all(containerd.join("certs.d/_default")).unwrap();
        std::fs::write(
            containerd.join("config.toml"),
            "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"r.azurecr.io\"]\n  endpoint \
                = [\"https://cache.corp\"]\n",
        )
        .unwrap();
        std::fs::write(
            containerd.join("certs.d/_default/hosts.toml"),
            "skip_verify = true\n",
        )
        .unwrap();
        let (found, file) = findings(etc.path(), "r.azurecr.io").unwrap();
        assert!(
            found[0].contains("to the mirror endpoints https://cache.corp"),
            "{found:?}"
        );
        assert!(
            found[1].contains("skips certificate checks for r.azurecr.io"),
            "{found:?}"
        );
        assert!(file.ends_with("_default/hosts.toml"));
        assert!(findings(etc.path(), "other.azurecr.io").unwrap().0.len() == 1);
        assert!(findings(&etc.path().join("none"), "r.azurecr.io").is_none());
    }

    #[test]
    fn credentials_in_configured_urls_are_not_shown() {
        // A short password, which no free-text mask would catch.
        let etc = tempfile::tempdir().unwrap();
        let containerd = etc.path().join("containerd");
        std::fs::create_dir_all(&containerd).unwrap();
        std::fs::write(
            containerd.join("config.toml"),
            "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"r.azurecr.io\"]\n  endpoint \
                = [\"https://u:pw1@cache.corp/v2?sig=ab\"]\n",
        )
        .unwrap();
        let (found, _) = findings(etc.path(), "r.azurecr.io").unwrap();
        assert!(
            found[0].contains("https://****@cache.corp/v2?sig=****"),
            "{found:?}"
        );
        assert!(
            !found[0].contains("pw1") && !found[0].contains("=ab"),
            "{found:?}"
        );
    }
}
