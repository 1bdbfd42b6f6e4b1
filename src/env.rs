//! The process environment as one run sees it: its variables and working
//! folder, captured once when the configuration is built (`config.rs` is
//! the one place that reads the real environment). Everything after reads
//! this snapshot, so a run can be given an environment of its own, and a
//! long-running server can take one per probe.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The environment variables and working folder of one run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Env {
    vars: BTreeMap<OsString, OsString>,
    cwd: Option<PathBuf>,
}

impl Env {
    pub(crate) fn new(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        cwd: Option<PathBuf>,
    ) -> Env {
        Env {
            vars: vars.into_iter().map(|(k, v)| (key(&k), v)).collect(),
            cwd,
        }
    }

    /// A variable's value as set (possibly empty); `None` when unset.
    pub(crate) fn var_os(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .get(&key(OsStr::new(name)))
            .map(OsString::as_os_str)
    }

    /// A variable's value when it is set, not blank and valid Unicode.
    pub(crate) fn var(&self, name: &str) -> Option<&str> {
        self.var_os(name)?.to_str().filter(|v| !v.trim().is_empty())
    }

    /// A variable that names a file or folder, when set and not empty.
    pub(crate) fn path(&self, name: &str) -> Option<PathBuf> {
        self.var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }

    /// The first of `names` that is set and not blank.
    pub(crate) fn first_of(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.var(n))
    }

    /// The folder the run was started in.
    pub(crate) fn cwd(&self) -> Option<&Path> {
        self.cwd.as_deref()
    }

    /// Every variable whose name starts with `prefix`, for settings named
    /// by convention (az's `AZURE_<SECTION>_<KEY>`).
    pub(crate) fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.vars.iter().filter_map(move |(k, v)| {
            let k = k.to_str()?;
            k.starts_with(prefix).then_some((k, v.to_str()?))
        })
    }
}

/// A variable's name as looked up: on Windows names are case-insensitive
/// (`Path` is `PATH`), as the process environment reads them there.
fn key(name: &OsStr) -> OsString {
    if cfg!(windows) {
        name.to_string_lossy().to_uppercase().into()
    } else {
        name.to_os_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::new(pairs.iter().map(|(k, v)| (k.into(), v.into())), None)
    }

    #[test]
    fn names_are_case_insensitive_on_windows_only() {
        let e = env(&[("Path", "C:\\bin")]);
        assert_eq!(e.var("PATH").is_some(), cfg!(windows));
        assert_eq!(e.var("Path"), Some("C:\\bin"));
    }

    #[test]
    fn blank_values_count_as_unset_except_as_raw_values() {
        let e = env(&[("A", " "), ("B", "x"), ("C", "")]);
        assert_eq!(e.var("A"), None);
        assert_eq!(e.var("B"), Some("x"));
        assert_eq!(e.var_os("C"), Some(OsStr::new("")));
        assert_eq!(e.path("C"), None);
        assert_eq!(e.first_of(&["A", "C", "B"]), Some("x"));
        assert_eq!(e.var("D"), None);
    }
}
