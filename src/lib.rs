//! acr-health: health checks for Azure Container Registry clients.
//!
//! The library is the command (`main`); its modules are private to it. The
//! parsers that read what servers and tools send are reachable for the
//! fuzz targets only (`fuzzing`).

mod acr;
mod app;
mod azure;
mod boundary_check;
mod check_spec;
mod checks;
mod cli;
mod codes;
mod config;
mod debug;
mod duration;
mod env;
mod help;
mod input_file;
mod net;
mod node;
mod pipeline;
mod process;
mod render;
mod report;
mod secret;
mod target;
mod untrusted;
mod usage_error;

pub use app::main;

/// What the fuzz targets feed with arbitrary bytes: the parsers of server
/// and tool output, and the output boundary.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::acr::error_body;
    pub use crate::acr::token::{jwt_claims, tenant_of, token_field};
    pub use crate::acr::www_authenticate;
    pub use crate::boundary_check::check as output_boundary;
    pub use crate::checks::environment::docker::parse_version_json;
    pub use crate::checks::environment::helm::parse_version as helm_version;
    pub use crate::checks::environment::notary::parse_version as notary_version;
    pub use crate::checks::environment::tool_version::ToolVersion;
    pub mod secret {
        pub use crate::secret::scrub_with;
    }
    pub mod untrusted {
        pub use crate::untrusted::{for_terminal, Untrusted};
    }
}
