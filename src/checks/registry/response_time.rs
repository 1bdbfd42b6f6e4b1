//! How long the registry took to answer `GET /v2/` (the challenge request,
//! on the connection the TLS check opened): one round trip and the
//! registry's own work. A slow answer there makes
//! every pull slow (a pull asks the registry again for each manifest and
//! blob) and is what clients with short timeouts give up on.

use crate::check_spec::{warning, CheckSpec, Planned};
use crate::checks::{CheckId, CheckResult};
use crate::duration::format_duration;
use std::time::Duration;

/// The `registry.response_time` check.
pub(crate) const CHECK: CheckSpec = CheckSpec {
    key: "registry.response_time",
    title: "Registry response time",
    proves: "The registry answered GET /v2/ within a second (the challenge request's own time: \
        no request of its own).",
    warnings: &[warning(
        "the answer took a second or more",
        "pulls will be slow and clients with short timeouts may give up: look for a proxy or TLS \
            inspection on the way, pull from a geo-replica near this machine, or check Azure's \
            status for the registry's region",
    )],
    codes: &[],
    planned: Planned::WithRegistry,
};

/// An answer slower than this is worth a warning: a healthy registry
/// answers `/v2/` in tens of milliseconds, a distant region in a few
/// hundred.
const SLOW: Duration = Duration::from_secs(1);

/// The `registry.response_time` check, from the time the challenge step
/// took for `login_server`.
pub(crate) fn check(login_server: &str, took: Duration) -> CheckResult {
    let id = CheckId::RegistryResponseTime;
    let shown = format_duration(took);
    let r = match took < SLOW {
        true => CheckResult::pass(
            id,
            format!("Registry '{login_server}' answered GET /v2/ in {shown} : OK"),
        ),
        false => CheckResult::warn(
            id,
            format!(
                "Registry '{login_server}' took {shown} to answer GET /v2/ (more than {}): pulls \
                    from here will be slow.",
                format_duration(SLOW)
            ),
        ),
    };
    let mut r = r.with_detail("response_ms", took.as_millis() as u64);
    r.duration = Some(took);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    #[test]
    fn a_second_or_more_is_a_warning() {
        let fast = check("r.azurecr.io", Duration::from_millis(40));
        assert_eq!(fast.status, Status::Pass);
        assert!(fast.message.contains("in 40ms"), "{}", fast.message);
        let slow = check("r.azurecr.io", Duration::from_millis(1500));
        assert_eq!(slow.status, Status::Warn);
        assert!(slow.message.contains("took 1.5s"), "{}", slow.message);
    }
}
