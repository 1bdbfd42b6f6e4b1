//! The network layer: name resolution, TCP and TLS connections, HTTP
//! requests. One HTTP stack (hyper) and one TLS stack (rustls).

pub mod connection;
pub mod dns;
pub mod error;
pub mod http_date;
pub mod https_client;
pub mod lenient_eof;
pub mod origin;
pub mod proxy;
pub mod tcp;
pub mod tls;
