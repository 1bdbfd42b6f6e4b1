//! Plain TCP helpers on 127.0.0.1: a one-answer HTTP server (managed identity
//! endpoints are plain HTTP) and an HTTP CONNECT proxy.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// The request line and headers of each request.
pub type Log = Arc<Mutex<Vec<String>>>;

/// An HTTP server answering every request with `status` and `body`.
pub fn http_server(status: u16, body: &'static str) -> (SocketAddr, Log) {
    http_server_with(move |_| (status, body.to_string()))
}

/// An HTTP CONNECT proxy that tunnels every CONNECT to 127.0.0.1 on the
/// requested port, logging the CONNECT lines.
pub fn connect_proxy() -> (SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let l = log.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let l = l.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut first = String::new();
                reader.read_line(&mut first).unwrap_or(0);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                l.lock().unwrap().push(first.trim().to_string());
                let port = first
                    .split_whitespace()
                    .nth(1)
                    .and_then(|t| t.rsplit(':').next())
                    .and_then(|p| p.parse::<u16>().ok());
                let mut client = client;
                let Some(upstream) = port.and_then(|p| TcpStream::connect(("127.0.0.1", p)).ok())
                else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
                    return;
                };
                let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let (mut c1, mut u1) = (client, upstream);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut u2);
                    let _ = u2.shutdown(std::net::Shutdown::Write);
                });
                let mut buf = [0u8; 16384];
                while let Ok(n) = u1.read(&mut buf) {
                    if n == 0 || c1.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = c1.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (addr, log)
}

/// An HTTP server answering each request with what `answer` makes of its
/// request line (`GET /path?query HTTP/1.1`): a status and a JSON body.
pub fn http_server_with(
    answer: impl Fn(&str) -> (u16, String) + Send + 'static,
) -> (SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let l = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let (status, body) = answer(head.lines().next().unwrap_or_default());
            l.lock().unwrap().push(head);
            let mut s = stream;
            let _ = write!(s, "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    (addr, log)
}
