//! Azure: clouds, the Azure CLI's configuration, credentials.

pub mod aadsts;
pub mod arm;
pub mod auth;
pub mod az_cache;
pub mod az_config;
pub mod cloud;
pub mod credential;
pub mod documents;
pub mod imds;
pub mod transport;
