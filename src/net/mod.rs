//! The network layer: name resolution, TCP and TLS connections, HTTP
//! requests. One HTTP stack (hyper) and one TLS stack (rustls).

pub(crate) mod connection;
pub(crate) mod dns;
pub(crate) mod error;
pub(crate) mod http_date;
pub(crate) mod https_client;
pub(crate) mod lenient_eof;
pub(crate) mod origin;
pub(crate) mod proxy;
pub(crate) mod tcp;
pub(crate) mod tls;
