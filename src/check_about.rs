//! What each check proves, the warnings it can give with what to do about
//! each, and the codes it fails with: the text of `acr-health explain
//! <check>`.

use crate::check_id::CheckId;
use crate::codes::ErrorCode;
use ErrorCode as E;

/// One check, explained.
pub struct About {
    pub proves: &'static str,
    /// A warning the check can give, and what to do about it.
    pub warnings: &'static [(&'static str, &'static str)],
    pub codes: &'static [ErrorCode],
}

const fn about(
    proves: &'static str,
    warnings: &'static [(&'static str, &'static str)],
    codes: &'static [ErrorCode],
) -> About {
    About {
        proves,
        warnings,
        codes,
    }
}

/// Every check, in pipeline order.
static ABOUT: &[(CheckId, About)] = &[
    (CheckId::DockerCommand, about(
        "A docker client (DOCKER_COMMAND, else docker, else podman) is on PATH; one found only in the current folder is never run.",
        &[("no docker client, but containerd (nerdctl, crictl, ctr or its socket) is the runtime that would pull", "the docker checks are skipped; registry.containerd_hosts reads containerd's own routing for the login server")],
        &[E::DockerCommandError],
    )),
    (CheckId::DockerDaemon, about(
        "The client reaches its daemon (docker version names a server; for local podman, podman ps works).",
        &[],
        &[E::DockerDaemonError],
    )),
    (CheckId::DockerVersion, about(
        "The client's version, build and platform, as az prints them; the daemon's version as a detail.",
        &[],
        &[E::DockerVersionError],
    )),
    (CheckId::DockerPull, about(
        "The daemon pulls mcr.microsoft.com/mcr/hello-world:latest (only with --yes or a y at the prompt).",
        &[
            ("no terminal to ask and no --yes", "pass --yes (-y) to include the pull"),
            ("the image is for another platform", "the pull works; the daemon runs another platform's containers (Windows containers mode)"),
        ],
        &[E::DockerPullError],
    )),
    (CheckId::CliVersion, about("The acr-health version.", &[], &[])),
    (CheckId::Arm, about(
        "Resource Manager finds the registry (subscription from --subscription, AZURE_SUBSCRIPTION_ID or az's default): its real login server, network rules, data and regional endpoints, replicas and encryption identity.",
        &[
            ("Resource Manager was not used or did not answer (no subscription, no token, 403, not found)", "the checks that need its facts are skipped; give the identity Reader on the registry, or pass --subscription / -g"),
            ("the registry refuses Resource Manager-audience Azure AD tokens (policies.azureADAuthenticationAsArmPolicy disabled)", "clients that exchange such a token are refused (older AKS kubelet credential providers, App Service and Container Apps pulls): give them a token for https://containerregistry.azure.net, or enable the policy with az acr config authentication-as-arm update --status enabled"),
        ],
        &[],
    )),
    (CheckId::LoginServer, about(
        "A login server to check: --login-server, else Resource Manager's loginServer (which may carry a hash suffix), else the name and the cloud's suffix.",
        &[],
        &[E::LoginServerError],
    )),
    (CheckId::Dns, about(
        "The login server resolves: every address, the CNAME chain, privatelink and private-address notes, and whether the operating system's resolver agrees.",
        &[
            ("the operating system's resolver answers other addresses, or fails while the DNS servers answer", "docker and other programs may reach a different place: look for a hosts entry, a VPN resolver or split DNS"),
            ("only the operating system's resolver finds the name", "programs that ask the DNS servers of /etc/resolv.conf themselves may not find the registry: add the name to those servers"),
            ("the name fails here but HTTPS_PROXY carries the traffic", "the proxy resolves names itself; tools that bypass the proxy still fail"),
        ],
        &[E::ConnectivityDnsError],
    )),
    (CheckId::Tls, about(
        "TCP and TLS to the registry (directly or through HTTPS_PROXY): the TLS version and the certificate's subject, issuer, names and validity; with IPv4 and IPv6 addresses, one of each is connected to alongside.",
        &[
            ("one IP family fails while the other works", "pulls stall or fail depending on the family the runtime tries first: fix the failing family's route or firewall, or stop publishing its addresses"),
            ("az would not verify TLS (AZURE_CLI_DISABLE_CONNECTION_VERIFICATION)", "docker verifies: trust the registry's certificate chain instead"),
        ],
        &[E::ConnectivitySslError, E::ConnectivityChallengeError],
    )),
    (CheckId::Challenge, about(
        "GET /v2/ answers 401 with a Bearer challenge whose realm is the login server itself.",
        &[("this machine's clock is minutes away from the registry's Date header", "tokens look expired or not yet valid: set the clock (NTP)")],
        &[E::ConnectivityForbiddenError, E::ConnectivityChallengeError, E::ConnectivityAadLoginError],
    )),
    (CheckId::RefreshToken, about(
        "An Azure AD token (the credential used is named) is exchanged at the login server for a refresh token; Azure AD's AADSTS refusals are explained.",
        &[("the Azure AD token's nbf or exp puts this machine's clock minutes off", "set the clock (NTP)")],
        &[E::ConnectivityRefreshTokenError, E::ConnectivityTooManyRequestsError, E::CredentialNotFoundError],
    )),
    (CheckId::AccessToken, about(
        "An access token for registry:catalog:*, or with --repository the pull, push, delete and metadata actions it grants.",
        &[],
        &[E::ConnectivityAccessTokenError, E::ConnectivityTooManyRequestsError],
    )),
    (CheckId::DockerCredential, about(
        "The credential docker pull itself will send for the login server: config.json's credHelpers, credsStore or auths ($DOCKER_CONFIG), or podman's auth file.",
        &[
            ("no credential for the login server", "run az acr login -n <registry>, or docker login <login server>"),
            ("the named helper (docker-credential-<name>) is not on PATH, fails, or has no entry", "install the helper, or log in again so that it stores one"),
            ("a stored token has expired", "run az acr login again: its refresh token lasts about three hours"),
            ("a token is stored under a user other than 00000000-0000-0000-0000-000000000000", "ACR tokens go with that user: log in again with az acr login"),
        ],
        &[],
    )),
    (CheckId::DockerDaemonNetwork, about(
        "The docker daemon's own network settings from docker info: it pulls, not this shell.",
        &[
            ("the daemon pulls through a proxy this shell does not use, or the other way round", "the checks above took another path than the pull will: align the daemon's proxy (a systemd drop-in for docker.service) with the shell's"),
            ("the daemon's NO_PROXY covers the login server but not the storage or data endpoints", "add the data endpoints or *.blob.core.windows.net to it, or remove the login server"),
            ("the daemon lists the login server as an insecure registry or a mirror", "remove it from daemon.json unless that is meant"),
        ],
        &[],
    )),
    (CheckId::ContainerdHosts, about(
        "containerd's registry host configuration for the login server (hosts.toml under config_path, or the older registry.mirrors table): what kubelet on AKS nodes, nerdctl and crictl pull with.",
        &[
            ("a mirror or another server receives the pull first", "make sure it serves the registry's content, or remove it"),
            ("certificate checks are skipped (skip_verify)", "trust the registry's CA instead"),
            ("containerd cannot parse the file", "fix the file: containerd ignores it"),
        ],
        &[],
    )),
    (CheckId::Image, about(
        "With --image: the manifest and the smallest layer can be fetched, following the redirect to the data endpoint or storage; an index must have this machine's platform (or --platform); a missing tag is told from a permission problem.",
        &[],
        &[E::ImagePullError],
    )),
    (CheckId::DaemonPull, about(
        "With --image and --yes: the docker daemon pulls <login server>/<repository>:<tag> itself, with its own credential, proxy and trust; an image it added is removed again.",
        &[],
        &[
            E::ConnectivityAccessTokenError,
            E::ImagePullError,
            E::ConnectivitySslError,
            E::ConnectivityChallengeError,
            E::ConnectivityTooManyRequestsError,
            E::ConnectivityForbiddenError,
            E::ConnectivityDnsError,
            E::DockerPullError,
        ],
    )),
    (CheckId::PrivateEndpoint, about(
        "With --vnet: DNS routes each FQDN of the registry's private endpoint in that virtual network to its private IP.",
        &[],
        &[E::ConnectivityDnsError],
    )),
    (CheckId::DataEndpoints, about(
        "Each dedicated data endpoint resolves, accepts TLS for its name and answers GET / with 403.",
        &[],
        &[E::DataEndpointError],
    )),
    (CheckId::Replicas, about(
        "With geo-replication: every replica is Succeeded and Ready, and which replica the DNS chain points this machine at.",
        &[("a replica is not Succeeded and Ready", "pulls routed to it fail or see stale content: look at az acr replication show, or disable its region endpoint until it recovers")],
        &[],
    )),
    (CheckId::RegionalEndpoints, about(
        "With regional endpoints enabled: each replica's own login server (<name>.<region>.geo.azurecr.io) resolves, accepts TLS and challenges GET /v2/.",
        &[("a regional endpoint is not reachable from here", "clients pinned to it (docker login to it, az acr login --all-endpoints, failover lists) fail though the global login server works: allow it through DNS, firewalls and proxies")],
        &[],
    )),
    (CheckId::Cmk, about(
        "The identity the customer-managed key uses exists (system-assigned, or the user-assigned identity with that client id).",
        &[],
        &[E::CmkError],
    )),
    (CheckId::HelmCommand, about("A Helm client is on PATH.", &[], &[E::HelmCommandError])),
    (CheckId::HelmVersion, about(
        "Helm is 2.11.0 or newer (Helm 2 and Helm 3 output).",
        &[],
        &[E::HelmVersionError],
    )),
    (CheckId::NotaryVersion, about(
        "An installed Notary is older than 0.6.0 (absent is fine).",
        &[("notary prints no readable version (Debian's build)", "nothing to do unless you sign with Docker Content Trust")],
        &[E::NotaryVersionError],
    )),
];

/// What `id` proves, warns about and fails with.
pub fn about_check(id: CheckId) -> &'static About {
    ABOUT
        .iter()
        .find(|(c, _)| *c == id)
        .map(|(_, a)| a)
        .expect("every check is explained")
}
