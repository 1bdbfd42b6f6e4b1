//! Finding external tools (docker, helm, notary) on `PATH`.
//!
//! The search is done here rather than left to the OS so that a binary that
//! would only be found through the current directory (`.` or an empty entry
//! or any other relative entry in `PATH`, or Windows' implicit
//! current-directory search) is refused: a
//! health check must not run whatever `docker` happens to sit in the folder
//! it was started from.

use crate::env::Env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Found(PathBuf),
    /// Only a binary in the current directory matched; it is not run.
    OnlyInCurrentDir(PathBuf),
    NotFound,
}

/// File names tried for a tool called `name`. Windows binaries are also
/// tried on Unix because under WSL the Windows Docker Desktop client is on
/// `PATH` as `docker.exe`.
fn candidates(name: &str) -> Vec<String> {
    if cfg!(windows) {
        vec![
            format!("{name}.exe"),
            format!("{name}.cmd"),
            format!("{name}.bat"),
        ]
    } else {
        vec![name.to_string(), format!("{name}.exe")]
    }
}

/// Looks `name` up in `path` (a `PATH`-style list), refusing matches that lie
/// in `cwd`.
pub(crate) fn find_in(name: &str, path: Option<OsString>, cwd: Option<&Path>) -> Lookup {
    let cwd = cwd.and_then(|c| c.canonicalize().ok());
    let mut in_cwd = None;
    let dirs: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for dir in dirs {
        // A relative entry (`.`, `bin`, `./bin`, `..`) names a folder
        // relative to wherever the command runs: refused as Go's LookPath
        // refuses it, as the current folder itself is.
        let is_cwd = dir.as_os_str().is_empty()
            || dir.is_relative()
            || match (&cwd, dir.canonicalize()) {
                (Some(cwd), Ok(dir)) => *cwd == dir,
                _ => false,
            };
        for file in candidates(name) {
            let full = if dir.as_os_str().is_empty() {
                PathBuf::from(&file)
            } else {
                dir.join(&file)
            };
            if is_executable(&full) {
                if is_cwd {
                    in_cwd.get_or_insert(full);
                } else {
                    return Lookup::Found(full);
                }
            }
        }
    }
    match in_cwd {
        Some(p) => Lookup::OnlyInCurrentDir(p),
        None => Lookup::NotFound,
    }
}

/// Looks `name` up in the run's `PATH`.
pub(crate) fn find(name: &str, env: &Env) -> Lookup {
    find_in(name, env.var_os("PATH").map(OsString::from), env.cwd())
}

/// Resolves a command given by the user (e.g. `DOCKER_COMMAND`): a value with
/// a path separator is used as given, a bare name is searched on `PATH`.
pub(crate) fn resolve(command: &str, env: &Env) -> Lookup {
    let as_path = Path::new(command);
    if as_path.components().count() > 1 || as_path.is_absolute() {
        if is_executable(as_path) {
            Lookup::Found(as_path.to_path_buf())
        } else {
            Lookup::NotFound
        }
    } else {
        find(command, env)
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file())
        .unwrap_or(false)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn make_tool(dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn finds_tool_in_path_and_prefers_it_to_cwd() {
        let cwd = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        make_tool(cwd.path(), "docker");
        let good = make_tool(bin.path(), "docker");
        let path = std::env::join_paths([cwd.path(), bin.path()]).unwrap();
        assert_eq!(
            find_in("docker", Some(path), Some(cwd.path())),
            Lookup::Found(good)
        );
    }

    #[test]
    fn refuses_a_tool_found_only_in_cwd() {
        let cwd = tempfile::tempdir().unwrap();
        let planted = make_tool(cwd.path(), "docker");
        let path = std::env::join_paths([cwd.path()]).unwrap();
        assert_eq!(
            find_in("docker", Some(path), Some(cwd.path())),
            Lookup::OnlyInCurrentDir(planted)
        );
    }

    #[test]
    fn ignores_non_executable_files_and_finds_exe_names() {
        let bin = tempfile::tempdir().unwrap();
        std::fs::write(bin.path().join("helm"), "not executable").unwrap();
        assert_eq!(
            find_in("helm", Some(bin.path().into()), None),
            Lookup::NotFound
        );
        let exe = make_tool(bin.path(), "helm.exe");
        assert_eq!(
            find_in("helm", Some(bin.path().into()), None),
            Lookup::Found(exe)
        );
    }
}
