//! The environment containerd's service runs with: the proxy it pulls
//! through, not the one of whoever runs acr-health. AKS's HTTP proxy
//! setting writes it as systemd's `DefaultEnvironment=` (a drop-in of
//! `system.conf`), which every unit gets; a drop-in of `containerd.service`
//! can set its own on top.

use super::host_root::HostRoot;
use std::collections::BTreeMap;

/// Where systemd reads its own settings, then containerd's unit's.
const SYSTEM_CONF: &str = "/etc/systemd/system.conf";
const SYSTEM_DROP_INS: &str = "/etc/systemd/system.conf.d";
const CONTAINERD_DROP_INS: &str = "/etc/systemd/system/containerd.service.d";

/// containerd's environment as systemd builds it: `DefaultEnvironment=` of
/// `system.conf` and its drop-ins, then the `Environment=` and
/// `EnvironmentFile=` lines of containerd's drop-ins (each folder in file
/// name order, as systemd applies them; later assignments win).
pub(crate) fn read(host: &HostRoot) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let system = std::iter::once(SYSTEM_CONF.to_string()).chain(drop_ins(host, SYSTEM_DROP_INS));
    for file in system {
        for line in lines(host, &file) {
            if let Some(rest) = line.strip_prefix("DefaultEnvironment=") {
                vars.extend(assignments(rest));
            }
        }
    }
    for file in drop_ins(host, CONTAINERD_DROP_INS) {
        for line in lines(host, &file) {
            if let Some(rest) = line.strip_prefix("Environment=") {
                vars.extend(assignments(rest));
            } else if let Some(env_file) = line.strip_prefix("EnvironmentFile=") {
                let env_file = env_file.trim_start_matches('-');
                vars.extend(lines(host, env_file).iter().flat_map(|l| assignments(l)));
            }
        }
    }
    vars
}

/// The `.conf` files of a drop-in folder, in name order.
fn drop_ins(host: &HostRoot, dir: &str) -> Vec<String> {
    let Ok(entries) = host.resolve(dir).and_then(|d| {
        std::fs::read_dir(d).map_err(|e| super::host_root::HostPathError::Io(e.to_string()))
    }) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    names.into_iter().map(|n| format!("{dir}/{n}")).collect()
}

/// A file's lines, trimmed; none when it cannot be read.
fn lines(host: &HostRoot, file: &str) -> Vec<String> {
    host.read(file)
        .map(|t| t.lines().map(|l| l.trim().to_string()).collect())
        .unwrap_or_default()
}

/// `"A=1" "B=2"` or `A=1 B=2`: each assignment, quotes removed.
fn assignments(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (word, next) = match rest.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => match rest.find(char::is_whitespace) {
                Some(end) => (&rest[..end], &rest[end..]),
                None => (rest, ""),
            },
        };
        if let Some((k, v)) = word.split_once('=') {
            if !k.is_empty() && !k.starts_with('#') {
                out.push((k.to_string(), v.to_string()));
            }
        }
        rest = next.trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_and_bare_assignments_are_read() {
        assert_eq!(
            super::assignments(
                r#""HTTPS_PROXY=http://proxy:3128/" "NO_PROXY=localhost,10.0.0.0/8" X=1"#
            ),
            vec![
                ("HTTPS_PROXY".to_string(), "http://proxy:3128/".to_string()),
                ("NO_PROXY".to_string(), "localhost,10.0.0.0/8".to_string()),
                ("X".to_string(), "1".to_string()),
            ]
        );
    }
}
