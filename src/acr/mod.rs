//! The registry's own protocol: the `/v2/` challenge, ACR error bodies, the
//! token endpoints and the tokens they return.

pub(crate) mod actions;
pub mod error_body;
pub(crate) mod manifest;
pub(crate) mod token;
pub mod www_authenticate;
