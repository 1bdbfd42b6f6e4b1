//! The identity of each check: its id in JSON and `--skip`, its title, its
//! place in the pipeline.

use serde::{Serialize, Serializer};

/// Every check, in pipeline order (which is also the report's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    DockerCommand,
    DockerDaemon,
    DockerVersion,
    DockerPull,
    CliVersion,
    Arm,
    LoginServer,
    Dns,
    Tls,
    Challenge,
    RefreshToken,
    AccessToken,
    DockerCredential,
    DockerDaemonNetwork,
    ContainerdHosts,
    Image,
    DaemonPull,
    PrivateEndpoint,
    DataEndpoints,
    Replicas,
    RegionalEndpoints,
    Cmk,
    HelmCommand,
    HelmVersion,
    NotaryVersion,
}

/// Groups that `--skip` accepts besides single checks.
pub const ENVIRONMENT_GROUP: &str = "environment";

impl CheckId {
    pub const ALL: &'static [CheckId] = &[
        CheckId::DockerCommand,
        CheckId::DockerDaemon,
        CheckId::DockerVersion,
        CheckId::DockerPull,
        CheckId::CliVersion,
        CheckId::Arm,
        CheckId::LoginServer,
        CheckId::Dns,
        CheckId::Tls,
        CheckId::Challenge,
        CheckId::RefreshToken,
        CheckId::AccessToken,
        CheckId::DockerCredential,
        CheckId::DockerDaemonNetwork,
        CheckId::ContainerdHosts,
        CheckId::Image,
        CheckId::DaemonPull,
        CheckId::PrivateEndpoint,
        CheckId::DataEndpoints,
        CheckId::Replicas,
        CheckId::RegionalEndpoints,
        CheckId::Cmk,
        CheckId::HelmCommand,
        CheckId::HelmVersion,
        CheckId::NotaryVersion,
    ];

    /// Stable identifier used in JSON and by `--skip`: `group.name`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::DockerCommand => "docker.command",
            CheckId::DockerDaemon => "docker.daemon",
            CheckId::DockerVersion => "docker.version",
            CheckId::DockerPull => "docker.pull",
            CheckId::CliVersion => "cli.version",
            CheckId::Arm => "registry.arm",
            CheckId::LoginServer => "registry.login_server",
            CheckId::Dns => "registry.dns",
            CheckId::Tls => "registry.tls",
            CheckId::Challenge => "registry.challenge",
            CheckId::RefreshToken => "registry.refresh_token",
            CheckId::AccessToken => "registry.access_token",
            CheckId::DockerCredential => "registry.docker_credential",
            CheckId::DockerDaemonNetwork => "registry.docker_daemon",
            CheckId::ContainerdHosts => "registry.containerd_hosts",
            CheckId::Image => "registry.image",
            CheckId::DaemonPull => "registry.docker_pull",
            CheckId::PrivateEndpoint => "registry.private_endpoint",
            CheckId::DataEndpoints => "registry.data_endpoints",
            CheckId::Replicas => "registry.replicas",
            CheckId::RegionalEndpoints => "registry.regional_endpoints",
            CheckId::Cmk => "registry.cmk",
            CheckId::HelmCommand => "helm.command",
            CheckId::HelmVersion => "helm.version",
            CheckId::NotaryVersion => "notary.version",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            CheckId::DockerCommand => "Docker command",
            CheckId::DockerDaemon => "Docker daemon",
            CheckId::DockerVersion => "Docker version",
            CheckId::DockerPull => "Docker pull",
            CheckId::CliVersion => "acr-health version",
            CheckId::Arm => "Resource Manager",
            CheckId::LoginServer => "Login server",
            CheckId::Dns => "DNS lookup",
            CheckId::Tls => "TLS connection",
            CheckId::Challenge => "Challenge endpoint",
            CheckId::RefreshToken => "Refresh token",
            CheckId::AccessToken => "Access token",
            CheckId::DockerCredential => "Docker's credential",
            CheckId::DockerDaemonNetwork => "Docker daemon's network",
            CheckId::ContainerdHosts => "containerd's registry hosts",
            CheckId::Image => "Image pull",
            CheckId::DaemonPull => "Pull through the docker daemon",
            CheckId::PrivateEndpoint => "Private endpoint DNS",
            CheckId::DataEndpoints => "Data endpoints",
            CheckId::Replicas => "Geo-replicas",
            CheckId::RegionalEndpoints => "Regional endpoints",
            CheckId::Cmk => "Customer-managed key identity",
            CheckId::HelmCommand => "Helm command",
            CheckId::HelmVersion => "Helm version",
            CheckId::NotaryVersion => "Notary version",
        }
    }

    pub fn group(self) -> &'static str {
        self.as_str().split('.').next().unwrap_or_default()
    }

    /// Checks of the local machine (as opposed to the registry).
    pub fn is_environment(self) -> bool {
        matches!(self.group(), "docker" | "cli" | "helm" | "notary")
    }

    /// Position in the pipeline.
    pub fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .expect("every check is in ALL")
    }

    /// Whether a `--skip` value names this check: its id, its group, the
    /// second half of its id when that is unambiguous, or `environment`.
    pub fn matches_skip(self, value: &str) -> bool {
        let name = self.short_name();
        value == self.as_str()
            || value == self.group()
            || (value == ENVIRONMENT_GROUP && self.is_environment())
            || (value == name && Self::ALL.iter().filter(|c| c.short_name() == name).count() == 1)
    }

    fn short_name(self) -> &'static str {
        self.as_str().split('.').nth(1).unwrap_or_default()
    }

    /// Every value `--skip` accepts, for help and error messages.
    pub fn skip_values() -> Vec<&'static str> {
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

    #[test]
    fn all_is_in_pipeline_order() {
        let mut sorted = CheckId::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, CheckId::ALL);
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
