//! Regional endpoints: with `regionalEndpoints` enabled every replica also
//! answers as its own login server, `<name>.<region>.geo.azurecr.io`, which
//! clients pin to for predictable routing or client-side failover. Each
//! must resolve, accept TLS for its name and challenge `GET /v2/` as the
//! login server does; all are asked at the same time.

use crate::acr::www_authenticate;
use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::CheckId;
use crate::checks::CheckResult;
use crate::net::connection::Dial;
use crate::untrusted::inline;

/// The `registry.regional_endpoints` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.regional_endpoints",
    title: "Regional endpoints",
    proves: "With regional endpoints enabled: each replica's own login server \
        (<name>.<region>.geo.azurecr.io) resolves, accepts TLS and challenges GET /v2/.",
    warnings: &[warning(
        "a regional endpoint is not reachable from here",
        "clients pinned to it \
        (docker login to it, az acr login --all-endpoints, failover lists) fail though the global \
        login server works: allow it through DNS, firewalls and proxies",
    )],
    codes: &[],
    planned: Planned::WithRegistry,
};

async fn probe(host_port: &str, dial: &Dial<'_>) -> Result<(), String> {
    let r = super::data_endpoints::get(host_port, "/v2/", dial).await?;
    let bearer = r
        .headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .flat_map(|h| www_authenticate::parse(&h))
        .any(|c| c.scheme == "bearer" && c.param("realm").is_some());
    match r.status {
        401 if bearer => Ok(()),
        401 => Err("GET /v2/ answered 401 without a Bearer challenge".into()),
        403 => Err(
            "GET /v2/ answered 403 Forbidden: the registry's firewall or a network rule \
            refuses this client there"
                .into(),
        ),
        status => Err(format!(
            "GET /v2/ answered {status} instead of a 401 challenge"
        )),
    }
}

/// Most regional endpoints probed at once: one per replica region, which
/// is a handful; a longer list from Resource Manager is cut, and said so.
const MAX_PROBED: usize = 16;

pub(crate) async fn check(hosts: &[String], dial: &Dial<'_>) -> CheckResult {
    let id = CheckId::RegistryRegionalEndpoints;
    let (hosts, left_out) = hosts.split_at(hosts.len().min(MAX_PROBED));
    let answers = futures_util::future::join_all(hosts.iter().map(|host| probe(host, dial))).await;
    let failures: Vec<String> = hosts
        .iter()
        .zip(answers)
        .filter_map(|(host, answer)| {
            let why = answer.err()?;
            Some(format!("'{}': {why}", inline(host).shown()))
        })
        .collect();
    let r = if failures.is_empty() {
        CheckResult::pass(id, format!("Regional endpoints {} : OK", hosts.join(", ")))
    } else {
        let mut w = CheckResult::warn(
            id,
            format!(
                "Regional endpoint {} is not reachable from here: clients that log in to it or \
                    pull from it by name (docker login, az acr login --all-endpoints, a failover \
                    list) fail, though the global login server works.",
                failures[0]
            ),
        );
        for more in &failures[1..] {
            w = w.with_note(format!("regional endpoint {more}"));
        }
        w
    };
    let r = if left_out.is_empty() {
        r
    } else {
        r.with_note(format!(
            "{} more regional endpoints were not probed",
            left_out.len()
        ))
    };
    r.with_detail("hosts", hosts.to_vec())
}
