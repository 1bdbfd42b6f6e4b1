//! OCI image manifests and indexes (and Docker's v2 equivalents), as far as
//! the image check reads them: an index's per-platform entries, a
//! manifest's layers.

use serde::Deserialize;

/// An image manifest (`layers`) or an index (`manifests`); unknown fields
/// are ignored.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Manifest {
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Descriptor {
    pub digest: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

/// `os/arch[/variant]` on one line: an index's platforms are the
/// registry's text, shown inside a line of the report.
impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inline = crate::untrusted::inline;
        write!(f, "{}/{}", inline(&self.os), inline(&self.architecture))?;
        if let Some(v) = &self.variant {
            write!(f, "/{}", inline(v))?;
        }
        Ok(())
    }
}

/// `--platform` is not `os/arch[/variant]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a platform (os/arch or os/arch/variant, e.g. linux/arm64)")]
pub(crate) struct BadPlatform(pub String);

impl Platform {
    /// `os/arch[/variant]`, as `--platform` and docker spell it.
    pub(crate) fn parse(s: &str) -> Result<Platform, BadPlatform> {
        let parts: Vec<&str> = s.trim().split('/').collect();
        let ok =
            |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match parts.as_slice() {
            [os, arch] | [os, arch, _] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: parts.get(2).filter(|v| ok(v)).map(|v| v.to_string()),
            }),
            _ => Err(BadPlatform(s.to_string())),
        }
    }

    /// The platform of this machine, as OCI names it.
    pub(crate) fn this_machine() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: std::env::consts::OS.to_string(),
            architecture: architecture.to_string(),
            variant: None,
        }
    }
}

/// A content digest as the registry API spells it (`sha256:<64 hex>`), so
/// that a manifest cannot put anything else into a request path.
pub(crate) fn valid_digest(d: &str) -> bool {
    let Some((algo, hex)) = d.split_once(':') else {
        return false;
    };
    matches!(algo, "sha256" | "sha384" | "sha512")
        && hex.len() >= 64
        && hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

impl Manifest {
    /// An index, as opposed to a single image's manifest.
    pub(crate) fn is_index(&self) -> bool {
        self.layers.is_none() && self.manifests.is_some()
    }

    /// The index entry for `want` (a variant only matters when asked for).
    pub(crate) fn pick(&self, want: &Platform) -> Option<&Descriptor> {
        self.manifests.as_deref()?.iter().find(|m| {
            m.platform.as_ref().is_some_and(|p| {
                p.os == want.os
                    && p.architecture == want.architecture
                    && (want.variant.is_none() || p.variant == want.variant)
            })
        })
    }

    /// The platforms an index offers, as `os/arch[/variant]`.
    pub(crate) fn platforms(&self) -> Vec<String> {
        let list = self.manifests.as_deref().unwrap_or_default();
        list.iter()
            .filter_map(|m| m.platform.as_ref())
            .filter(|p| p.os != "unknown")
            .map(Platform::to_string)
            .collect()
    }

    /// The smallest layer with a valid digest: its digest and size.
    pub(crate) fn smallest_layer(&self) -> Option<(&str, u64)> {
        self.layers
            .as_deref()?
            .iter()
            .filter(|l| valid_digest(&l.digest))
            .map(|l| (l.digest.as_str(), l.size.unwrap_or(u64::MAX)))
            .min_by_key(|(_, size)| *size)
    }
}
