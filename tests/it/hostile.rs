//! Broken and hostile servers: every one gets a clear failure, within the
//! timeout, and no secret goes where it should not.
#![cfg(unix)]

use crate::common::acr::*;
use crate::common::pki::Ca;
use crate::common::server::{raw_tcp_server, raw_tls_server, read_head, Reply};
use std::io::{Read, Write};

#[test]
fn a_response_that_stalls_mid_body_times_out() {
    let acr = FakeAcr::healthy();
    let cert = acr.ca.issue(&[HOST]);
    let addr = raw_tls_server(cert, |s| {
        read_head(s);
        let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 1000\r\nWWW-Authenticate: Bearer realm=\"x\"\r\n\r\nabc");
        let _ = s.flush();
        std::thread::sleep(std::time::Duration::from_secs(5));
    });
    let out = acr.check(&[
        "--login-server",
        &format!("{HOST}:{}", addr.port()),
        "--timeout",
        "1",
    ]);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        "no complete response within 1s",
    );
    assert!(out.elapsed.as_secs() < 5, "took {:?}", out.elapsed);
}

#[test]
fn a_server_that_never_finishes_the_handshake_times_out() {
    let acr = FakeAcr::healthy();
    let addr = raw_tcp_server(b"");
    // Accepts, reads the ClientHello, says nothing.
    let out = acr.check(&[
        "--login-server",
        &format!("{HOST}:{}", addr.port()),
        "--timeout",
        "1",
    ]);
    out.assert_code(1)
        .assert_error_block("CONNECTIVITY_SSL_ERROR", "did not complete within 1s");
}

#[test]
fn a_connection_reset_is_a_transport_failure() {
    let acr = FakeAcr::healthy();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        for tcp in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = (&tcp).read(&mut buf);
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: a valid socket and a correctly sized option value; closing with
            // linger 0 makes the kernel send a reset.
            unsafe {
                libc::setsockopt(
                    tcp.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    &linger as *const _ as *const libc::c_void,
                    size_of::<libc::linger>() as libc::socklen_t,
                );
            }
            drop(tcp);
        }
    });
    let out = acr.check(&["--login-server", &format!("{HOST}:{port}")]);
    out.assert_code(1)
        .assert_error_block("CONNECTIVITY_CHALLENGE_ERROR", "connection reset by peer");
}

#[test]
fn a_server_offering_only_old_tls_is_ssl_error() {
    let acr = FakeAcr::healthy();
    // What a TLS 1.0-only server answers a TLS 1.2/1.3 ClientHello: a fatal protocol_version alert.
    let addr = raw_tcp_server(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]);
    let out = acr.check(&["--login-server", &format!("{HOST}:{}", addr.port())]);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_SSL_ERROR",
        "protocol version alert: no TLS version in common",
    );
}

#[test]
fn a_self_signed_certificate_is_named_so() {
    let ca = Ca::new("acr-health test root");
    let self_signed = Ca::new(HOST);
    let cert = self_signed.issue_self(&[HOST]);
    let acr = FakeAcr::with_cert(ca, cert, |_| None);
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_SSL_ERROR", "self-signed certificate");
}

#[test]
fn redirects_of_v2_are_not_followed() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/")
            .then(|| Reply::new(302, "").header("location", "http://elsewhere.example/v2/"))
    });
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        "redirected (302) to http://elsewhere.example/v2/",
    );
    assert!(!acr.dns.asked().iter().any(|n| n.contains("elsewhere")));
}

#[test]
fn odd_www_authenticate_headers() {
    let bearer = |port: u16| {
        format!(r#"Bearer realm="https://{HOST}:{port}/oauth2/token",service="{HOST}""#)
    };
    // Several challenges in one header, Bearer second.
    let several = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |port| {
        move |r: &crate::common::server::Request| {
            (r.path == "/v2/").then(|| {
                Reply::new(401, "").header(
                    "www-authenticate",
                    &format!(r#"Basic realm="x", {}"#, bearer(port)),
                )
            })
        }
    });
    several.check(&[]).assert_code(0);
    // The same in two headers.
    let duplicated = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |port| {
        move |r: &crate::common::server::Request| {
            (r.path == "/v2/").then(|| {
                Reply::new(401, "")
                    .header("www-authenticate", r#"Basic realm="x""#)
                    .header("www-authenticate", &bearer(port))
            })
        }
    });
    duplicated.check(&[]).assert_code(0);
    // Unquoted values.
    let unquoted = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |port| {
        move |r: &crate::common::server::Request| {
            (r.path == "/v2/").then(|| {
                Reply::new(401, "").header(
                    "www-authenticate",
                    &format!("Bearer realm=https://{HOST}:{port}/oauth2/token,service={HOST}"),
                )
            })
        }
    });
    unquoted.check(&[]).assert_code(0);
    // Empty, and huge.
    let empty = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| Reply::new(401, "").header("www-authenticate", ""))
    });
    empty.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        "without a WWW-Authenticate header",
    );
    let huge = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| {
            Reply::new(401, "").header(
                "www-authenticate",
                &format!("Bearer x={}", "a".repeat(60_000)),
            )
        })
    });
    huge.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_AAD_LOGIN_ERROR", "without a realm or service");
}

#[test]
fn an_endless_body_is_cut_off_and_said_so() {
    let body: &'static str = Box::leak("x".repeat(3 * 1024 * 1024).into_boxed_str());
    let acr = FakeAcr::start(move |r| (r.path == "/v2/").then(|| Reply::new(200, body)));
    let out = acr.check(&[]);
    out.assert_code(1)
        .assert_error_block("CONNECTIVITY_CHALLENGE_ERROR", "answered 200, not 401");
    out.assert_stdout_has("cut off at 1 MiB");
}

#[test]
fn an_absurd_retry_after_is_called_so() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/oauth2/exchange")
            .then(|| Reply::json(429, "{}").header("retry-after", "99999999999"))
    });
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_TOOMANYREQUESTS_ERROR",
        "an implausibly long time",
    );
}

#[test]
fn an_aad_token_that_is_not_a_jwt_is_exchanged_without_a_tenant() {
    let acr = FakeAcr::start(|r| {
        r.path.ends_with("/oauth2/v2.0/token").then(|| {
            Reply::json(
                200,
                r#"{"token_type":"Bearer","expires_in":3599,"access_token":"opaque-SECRET-token"}"#,
            )
        })
    });
    acr.check(&[]).assert_code(0);
    let ex = &acr.server.requests_to("/oauth2/exchange")[0];
    assert_eq!(ex.form("tenant"), None);
    assert_eq!(
        ex.form("access_token").as_deref(),
        Some("opaque-SECRET-token")
    );
}

#[test]
fn a_ca_certificate_presented_as_the_servers_is_named_so_in_words() {
    let ca = Ca::new("acr-health test root");
    let cert = ca.as_server(&[HOST]);
    // Trusted (it is the --ca-file), and still refused: a CA certificate is
    // no server certificate.
    let acr = FakeAcr::with_cert(ca, cert, |_| None);
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_SSL_ERROR",
        "it is a CA certificate used as the server's own certificate",
    );
}

#[test]
fn a_challenge_with_bytes_beyond_ascii_is_still_read() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| {
            let challenge = format!(
                "{},error_description=\"café – non-ASCII\"",
                crate::common::server::bearer_challenge(&r.host())
            );
            Reply::json(401, "{}").header("www-authenticate", &challenge)
        })
    });
    acr.check(&[]).assert_code(0);
}

#[test]
fn a_body_ended_by_a_close_without_close_notify_is_whole() {
    let acr = FakeAcr::healthy();
    let cert = acr.ca.issue(&[HOST]);
    // HTTP/1.0, no length: the body ends where the server hangs up, and it
    // does so without a TLS close_notify, as many do.
    let addr = raw_tls_server(cert, |s| {
        read_head(s);
        let _ = s.write_all(b"HTTP/1.0 403 Forbidden\r\nContent-Type: application/json\r\n\r\n{\"errors\":[{\"code\":\"DENIED\",\"message\":\"client with IP '203.0.113.7' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.\"}]}");
        let _ = s.flush();
        let _ = s.sock.shutdown(std::net::Shutdown::Both);
    });
    let out = acr.check(&["--login-server", &format!("{HOST}:{}", addr.port())]);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_FORBIDDEN_ERROR",
        "The registry sees this client as 203.0.113.7",
    );
}
