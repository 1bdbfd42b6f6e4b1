//! The checks: one module each, declared in the list below in pipeline
//! order (which is also the report's order). Each module declares its
//! identity once (a `CheckSpec`: key, title, what it proves, its warnings
//! and codes, when it is planned); the list makes the check ids from them.
//! Adding a check: its module (spec, check function, unit tests), one line
//! here and one `mod` line, and its call in the pipeline.

pub(crate) mod result;

pub(crate) mod environment {
    //! Checks of the machine itself: its container tools and this tool.
    pub(crate) mod cli;
    pub(crate) mod containerd;
    pub(crate) mod docker;
    pub(crate) mod helm;
    pub(crate) mod notary;
    pub(crate) mod tool_version;
}

pub(crate) mod registry {
    //! Checks of the path to a registry and of the registry itself.
    pub(crate) mod access_token;
    pub(crate) mod arm;
    pub(crate) mod challenge;
    pub(crate) mod cmk;
    pub(crate) mod containerd_hosts;
    pub(crate) mod data_endpoints;
    pub(crate) mod dns;
    pub(crate) mod docker_credential;
    pub(crate) mod docker_daemon;
    pub(crate) mod docker_pull;
    pub(crate) mod image;
    pub(crate) mod ip_families;
    pub(crate) mod login_hint;
    pub(crate) mod login_server;
    pub(crate) mod private_endpoint;
    pub(crate) mod refresh_token;
    pub(crate) mod regional_endpoints;
    pub(crate) mod replicas;
    pub(crate) mod response_time;
    pub(crate) mod tls;
    pub(crate) mod token;
}

pub(crate) mod node {
    //! Checks of a Kubernetes node's own credential path (`--kubelet`).
    pub(crate) mod audiences;
    pub(crate) mod azure_json;
    pub(crate) mod credential_provider;
    pub(crate) mod exchange;
    pub(crate) mod identity;
    pub(crate) mod provider_run;
    pub(crate) mod region;
}

pub(crate) use result::CheckResult;

use crate::check_spec::CheckSpec;
use serde::{Serialize, Serializer};

/// Makes `CheckId` from the list: one variant per check, named after its
/// key (`registry.dns` → `RegistryDns`), in list order.
macro_rules! checks {
    ($($variant:ident => $spec:path,)*) => {
        /// Every check, in pipeline order (which is also the report's order).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) enum CheckId {
            $($variant,)*
        }

        impl CheckId {
            pub(crate) const ALL: &'static [CheckId] = &[$(CheckId::$variant,)*];

            /// The check's own declaration.
            pub(crate) fn spec(self) -> &'static CheckSpec {
                match self {
                    $(CheckId::$variant => &$spec,)*
                }
            }
        }
    };
}

checks! {
    DockerCommand => environment::docker::COMMAND,
    DockerDaemon => environment::docker::DAEMON,
    DockerVersion => environment::docker::VERSION,
    DockerPull => environment::docker::PULL,
    CliVersion => environment::cli::VERSION,
    NodeAzureJson => node::azure_json::CHECK,
    NodeCredentialProvider => node::credential_provider::CHECK,
    NodeIdentity => node::identity::CHECK,
    RegistryArm => registry::arm::CHECK,
    RegistryLoginServer => registry::login_server::CHECK,
    RegistryDns => registry::dns::CHECK,
    RegistryTls => registry::tls::CHECK,
    RegistryChallenge => registry::challenge::CHECK,
    RegistryResponseTime => registry::response_time::CHECK,
    NodeExchange => node::exchange::CHECK,
    NodeAudiences => node::audiences::CHECK,
    NodeProviderRun => node::provider_run::CHECK,
    RegistryRefreshToken => registry::refresh_token::CHECK,
    RegistryAccessToken => registry::access_token::CHECK,
    RegistryDockerCredential => registry::docker_credential::CHECK,
    RegistryDockerDaemon => registry::docker_daemon::CHECK,
    RegistryContainerdHosts => registry::containerd_hosts::CHECK,
    RegistryImage => registry::image::CHECK,
    RegistryDockerPull => registry::docker_pull::CHECK,
    RegistryPrivateEndpoint => registry::private_endpoint::CHECK,
    RegistryDataEndpoints => registry::data_endpoints::CHECK,
    RegistryReplicas => registry::replicas::CHECK,
    RegistryRegionalEndpoints => registry::regional_endpoints::CHECK,
    RegistryCmk => registry::cmk::CHECK,
    NodeRegion => node::region::CHECK,
    HelmCommand => environment::helm::COMMAND,
    HelmVersion => environment::helm::VERSION,
    NotaryVersion => environment::notary::VERSION,
}

/// Groups that `--skip` accepts besides single checks and their groups.
pub(crate) const ENVIRONMENT_GROUP: &str = "environment";

impl CheckId {
    /// Stable identifier used in JSON and by `--skip`: `group.name`.
    pub(crate) fn as_str(self) -> &'static str {
        self.spec().key
    }

    pub(crate) fn title(self) -> &'static str {
        self.spec().title
    }

    pub(crate) fn group(self) -> &'static str {
        self.spec().group()
    }

    /// Checks of the local machine (as opposed to the registry).
    pub(crate) fn is_environment(self) -> bool {
        self.spec().is_environment()
    }

    /// Position in the pipeline.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Whether a `--skip` value names this check: its id, its group, the
    /// second half of its id when that is unambiguous, or `environment`.
    pub(crate) fn matches_skip(self, value: &str) -> bool {
        let name = self.spec().short_name();
        value == self.as_str()
            || value == self.group()
            || (value == ENVIRONMENT_GROUP && self.is_environment())
            || (value == name
                && Self::ALL
                    .iter()
                    .filter(|c| c.spec().short_name() == name)
                    .count()
                    == 1)
    }

    /// Every value `--skip` accepts, for help and error messages.
    pub(crate) fn skip_values() -> Vec<&'static str> {
        let mut values = vec![ENVIRONMENT_GROUP];
        for check in Self::ALL {
            for v in [check.group(), check.as_str()] {
                if !values.contains(&v) {
                    values.push(v);
                }
            }
        }
        values
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `registry.docker_daemon` → `RegistryDockerDaemon`.
    fn variant_name(key: &str) -> String {
        key.split(['.', '_'])
            .map(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn each_id_is_named_after_its_key_and_keys_are_unique() {
        let mut keys = std::collections::BTreeSet::new();
        for id in CheckId::ALL {
            assert_eq!(format!("{id:?}"), variant_name(id.as_str()));
            assert!(
                keys.insert(id.as_str()),
                "{} is declared twice",
                id.as_str()
            );
        }
    }

    #[test]
    fn each_check_is_declared_in_the_file_its_key_names() {
        // docker.daemon in environment/docker.rs, registry.dns in
        // registry/dns.rs, node.identity in node/identity.rs: a newcomer
        // finds a check by its key.
        for id in CheckId::ALL {
            let spec = id.spec();
            let file = match spec.group() {
                "registry" | "node" => format!("{}/{}.rs", spec.group(), spec.short_name()),
                group => format!("environment/{group}.rs"),
            };
            let path = format!("{}/src/checks/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                text.contains(&format!("key: \"{}\",", spec.key)),
                "{} is not declared in src/checks/{file}",
                spec.key
            );
        }
    }

    #[test]
    fn skip_matches_ids_groups_and_environment() {
        assert!(CheckId::DockerPull.matches_skip("docker"));
        assert!(CheckId::DockerPull.matches_skip("docker.pull"));
        assert!(CheckId::DockerPull.matches_skip("pull"));
        assert!(CheckId::NotaryVersion.matches_skip("environment"));
        assert!(!CheckId::HelmVersion.matches_skip("docker"));
        // "version" is ambiguous (docker, cli, helm, notary) so it names nothing.
        assert!(!CheckId::HelmVersion.matches_skip("version"));
    }
}
