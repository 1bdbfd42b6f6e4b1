//! The credential sources a run can use, as `--auth` names them.

/// Which credential source `--auth` selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AuthSource {
    /// The first source that works, in the order below.
    Auto,
    /// --username and --password (admin user or ACR token).
    Password,
    /// AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID.
    ServicePrincipal,
    /// AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE.
    WorkloadIdentity,
    /// The Azure CLI's login (az login).
    AzCli,
    /// The managed identity of this Azure host.
    ManagedIdentity,
}

impl AuthSource {
    pub(crate) fn label(self) -> &'static str {
        match self {
            AuthSource::Auto => "auto",
            AuthSource::Password => "username and password",
            AuthSource::ServicePrincipal => "service principal (AZURE_CLIENT_SECRET)",
            AuthSource::WorkloadIdentity => "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
            AuthSource::AzCli => "Azure CLI login",
            AuthSource::ManagedIdentity => "managed identity",
        }
    }
}
