//! Paths of the node, under its host root. A symlink resolves inside the
//! root, as it would on the node (Ubuntu's `/etc/resolv.conf` points at
//! `/run/systemd/resolve/stub-resolv.conf`, the certificate bundle at
//! `/etc/ssl/certs/…`): an absolute target starts again at the root, and
//! `..` never climbs above it.

use crate::input_file::{self, InputError};
use std::collections::VecDeque;
use std::path::PathBuf;

/// As many links as Linux follows in one lookup.
const MAX_LINKS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub(crate) enum HostPathError {
    #[error("{shown} does not exist")]
    NotFound { shown: String },
    #[error(
        "{shown} cannot be read: permission denied (it is readable by root only: run as root)"
    )]
    Denied { shown: String },
    #[error("{shown}: more than {MAX_LINKS} symbolic links")]
    Loop { shown: String },
    #[error(transparent)]
    Input(InputError),
    #[error("{0}")]
    Io(String),
}

/// The root a node's files are read under.
#[derive(Clone, Debug)]
pub(crate) struct HostRoot {
    root: PathBuf,
}

impl HostRoot {
    pub(crate) fn new(root: impl Into<PathBuf>) -> HostRoot {
        HostRoot { root: root.into() }
    }

    /// A node path as the report shows it: where it was read. Paths come
    /// from the node's files (the kubelet's flags, a provider's name), so
    /// they are shown as untrusted text, on one line.
    pub(crate) fn shown(&self, node_path: &str) -> String {
        let path = self.join(&components(node_path)).display().to_string();
        crate::untrusted::inline(&path).shown()
    }

    fn join(&self, parts: &[String]) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(parts);
        p
    }

    /// `node_path` (absolute on the node) under the root, each symlink on
    /// the way resolved inside the root.
    pub(crate) fn resolve(&self, node_path: &str) -> Result<PathBuf, HostPathError> {
        let mut pending: VecDeque<String> = components(node_path).into();
        let mut done: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop_front() {
            if part == ".." {
                done.pop();
                continue;
            }
            done.push(part);
            let here = self.join(&done);
            let Ok(target) = std::fs::read_link(&here) else {
                continue;
            };
            links += 1;
            if links > MAX_LINKS {
                return Err(HostPathError::Loop {
                    shown: self.shown(node_path),
                });
            }
            done.pop();
            let target = target.to_string_lossy().into_owned();
            if target.starts_with('/') {
                done.clear();
            }
            for (at, t) in components(&target).into_iter().enumerate() {
                pending.insert(at, t);
            }
        }
        Ok(self.join(&done))
    }

    /// The content of the regular file at `node_path`, bounded.
    pub(crate) fn read(&self, node_path: &str) -> Result<String, HostPathError> {
        let path = self.resolve(node_path)?;
        let shown = self.shown(node_path);
        match input_file::read(&path) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.is_not_found() => Err(HostPathError::NotFound { shown }),
            Err(InputError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                Err(HostPathError::Denied { shown })
            }
            Err(e) => Err(HostPathError::Input(e)),
        }
    }
}

/// The parts of a path, without empty ones and `.`.
fn components(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .map(str::to_string)
        .collect()
}

#[cfg(all(test, unix))]
mod tests {
    use super::HostRoot;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("run/systemd/resolve")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(
            root.join("run/systemd/resolve/stub-resolv.conf"),
            "nameserver 127.0.0.53\n",
        )
        .unwrap();
        // Absolute, as Ubuntu's: it must not leave the root.
        symlink(
            "/run/systemd/resolve/stub-resolv.conf",
            root.join("etc/resolv.conf"),
        )
        .unwrap();
        // Relative, climbing above the root: stays at the root.
        symlink(
            "../../../../run/systemd/resolve/stub-resolv.conf",
            root.join("etc/up.conf"),
        )
        .unwrap();
        // A loop.
        symlink("/etc/b", root.join("etc/a")).unwrap();
        symlink("/etc/a", root.join("etc/b")).unwrap();
        let host = HostRoot::new(root);
        assert_eq!(
            host.read("/etc/resolv.conf").unwrap(),
            "nameserver 127.0.0.53\n"
        );
        assert_eq!(
            host.read("/etc/up.conf").unwrap(),
            "nameserver 127.0.0.53\n"
        );
        assert!(host
            .read("/etc/a")
            .unwrap_err()
            .to_string()
            .contains("symbolic links"));
        assert!(matches!(
            host.read("/etc/none"),
            Err(super::HostPathError::NotFound { .. })
        ));
    }
}
