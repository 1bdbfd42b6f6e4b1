//! Both IP families: when the login server has IPv4 and IPv6 addresses, a
//! TCP connection to one of each is tried at the same time as the TLS
//! check. One family failing while the other works makes pulls stall or
//! fail depending on which one the runtime tries first: a warning.

use crate::checks::CheckResult;
use crate::net::error::IoFailure;
use crate::report::Status;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How long a family may take to accept, at most.
const BOUND: Duration = Duration::from_secs(3);

/// The outcome of one connection per family, when there are two.
pub(crate) type Families = Vec<(IpAddr, Option<String>)>;

/// Connects to the first address of each family, in parallel; `None`
/// unless both families are there.
pub(crate) async fn probe(addrs: Vec<IpAddr>, port: u16, timeout: Duration) -> Option<Families> {
    let v4 = addrs.iter().find(|a| a.is_ipv4()).copied()?;
    let v6 = addrs.iter().find(|a| a.is_ipv6()).copied()?;
    let bound = timeout.min(BOUND);
    let one = |ip: IpAddr| async move {
        let connect = tokio::net::TcpStream::connect(SocketAddr::new(ip, port));
        let why = match tokio::time::timeout(bound, connect).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(IoFailure::from(&e).to_string()),
            Err(_) => Some(format!(
                "no answer within {}",
                crate::duration::format_duration(bound)
            )),
        };
        (ip, why)
    };
    let (a, b) = tokio::join!(one(v4), one(v6));
    Some(vec![a, b])
}

/// The TLS result with a warning when exactly one family failed.
pub(crate) fn attach(r: CheckResult, families: Option<Families>) -> CheckResult {
    let Some(families) = families else { return r };
    let failed: Vec<&(IpAddr, Option<String>)> =
        families.iter().filter(|(_, why)| why.is_some()).collect();
    let [(ip, Some(why))] = failed.as_slice() else {
        return r;
    };
    let (bad, good) = if ip.is_ipv6() {
        ("IPv6", "IPv4")
    } else {
        ("IPv4", "IPv6")
    };
    let note = format!(
        "{good} works but {bad} does not ({ip}: {why}): pulls stall or fail depending on which \
            family the container runtime tries first; fix {bad} routing, or disable it for this \
            host"
    );
    if r.status != Status::Pass {
        return r.with_note(note);
    }
    let line = format!("{} ({bad} to the registry fails)", r.message);
    r.into_warning(line).with_note(note)
}
