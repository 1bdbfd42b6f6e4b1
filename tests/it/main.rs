//! The integration tests: one binary, one module per concern, all driving
//! the real binary (`tests/real_daemon.rs`, which needs root and a docker
//! daemon, is apart).

// Test helpers are `pub` for the modules beside them, not for a public API.
#![allow(unreachable_pub)]

mod common;

mod architecture;
mod arm;
mod az_compat;
mod beyond_az;
mod bounded;
mod catalogue;
mod cli;
mod deploy;
mod docs;
mod environment;
mod help;
mod hints;
mod hostile;
mod node;
mod output;
mod real_credentials;
mod registry;
mod short_secrets;
mod untrusted_output;
mod where_credentials_go;
