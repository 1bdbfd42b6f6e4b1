//! The error catalogue: every code a check can fail with, its documented
//! meaning and remediation.
//!
//! The texts of the documented codes are copied verbatim from Microsoft's
//! "Health check error reference" for `az acr check-health`, so that users see
//! the remediation they would find in the Azure documentation; a test compares
//! them with the reference file. Codes marked `documented: false` are ones
//! acr-health adds for failures the reference has no code for.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Every error code acr-health reports, in the reference's order.
// The variants are the reference's names (DOCKER_COMMAND_ERROR …).
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ErrorCode {
    DockerCommandError,
    DockerDaemonError,
    DockerVersionError,
    DockerPullError,
    HelmCommandError,
    HelmVersionError,
    CmkError,
    ConnectivityDnsError,
    ConnectivityForbiddenError,
    ConnectivityChallengeError,
    ConnectivityAadLoginError,
    ConnectivityRefreshTokenError,
    ConnectivityAccessTokenError,
    ConnectivitySslError,
    LoginServerError,
    NotaryVersionError,
    ConnectivityTooManyRequestsError,
    CredentialNotFoundError,
    DataEndpointError,
    ImagePullError,
    // The last code sets the catalogue's size (CODES below).
    KubeletCredentialError,
}

/// What the catalogue knows about one code.
#[derive(Debug)]
pub(crate) struct CodeInfo {
    pub code: ErrorCode,
    /// The code as printed, e.g. `DOCKER_COMMAND_ERROR`.
    pub name: &'static str,
    /// A short human title.
    pub title: &'static str,
    /// A one-line description of the failure.
    pub summary: &'static str,
    /// The sentence az prints under `An error occurred: CODE`, word for
    /// word (azure-cli 2.91, `acr/_errors.py`), with `{login_server}`,
    /// `{registry}` and `{status}` where az fills in values. Where az tells
    /// the reader to upgrade the Azure CLI, it names acr-health instead
    /// (as the meaning and remediation do: acr-health runs the checks).
    pub az_sentence: &'static str,
    /// What the error means (the reference's explanation).
    pub meaning: &'static str,
    /// What to do about it (the reference's "Potential solutions").
    pub remediation: &'static str,
    /// Whether the code comes from the Microsoft reference.
    pub documented: bool,
    /// Where to read more, for codes the reference does not document.
    pub more_info: Option<&'static str>,
}

/// az's sentence for CONNECTIVITY_ACCESS_TOKEN_ERROR when the token lacks
/// repository permissions (azure-cli 2.91,
/// `CONNECTIVITY_ACCESS_TOKEN_PERMISSIONS_ERROR`).
pub(crate) const AZ_ACCESS_PERMISSIONS: &str = "You have {granted} permissions to the repository. \
    You are lacking {missing} repository permissions. Please verify if you have full read, write, \
    and delete permissions to the repository in the registry.";

/// The catalogue, in the reference's order.
/// How many codes there are: the catalogue holds exactly one entry each.
const CODES: usize = ErrorCode::KubeletCredentialError as usize + 1;

/// Every code's entry, in the enum's order (a unit test holds the order; the
/// array's length is the number of codes, so a code without an entry does
/// not compile).
pub(crate) static CATALOGUE: [CodeInfo; CODES] = [
    CodeInfo {
        code: ErrorCode::DockerCommandError,
        name: "DOCKER_COMMAND_ERROR",
        title: "Docker client not found",
        summary: "Please verify if Docker client is installed and running.",
        az_sentence: "Please verify if Docker client is installed and running.",
        meaning:
            "This error means that Docker client for CLI could not be found. As a result, the \
            following additional checks aren't run: finding Docker version, evaluating Docker \
            daemon status, and running a Docker pull command.",
        remediation: "Install Docker client; add Docker path to the system variables.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::DockerDaemonError,
        name: "DOCKER_DAEMON_ERROR",
        title: "Docker daemon unavailable",
        summary: "Please verify if Docker daemon is running properly.",
        az_sentence: "Please verify if Docker daemon is running, or try restarting it.",
        meaning: "This error means that the Docker daemon status is unavailable, or that it \
            couldn't be reached using the CLI. As a result, Docker operations (such as docker \
            login and docker pull) are unavailable through the CLI.",
        remediation: "Restart Docker daemon, or validate that it is properly installed.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::DockerVersionError,
        name: "DOCKER_VERSION_ERROR",
        title: "Docker version unavailable",
        summary: "An error occurred while retrieving docker version.",
        az_sentence: "An error occurred while retrieving Docker version. Please try verifying it \
            manually.",
        meaning: "This error means that CLI wasn't able to run the command docker --version.",
        remediation:
            "Try running the command manually, make sure you have the latest CLI version, \
            and investigate the error message.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::DockerPullError,
        name: "DOCKER_PULL_ERROR",
        title: "Docker pull failed",
        summary: "An error occurred while pulling an image.",
        az_sentence:
            "An error occurred while pulling a sample image. Please validate your network \
            connection and verify if Docker daemon is running properly.",
        meaning: "This error means that the CLI wasn't able to pull a sample image to your \
            environment.",
        remediation: "Validate that all components necessary to pull an image are running \
            properly.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::HelmCommandError,
        name: "HELM_COMMAND_ERROR",
        title: "Helm client not found",
        summary: "Please verify if Helm is installed.",
        az_sentence: "Please verify if Helm is installed.",
        meaning: "This error means that Helm client couldn't be found by the CLI, which precludes \
            other Helm operations.",
        remediation: "Verify that Helm client is installed, and that its path is added to the \
            system environment variables.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::HelmVersionError,
        name: "HELM_VERSION_ERROR",
        title: "Helm version unavailable or obsolete",
        summary: "An error occurred while retrieving Helm version.",
        az_sentence: "An error occurred while retrieving Helm version. Please make sure that you \
            have the latest acr-health version, and that you are using the recommended Helm \
            version.",
        meaning: "This error means that the CLI was unable to determine the Helm version \
            installed. This can happen if the acr-health version (or if the Helm version) being \
            used is obsolete.",
        remediation: "Update to the latest acr-health version or to the recommended Helm version; \
            run the command manually and investigate the error message.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::CmkError,
        name: "CMK_ERROR",
        title: "Customer-managed key identity unavailable",
        summary: "The registry cannot access the managed identity used for its customer-managed \
            key.",
        az_sentence: "The identity used for registry '{registry}' encryption doesn't exist.",
        meaning: "This error means that the registry can't access the user-assigned or \
            sysem-assigned managed identity used to configure registry encryption with a \
            customer-managed key. The managed identity might have been deleted.",
        remediation: "To resolve the issue and rotate the key using a different managed identity, \
            see steps to troubleshoot the user-assigned identity.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::ConnectivityDnsError,
        name: "CONNECTIVITY_DNS_ERROR",
        title: "DNS lookup failed",
        summary: "DNS lookup to the registry login server failed.",
        az_sentence: "Failed to reach DNS for registry '{login_server}'. Please check if the \
            spelling is correct, if the CLI environment is on correct cloud and your network \
            connectivity.",
        meaning:
            "This error means that the DNS for the given registry login server was pinged but \
            did not respond, which means it is unavailable. This can indicate some connectivity \
            issues. Alternatively, the registry might not exist, the user might not have the \
            permissions on the registry (to retrieve its login server properly), or the target \
            registry is in a different cloud than the one used in the Azure CLI.",
        remediation: "Validate connectivity; verify spelling of the registry, and that registry \
            exists; verify that the user has the right permissions on it and that the registry's \
            cloud is the same that is used in the Azure CLI.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::ConnectivityForbiddenError,
        name: "CONNECTIVITY_FORBIDDEN_ERROR",
        title: "Registry access forbidden",
        summary:
            "The registry refused access from this client. Are firewalls and virtual networks \
            enabled?",
        az_sentence: "Looks like you don't have access to registry '{login_server}'. To see \
            configured firewall rules, run 'az acr show --query networkRuleSet --name {registry}'. \
            Details: \
            https://learn.microsoft.com/azure/container-registry/\
            container-registry-health-error-reference#connectivity_forbidden_error",
        meaning: "This error means that the challenge endpoint for the given registry responded \
            with a 403 Forbidden HTTP status. This error means that users don't have access to the \
            registry, most likely because of a virtual network configuration or because access to \
            the registry's public endpoint is not allowed. To see the currently configured \
            firewall rules, run az acr show --query networkRuleSet --name <registry>.",
        remediation: "Remove virtual network rules, or add the current client IP address to the \
            allowed list.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::ConnectivityChallengeError,
        name: "CONNECTIVITY_CHALLENGE_ERROR",
        title: "Registry did not issue a challenge",
        summary: "The registry did not issue a challenge.",
        az_sentence: "Registry '{login_server}' did not issue a challenge.",
        meaning: "This error means that the challenge endpoint of the target registry did not \
            issue a challenge.",
        remediation: "Try again after some time. If the error persists, open an issue at \
            https://aka.ms/acr/issues.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::ConnectivityAadLoginError,
        name: "CONNECTIVITY_AAD_LOGIN_ERROR",
        title: "Registry does not support Microsoft Entra login",
        summary: "The registry does not support Microsoft Entra (AAD) login.",
        az_sentence: "Registry '{login_server}' does not support AAD login.",
        meaning: "This error means that the challenge endpoint of the target registry issued a \
            challenge, but the registry does not support Microsoft Entra authentication.",
        remediation:
            "Try a different way to authenticate, for example, with admin credentials. If \
            users need to authenticate using Microsoft Entra ID, open an issue at \
            https://aka.ms/acr/issues.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::ConnectivityRefreshTokenError,
        name: "CONNECTIVITY_REFRESH_TOKEN_ERROR",
        title: "Refresh token denied",
        summary: "The registry did not issue a refresh token.",
        az_sentence: "Access to registry '{login_server}' was denied. Response code: {status}. \
            Please try running 'az login' again to refresh permissions.",
        meaning: "This error means that the registry login server did not respond with a refresh \
            token, so access to the target registry was denied. This error can occur if the user \
            does not have the right permissions on the registry or if the user credentials for the \
            Azure CLI are stale.",
        remediation: "Verify if the user has the right permissions on the registry; run az login \
            to refresh permissions, tokens, and credentials.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::ConnectivityAccessTokenError,
        name: "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        title: "Access token denied",
        summary: "The registry did not issue an access token.",
        az_sentence: "Access to registry '{login_server}' was denied. Response code: {status}. \
            Please try running 'az login' again to refresh permissions.",
        meaning: "This error means that the registry login server did not respond with an access \
            token, so that the access to the target registry was denied. This error can occur if \
            the user does not have the right permissions on the registry or if the user \
            credentials for the Azure CLI are stale.",
        remediation: "Verify if the user has the right permissions on the registry; run az login \
            to refresh permissions, tokens, and credentials.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::ConnectivitySslError,
        name: "CONNECTIVITY_SSL_ERROR",
        title: "Secure connection failed",
        summary: "Unable to establish a secure connection to the registry.",
        az_sentence: "Unable to establish a secure connection to the registry '{login_server}'. \
            Are you using a proxy server?",
        meaning: "This error means that the client was unable to establish a secure connection to \
            the container registry. This error generally occurs if you're running or using a proxy \
            server.",
        // The reference's "here" is a link, which plain text loses.
        remediation: "More information on working behind a proxy can be found here: \
            https://learn.microsoft.com/cli/azure/\
            use-azure-cli-successfully-troubleshooting#work-behind-a-proxy.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::LoginServerError,
        name: "LOGIN_SERVER_ERROR",
        title: "Login server not found",
        summary: "Unable to find the login server of the registry.",
        az_sentence: "An error occurred while retrieving the login server for registry \
            '{registry}'. Please check if the spelling is correct, if the CLI environment is on \
            correct cloud and if you have the right permissions on it.",
        meaning: "This error means that the CLI was unable to find the login server of the given \
            registry, and no default suffix was found for the current cloud. This error can occur \
            if the registry does not exist, if the user does not have the right permissions on the \
            registry, if the registry's cloud and the current Azure CLI cloud do not match, or if \
            the acr-health version is obsolete.",
        remediation: "Verify that the spelling is correct and that the registry exists; verify \
            that user has the right permissions on the registry, and that the clouds of the \
            registry and the CLI environment match; update acr-health to the latest version.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::NotaryVersionError,
        name: "NOTARY_VERSION_ERROR",
        title: "Incompatible Notary client",
        summary: "The installed Notary client version is not compatible.",
        az_sentence:
            "An error occurred while retrieving notary version. Please make sure that you \
            have the latest acr-health version, and that you are using the recommended notary \
            version.",
        meaning: "This error means that the CLI is not compatible with the currently installed \
            version of Docker/Notary.",
        remediation: "Try downgrading your notary.exe version to a version earlier than 0.6.0 by \
            replacing your Docker installation's Notary client manually to resolve this issue. You \
            can also try downloading and installing a pre-compiled binary of Notary earlier than \
            0.6.0 for 64 bit Linux or macOS X from the Notary repository's releases page on \
            GitHub. For windows download the .exe, place it in the(default path: \
            C:\\ProgramFiles\\Docker\\Docker\\resources\\bin) and rename it to notary.exe.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::ConnectivityTooManyRequestsError,
        name: "CONNECTIVITY_TOOMANYREQUESTS_ERROR",
        title: "Too many requests",
        summary: "The registry throttled the request (HTTP 429).",
        az_sentence: "Too many requests, access to registry '{login_server}' was denied. Please \
            wait a moment before trying again.",
        meaning: "This error means that the user has sent too many requests in a short period \
            causing the authentication system to block further requests to prevent overload. This \
            error occurs by reaching a configured limit in the user's registry service tier or \
            environment.",
        remediation: "We recommend waiting for a moment before sending another request. This will \
            allow the authentication system's block to lift and you can try sending a request \
            again.",
        documented: true,
        more_info: None,
    },
    CodeInfo {
        code: ErrorCode::CredentialNotFoundError,
        name: "CREDENTIAL_NOT_FOUND_ERROR",
        title: "No usable credential",
        summary: "No credential was found to request a registry token with.",
        az_sentence: "No credential was found to request a registry token with.",
        meaning: "This error means that no source of credentials gave a token: no --username and \
            --password, no service principal or workload identity in the environment, no working \
            Azure CLI login and no managed identity. Without a token the registry's refresh and \
            access tokens cannot be checked.",
        remediation: "Run az login (or az login --identity on an Azure host with a managed \
            identity); or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a \
            service principal, with AZURE_FEDERATED_TOKEN_FILE instead of the secret for workload \
            identity; or pass --username with --password or --password-stdin for the registry's \
            admin user or an ACR token; --auth selects one source.",
        documented: false,
        more_info: Some("https://aka.ms/acr/authentication"),
    },
    CodeInfo {
        code: ErrorCode::DataEndpointError,
        name: "DATA_ENDPOINT_ERROR",
        title: "Data endpoint unreachable",
        summary: "A dedicated data endpoint of the registry cannot be reached.",
        az_sentence: "A dedicated data endpoint of the registry cannot be reached.",
        meaning: "This error means that the registry serves image layers from dedicated data \
            endpoints (<registry>.<region>.data.azurecr.io), and one of them does not resolve, \
            refuses a secure connection or does not answer as a data endpoint. Logins succeed but \
            pulls fail while downloading layers.",
        remediation: "Allow the data endpoints through the firewall or proxy (the rules for the \
            login server do not cover them); with private endpoints, make sure the private DNS \
            zone has a record for each data endpoint; see \
            https://aka.ms/acr/dedicated-data-endpoints.",
        documented: false,
        more_info: Some("https://aka.ms/acr/dedicated-data-endpoints"),
    },
    CodeInfo {
        code: ErrorCode::ImagePullError,
        name: "IMAGE_PULL_ERROR",
        title: "Image cannot be pulled",
        summary: "The image's manifest or layers cannot be fetched.",
        az_sentence: "The image's manifest or layers cannot be fetched.",
        meaning: "This error means that the login and token steps work, but the image asked for \
            with --image cannot be pulled: its manifest is missing (wrong tag or repository), the \
            token does not allow reading it, or its layers cannot be downloaded from the host the \
            registry redirects to (a data endpoint or storage account blocked by a firewall or \
            proxy).",
        remediation: "Check the repository and tag (az acr repository show-tags); make sure the \
            identity may pull from the repository; allow the registry's data endpoints or storage \
            host named in the message through firewalls and proxies.",
        documented: false,
        more_info: Some("https://aka.ms/acr/health-check"),
    },
    CodeInfo {
        code: ErrorCode::KubeletCredentialError,
        name: "KUBELET_CREDENTIAL_ERROR",
        title: "The kubelet gets no credential for the registry",
        summary: "The node's kubelet would pull from the registry without a credential.",
        az_sentence: "The node's kubelet would pull from the registry without a credential.",
        meaning: "This error means that on this Kubernetes node the kubelet's image credential \
            path is broken before the registry is asked: the cloud provider configuration \
            (/etc/kubernetes/azure.json) is missing, unreadable or names no identity; the \
            kubelet's image credential provider is not set up for the registry (no \
            --image-credential-provider-config, no provider whose matchImages covers the login \
            server, or no provider binary in --image-credential-provider-bin-dir); or the \
            instance metadata service gives the kubelet identity no token (the identity is not \
            assigned to the node's virtual machine scale set). Pods then fail with \
            ImagePullBackOff and 401 Unauthorized.",
        remediation: "Check that azure.json names the cluster's kubelet identity (az aks show \
            --query identityProfile.kubeletidentity) and that the identity is assigned to the node \
            pool's scale set; reconcile the node pool (az aks nodepool upgrade \
            --node-image-only, or az aks update) so that the node's files are written again; for \
            a registry outside the cloud's registry domains, add its name to the provider's \
            matchImages.",
        documented: false,
        more_info: Some(
            "https://learn.microsoft.com/azure/aks/cluster-container-registry-integration",
        ),
    },
];

impl ErrorCode {
    pub(crate) fn info(self) -> &'static CodeInfo {
        &CATALOGUE[self as usize]
    }

    pub(crate) fn name(self) -> &'static str {
        self.info().name
    }

    pub(crate) fn remediation(self) -> &'static str {
        self.info().remediation
    }

    /// Where a report sends the reader: the reference's page for a code it
    /// documents; for acr-health's own codes, `acr-health explain` and the
    /// Azure documentation of the topic (the reference has no page for them).
    pub(crate) fn more_information(self) -> String {
        match self.info().documented {
            true => self.docs_url(),
            false => format!("acr-health explain {}, {}", self.name(), self.docs_url()),
        }
    }

    /// The deep link into the Azure documentation for this code.
    pub(crate) fn docs_url(self) -> String {
        match self.info().more_info {
            Some(url) => url.to_string(),
            None => format!(
                "https://aka.ms/acr/errors#{}",
                self.name().to_ascii_lowercase()
            ),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Parses a code case-insensitively, with or without the `_ERROR` suffix.
impl FromStr for ErrorCode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_uppercase().replace('-', "_");
        CATALOGUE
            .iter()
            .find(|info| {
                info.name == wanted || info.name.strip_suffix("_ERROR") == Some(wanted.as_str())
            })
            .map(|info| info.code)
            .ok_or_else(|| {
                format!("unknown error code '{s}' (run 'acr-health codes' to list them)")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_entry_at_its_place() {
        for (at, info) in CATALOGUE.iter().enumerate() {
            assert_eq!(info.code as usize, at, "{} is out of order", info.name);
            assert_eq!(info.code.info().name, info.name);
        }
    }

    #[test]
    fn parses_names_loosely() {
        assert_eq!(
            "docker_daemon_error".parse::<ErrorCode>(),
            Ok(ErrorCode::DockerDaemonError)
        );
        assert_eq!(
            "CONNECTIVITY-DNS".parse::<ErrorCode>(),
            Ok(ErrorCode::ConnectivityDnsError)
        );
        assert!("NOPE".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn docs_url_uses_lower_case_anchor() {
        assert_eq!(
            ErrorCode::CmkError.docs_url(),
            "https://aka.ms/acr/errors#cmk_error"
        );
    }
}

#[cfg(test)]
mod az_permissions_sentence {
    #[test]
    fn is_azs_own() {
        let az = include_str!("../tests/fixtures/az-2.91-acr-errors.py");
        let ours = super::AZ_ACCESS_PERMISSIONS
            .replace("{granted}", "{}")
            .replace("{missing}", "{}");
        assert!(az.contains(&format!("\"{ours}\"")), "{ours}");
    }
}
