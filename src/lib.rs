//! acr-health: health checks for Azure Container Registry clients.

pub mod acr;
pub mod azure;
pub mod check_spec;
pub mod checks;
pub mod cli;
pub mod codes;
pub mod config;
pub mod debug;
pub mod duration;
pub mod env;
pub mod input_file;
pub mod net;
pub mod pipeline;
pub mod process;
pub mod render;
pub mod report;
pub mod secret;
pub mod target;
pub mod untrusted;
