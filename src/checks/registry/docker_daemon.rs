//! The pull happens in the docker daemon, which has its own proxy, mirrors
//! and trust. One `docker info --format '{{json .}}'` (bounded) tells them;
//! they are compared with this shell's view of the login server: a daemon
//! that goes through a proxy this shell does not use (or the other way
//! round), a `NoProxy` that covers the login server but not the storage the
//! layers come from, the login server as an insecure registry or a mirror,
//! and a CA of its own in `/etc/docker/certs.d/<login server>/`.

use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::net::proxy::{bypasses, Proxy};
use crate::process;
use crate::process::go_json::nullable;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The `registry.docker_daemon` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.docker_daemon",
    title: "Docker daemon's network",
    proves: "The docker daemon's own network settings from docker info: it pulls, not this shell.",
    warnings: &[
        warning(
            "the daemon pulls through a proxy this shell does not use, or the other way \
                round",
            "the checks above took another path than the pull will: align the daemon's \
                    proxy (a systemd drop-in for docker.service) with the shell's",
        ),
        warning(
            "the daemon's NO_PROXY covers the login server but not the storage or data \
                endpoints",
            "add the data endpoints or *.blob.core.windows.net to it, or remove \
                    the login server",
        ),
        warning(
            "the daemon lists the login server as an insecure registry or a mirror",
            "remove it from daemon.json unless that is meant",
        ),
    ],
    codes: &[],
    planned: Planned::WithRegistry,
};

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Info {
    #[serde(default, deserialize_with = "nullable")]
    https_proxy: String,
    #[serde(default, deserialize_with = "nullable")]
    no_proxy: String,
    #[serde(default, deserialize_with = "nullable")]
    registry_config: Option<RegistryConfig>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RegistryConfig {
    #[serde(default, deserialize_with = "nullable")]
    index_configs: BTreeMap<String, IndexConfig>,
    #[serde(default, deserialize_with = "nullable")]
    mirrors: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IndexConfig {
    #[serde(default = "secure", deserialize_with = "nullable_secure")]
    secure: bool,
}

fn secure() -> bool {
    true
}

/// `Secure`, true when `null` as when missing.
fn nullable_secure<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

/// The daemon's `docker info`, or why there is none to judge: the daemon
/// did not answer (in docker's words), or it printed what cannot be read
/// (said as such, with the reader's reason).
async fn read_info(docker: &Path, timeout: Duration) -> Result<Info, String> {
    let args = ["info", "--format", "{{json .}}"];
    let out = match process::run(docker, &args, timeout).await {
        Ok(out) if out.success => out,
        Ok(out) => {
            let said = process::tool_said(docker, &out.stderr);
            return Err(format!(
                "the docker daemon did not answer docker info: {said}"
            ));
        }
        Err(e) => return Err(format!("'{} info' {e}", docker.display())),
    };
    let info = serde_json::from_str::<Info>(out.stdout.trim()).map_err(|e| {
        let shown = process::one_line(&out.stdout, 120);
        format!("docker info printed JSON acr-health cannot read ({e}): {shown}")
    })?;
    match info.registry_config {
        Some(_) => Ok(info),
        None => Err("docker info names no registry settings (RegistryConfig)".into()),
    }
}

/// Where layers come from besides the login server: its data endpoints, or
/// Azure storage.
const STORAGE: &str = "x.blob.core.windows.net";

/// What the daemon's settings mean for a pull from `host`.
fn judge(
    info: &Info,
    host: &str,
    shell_proxy: Option<&Proxy>,
    data_hosts: &[String],
) -> Vec<String> {
    let mut found = Vec::new();
    let (bare, port) = host
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .unwrap_or((host, 443));
    let exempt = bypasses(bare, port, &info.no_proxy);
    let daemon_proxy =
        (!info.https_proxy.is_empty() && !exempt).then(|| shown_proxy(&info.https_proxy));
    match (&daemon_proxy, shell_proxy) {
        (Some(p), None) => found.push(format!(
            "the docker daemon pulls through the proxy {p}, \
            which this shell does not use: the checks above went directly, the pull will not"
        )),
        (None, Some(p)) => found.push(format!(
            "this shell reaches the registry through the proxy \
            {}, the docker daemon directly: the pull may be blocked where these checks passed (set \
            the daemon's proxy, e.g. in \
            /etc/systemd/system/docker.service.d/http-proxy.conf)",
            p.display()
        )),
        _ => {}
    }
    if !info.https_proxy.is_empty() && exempt {
        let layers: Vec<&str> = data_hosts
            .iter()
            .map(String::as_str)
            .chain([STORAGE])
            .collect();
        let proxied: Vec<&str> = layers
            .into_iter()
            .filter(|h| !bypasses(h, 443, &info.no_proxy))
            .collect();
        if !proxied.is_empty() {
            found.push(format!(
                "the docker daemon's NO_PROXY exempts {host} but not where the \
                layers come from ({}): manifests load, layers go through the \
                proxy",
                proxied.join(", ").replace("x.blob", "*.blob")
            ));
        }
    }
    let config = info.registry_config.as_ref();
    let insecure = config
        .and_then(|c| {
            c.index_configs
                .get(host)
                .or_else(|| c.index_configs.get(bare))
        })
        .is_some_and(|i| !i.secure);
    if insecure {
        found.push(format!(
            "the docker daemon lists {host} as an insecure registry: it skips \
            certificate checks and may fall back to plain HTTP; remove it from \
            insecure-registries"
        ));
    }
    if config.is_some_and(|c| c.mirrors.iter().any(|m| m.contains(bare))) {
        found.push(format!(
            "the docker daemon names {host} as a registry mirror: mirrors apply to \
            Docker Hub, not to pulls from {host}"
        ));
    }
    found
}

/// The `registry.docker_daemon` check: the daemon's network settings for
/// `host`, asked through the `docker` client; skipped without a daemon to
/// ask.
pub(crate) async fn check(
    docker: &Path,
    etc: &Path,
    host: &str,
    shell_proxy: Option<&Proxy>,
    data_hosts: &[String],
    timeout: Duration,
) -> CheckResult {
    let id = CheckId::RegistryDockerDaemon;
    let info = match read_info(docker, timeout).await {
        Ok(info) => info,
        Err(why) => return CheckResult::skip(id, why),
    };
    let certs = etc.join("docker/certs.d").join(host);
    let mut found = judge(&info, host, shell_proxy, data_hosts);
    let mut r = if found.is_empty() {
        CheckResult::pass(
            id,
            format!("Docker daemon's network settings for {host} : OK"),
        )
    } else {
        let first = found.remove(0);
        let mut w = CheckResult::warn(id, format!("Docker daemon: {first}."));
        for more in found {
            w = w.with_note(more);
        }
        w
    };
    if certs.is_dir() {
        r = r.with_note(format!(
            "the docker daemon trusts the certificates in {} for this \
            registry, besides the system's",
            certs.display()
        ));
    }
    r.with_detail("https_proxy", shown_proxy(&info.https_proxy))
}

/// A proxy URL without its credentials (remembered as secrets), escaped.
fn shown_proxy(url: &str) -> String {
    match Proxy::parse(url) {
        Ok(p) => p.display(),
        Err(_) => {
            if let Ok(u) = url::Url::parse(url) {
                crate::net::origin::remember_query_secrets(&u);
            }
            crate::net::origin::shown_url(url)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(json: &str) -> Info {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reads_what_docker_info_prints() {
        let i = info(
            r#"{"HttpProxy":"","HttpsProxy":"http://proxy:3128","NoProxy":"myreg.azurecr.io","RegistryConfig":{"InsecureRegistryCIDRs":["127.0.0.0/8"],"IndexConfigs":{"docker.io":{"Name":"docker.io","Mirrors":[],"Secure":true,"Official":true},"myreg.azurecr.io":{"Name":"myreg.azurecr.io","Mirrors":[],"Secure":false,"Official":false}},"Mirrors":[]}}"#,
        );
        let found = judge(&i, "myreg.azurecr.io", None, &[]);
        assert!(
            found.iter().any(|f| f.contains("NO_PROXY exempts")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|f| f.contains("insecure registry")),
            "{found:?}"
        );
        let clean = info(
            r#"{"HttpsProxy":"","NoProxy":"","RegistryConfig":{"IndexConfigs":{},"Mirrors":[]}}"#,
        );
        assert!(judge(&clean, "myreg.azurecr.io", None, &[]).is_empty());
        let shell = Proxy::parse("http://corp:8080").unwrap();
        assert!(judge(&clean, "myreg.azurecr.io", Some(&shell), &[])[0]
            .contains("the docker daemon directly"));
    }
}
