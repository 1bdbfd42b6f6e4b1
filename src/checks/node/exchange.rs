//! `node.exchange`: the kubelet identity's token exchanged at the registry
//! as the credential provider exchanges it (`grant_type=
//! access_token_refresh_token`, the tenant of `azure.json`). The work is
//! the registry walk's refresh step, done the provider's way
//! (`registry::refresh_token::Exchange::Kubelet`).

use crate::check_spec::{CheckSpec, Planned};
use crate::codes::ErrorCode;

/// The `node.exchange` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "node.exchange",
    title: "Kubelet token exchange",
    proves: "With --kubelet and a managed identity: the registry exchanges the kubelet \
        identity's token for a refresh token, with the credential provider's parameters \
        (grant_type access_token_refresh_token, the tenant of azure.json).",
    warnings: &[],
    codes: &[
        ErrorCode::ConnectivityRefreshTokenError,
        ErrorCode::ConnectivityTooManyRequestsError,
    ],
    planned: Planned::OnNode,
};
