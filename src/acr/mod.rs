//! The registry's own protocol: the `/v2/` challenge, ACR error bodies, the
//! token endpoints and the tokens they return.

pub mod challenge;
pub mod error_body;
pub mod token;
