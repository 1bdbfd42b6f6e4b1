//! The checks, one module per concern, and the context they run in.

pub mod arm;
pub mod challenge;
pub mod cmk;
pub mod containerd;
pub mod containerd_hosts;
pub mod ctx;
pub mod daemon_pull;
pub mod data_endpoints;
pub mod dns;
pub mod docker;
pub mod docker_credential;
pub mod docker_daemon;
pub mod helm;
pub mod image;
pub mod ip_families;
pub mod login_server;
pub mod notary;
pub mod own_version;
pub mod private_endpoint;
pub mod regional_endpoints;
pub mod registry_chain;
pub mod replicas;
pub mod tls;
pub mod token;
pub mod tool_version;

pub use crate::check_id::CheckId;
pub use ctx::Ctx;
