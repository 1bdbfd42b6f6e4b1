//! OCI image manifests and indexes (and Docker's v2 equivalents), as far as
//! the image check reads them: an index's per-platform entries, a
//! manifest's layers.

use serde::Deserialize;

/// An image manifest (`layers`) or an index (`manifests`); unknown fields
/// are ignored.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Descriptor {
    pub digest: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

/// A content digest as the registry API spells it (`sha256:<64 hex>`), so
/// that a manifest cannot put anything else into a request path.
pub fn valid_digest(d: &str) -> bool {
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
    pub fn is_index(&self) -> bool {
        self.layers.is_none() && self.manifests.is_some()
    }

    /// The index entry for `os`/`architecture`, else the first.
    pub fn pick(&self, os: &str, architecture: &str) -> Option<&Descriptor> {
        let list = self.manifests.as_deref()?;
        list.iter()
            .find(|m| {
                m.platform
                    .as_ref()
                    .is_some_and(|p| p.os == os && p.architecture == architecture)
            })
            .or_else(|| list.first())
    }

    /// The smallest layer with a valid digest: its digest and size.
    pub fn smallest_layer(&self) -> Option<(&str, u64)> {
        self.layers
            .as_deref()?
            .iter()
            .filter(|l| valid_digest(&l.digest))
            .map(|l| (l.digest.as_str(), l.size.unwrap_or(u64::MAX)))
            .min_by_key(|(_, size)| *size)
    }
}
