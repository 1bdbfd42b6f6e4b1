//! What a check declares about itself, once, in its own module: its key
//! and title, what it proves, the warnings it gives with what to do about
//! each, the codes it fails with and when it is planned. The list of checks
//! in `checks/mod.rs` turns these into the check ids, `explain` and the
//! README's table; renderers read them without knowing the checks.

use crate::codes::ErrorCode;

/// One check's declaration.
#[derive(Debug)]
pub(crate) struct CheckSpec {
    /// Stable identifier in JSON and `--skip`: `group.name`.
    pub key: &'static str,
    pub title: &'static str,
    /// What a pass proves (`acr-health explain <check>`).
    pub proves: &'static str,
    /// The warnings it can give, each with what to do about it.
    pub warnings: &'static [Warning],
    /// The codes it fails with.
    pub codes: &'static [ErrorCode],
    /// When a run includes it.
    pub planned: Planned,
}

/// A warning a check can give, and what to do about it.
#[derive(Debug)]
pub(crate) struct Warning {
    pub when: &'static str,
    pub what_to_do: &'static str,
}

/// When a check is part of a run (it is reported, run or skipped, exactly
/// when planned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Planned {
    /// Every run: the local machine's checks.
    Always,
    /// When a registry is named.
    WithRegistry,
    /// With `--image`.
    WithImage,
    /// With `--vnet`.
    WithVnet,
    /// With `--kubelet`: a node's checks.
    OnNode,
    /// With `--kubelet --run-credential-provider`.
    ProviderRun,
}

impl CheckSpec {
    /// The group, the part of the key before the dot (`docker`, `registry`).
    pub(crate) fn group(&self) -> &'static str {
        self.key.split('.').next().unwrap_or_default()
    }

    /// The part of the key after the dot.
    pub(crate) fn short_name(&self) -> &'static str {
        self.key.split('.').nth(1).unwrap_or_default()
    }

    /// A check of the local machine rather than of the registry.
    pub(crate) fn is_environment(&self) -> bool {
        !matches!(self.group(), "registry" | "node")
    }
}

/// A warning and what to do about it, for the `warnings` lists.
pub(crate) const fn warning(when: &'static str, what_to_do: &'static str) -> Warning {
    Warning { when, what_to_do }
}
