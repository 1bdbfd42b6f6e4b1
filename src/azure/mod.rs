//! Azure: clouds, the Azure CLI's configuration, credentials.

pub(crate) mod aadsts;
pub(crate) mod arm;
pub(crate) mod auth;
pub(crate) mod az_cache;
pub(crate) mod az_config;
pub(crate) mod cloud;
pub(crate) mod credential;
pub(crate) mod documents;
pub(crate) mod imds;
pub(crate) mod transport;
