//! TCP connections: the first of several addresses that accepts, and I/O
//! failures in words.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::ConnectionReset => "connection reset by peer".into(),
        K::ConnectionAborted => "connection aborted".into(),
        K::TimedOut => "timed out".into(),
        K::UnexpectedEof => "connection closed by the server".into(),
        _ => e.to_string(),
    }
}

/// Connects to the first of `addrs` that accepts, each within `timeout`.
pub async fn tcp_connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, String> {
    let mut failures = Vec::new();
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) => failures.push(format!("{addr}: {}", describe_io(&e))),
            Err(_) => failures.push(format!(
                "{addr}: timed out after {}",
                crate::duration::format_duration(timeout)
            )),
        }
    }
    if failures.is_empty() {
        return Err("no address to connect to".into());
    }
    Err(format!("TCP connection failed ({})", failures.join("; ")))
}
