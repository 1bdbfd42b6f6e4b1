//! JSON as Go tools print it (docker, podman, containerd's clients,
//! credential helpers): an empty list or map is often `null`
//! (`"Mirrors":null` from current Docker Engine and Docker Desktop). Fields
//! read with [`nullable`] take their default for `null` as for a missing
//! key.

use serde::{Deserialize, Deserializer};

/// A field's value, or its default when it is `null` (use with
/// `#[serde(default, deserialize_with = "nullable")]`).
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Deserialize, Default, Debug, PartialEq)]
    struct Sample {
        #[serde(default, deserialize_with = "nullable")]
        list: Vec<String>,
        #[serde(default, deserialize_with = "nullable")]
        map: BTreeMap<String, u8>,
        #[serde(default, deserialize_with = "nullable")]
        text: String,
    }

    #[test]
    fn null_reads_as_missing() {
        let null: Sample = serde_json::from_str(r#"{"list":null,"map":null,"text":null}"#).unwrap();
        assert_eq!(null, Sample::default());
        let full: Sample =
            serde_json::from_str(r#"{"list":["a"],"map":{"k":1},"text":"t"}"#).unwrap();
        assert_eq!(full.list, ["a"]);
        assert_eq!(full.map["k"], 1);
        assert!(serde_json::from_str::<Sample>(r#"{"list":"no"}"#).is_err());
    }
}
