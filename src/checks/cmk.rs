//! Customer-managed key: the identity the registry's encryption uses must exist.

use super::CheckId;
use crate::report::CheckResult;

/// The registry's encryption settings come from Azure Resource Manager,
/// which this version does not read; the check is reported as not run.
pub fn check() -> CheckResult {
    CheckResult::skip(
        CheckId::Cmk,
        "needs the registry's properties from Azure Resource Manager, which are not read",
    )
}
