//! Dedicated data endpoints: each must resolve, accept TLS for its name and
//! answer an anonymous `GET /` with 403 as ACR's data endpoints do.

use crate::check_spec::{CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::codes::ErrorCode;
use crate::net::connection::{self, Dial};
use crate::target::parse_login_server;

/// The `registry.data_endpoints` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.data_endpoints",
    title: "Data endpoints",
    proves: "Each dedicated data endpoint resolves, accepts TLS for its name and answers GET / \
        with 403.",
    warnings: &[],
    codes: &[ErrorCode::DataEndpointError],
    planned: Planned::WithRegistry,
};

/// One anonymous `GET path` on a connection of its own to `host_port`
/// (DNS, TCP, TLS for that name), or why it got no answer.
pub(super) async fn get(
    host_port: &str,
    path: &str,
    dial: &Dial<'_>,
) -> Result<connection::Response, String> {
    let (host, port) = parse_login_server(host_port)?;
    let mut conn = connection::open(&host, port, dial)
        .await
        .map_err(|e| e.to_string())?;
    conn.send(http::Method::GET, path, &[], None, dial.timeout)
        .await
        .map_err(|e| e.to_string())
}

async fn probe(host_port: &str, dial: &Dial<'_>) -> Result<(), String> {
    let r = get(host_port, "/", dial).await?;
    if r.status == 403 {
        Ok(())
    } else {
        Err(format!(
            "GET / answered {} instead of 403: something other than a data endpoint answers",
            r.status
        ))
    }
}

pub(crate) async fn check(hosts: &[String], dial: &Dial<'_>) -> CheckResult {
    let id = CheckId::RegistryDataEndpoints;
    let mut failures = Vec::new();
    for host in hosts {
        if let Err(why) = probe(host, dial).await {
            failures.push(format!(
                "Data endpoint '{}': {why}",
                crate::untrusted::inline(host)
            ));
        }
    }
    if failures.is_empty() {
        CheckResult::pass(id, format!("Data endpoints {} : OK", hosts.join(", ")))
    } else {
        CheckResult::fail(id, ErrorCode::DataEndpointError, failures.join("\n"))
    }
    .with_detail("hosts", hosts.to_vec())
}
