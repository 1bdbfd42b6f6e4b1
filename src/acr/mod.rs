//! The registry's own protocol: the `/v2/` challenge, ACR error bodies, the
//! token endpoints and the tokens they return.

pub mod actions;
pub mod error_body;
pub mod manifest;
pub mod token;
pub mod www_authenticate;
