//! The environment containerd's service runs with: the proxy it pulls
//! through (AKS's HTTP proxy setting writes it into a drop-in of
//! `containerd.service`), not the one of whoever runs acr-health.

use super::host_root::HostRoot;
use std::collections::BTreeMap;

/// Where systemd reads the drop-ins of containerd's unit.
const DROP_INS: &str = "/etc/systemd/system/containerd.service.d";

/// Every `Environment=` assignment of containerd's drop-ins (in file name
/// order, as systemd applies them), and of the files their
/// `EnvironmentFile=` lines name.
pub(crate) fn read(host: &HostRoot) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let Ok(dir) = host.resolve(DROP_INS) else {
        return vars;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vars;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    for name in names {
        let Ok(text) = host.read(&format!("{DROP_INS}/{name}")) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("Environment=") {
                vars.extend(assignments(rest));
            } else if let Some(file) = line.strip_prefix("EnvironmentFile=") {
                let file = file.trim_start_matches('-');
                if let Ok(text) = host.read(file) {
                    vars.extend(text.lines().flat_map(assignments));
                }
            }
        }
    }
    vars
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
