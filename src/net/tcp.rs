//! TCP connections: the first of several addresses that accepts.

use super::error::{AttemptFailure, IoFailure, TcpError};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

/// Connects to the first of `addrs` that accepts, each within `timeout`.
pub(crate) async fn tcp_connect(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<TcpStream, TcpError> {
    let mut failures = Vec::new();
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) => failures.push((*addr, AttemptFailure::Io(IoFailure::from(&e)))),
            Err(_) => failures.push((*addr, AttemptFailure::TimedOut(timeout))),
        }
    }
    if failures.is_empty() {
        return Err(TcpError::NoAddress);
    }
    Err(TcpError::Failed(failures))
}
