//! Credentials go only where they belong, and connections are used as a
//! hostile network would not expect: addresses Resource Manager hands back
//! are followed only on its own origin, a proxy carries the run when DNS
//! fails here, IPv6 literals are bracketed, a connection whose body was cut
//! off is never reused, and blob redirects stay credential-free.
#![cfg(unix)]

use crate::common::acr::*;
use crate::common::pki::Ca;
use crate::common::server::{HttpsServer, Reply, Request};
use serde_json::json;
use std::sync::Arc;

/// A second HTTPS server on loopback, trusted like the registry, that
/// records whatever reaches it.
fn decoy(ca: &Ca) -> HttpsServer {
    HttpsServer::start(
        ca.issue(&["127.0.0.1"]),
        "decoy",
        Arc::new(|_: &Request| Some(Reply::json(200, r#"{"value":[]}"#))),
    )
}

fn assert_untouched(decoy: &HttpsServer) {
    let seen: Vec<_> = decoy.requests().iter().map(|r| r.headers.clone()).collect();
    assert!(
        !seen.iter().flatten().any(|(k, _)| k == "authorization"),
        "the decoy got a token: {seen:?}"
    );
}

#[test]
fn a_next_link_off_resource_manager_gets_no_token() {
    let ca = Ca::new("acr-health test root");
    let decoy = decoy(&ca);
    let d = decoy.port();
    for next in [
        format!("https://127.0.0.1:{d}/subscriptions/x/page2"),
        // Resource Manager's own host as user information, the decoy as host.
        "https://127.0.0.1:ARM@127.0.0.1:DECOY/page2".replace("DECOY", &d.to_string()),
        format!("http://127.0.0.1:{d}/page2"),
    ] {
        let cert = ca.issue(&[HOST, "127.0.0.1"]);
        let acr = FakeAcr::with_port_handler(Ca::new("unused"), cert, move |port| {
            let next = next.replace("ARM", &port.to_string());
            move |r: &Request| {
                r.path
                    .ends_with("/providers/Microsoft.ContainerRegistry/registries")
                    .then(|| Reply::json(200, &json!({"value": [], "nextLink": next}).to_string()))
            }
        });
        let mut args = acr.args();
        let at = args.iter().position(|a| a == "--ca-file").unwrap();
        args[at + 1] = ca.pem_file().display().to_string();
        let out = run_arm(&acr, &args);
        assert_untouched(&decoy);
        let arm = out.check("registry.arm");
        assert!(
            arm["message"]
                .as_str()
                .unwrap()
                .contains("it was not followed"),
            "{arm}"
        );
    }
    assert!(decoy.requests().is_empty(), "the decoy was asked at all");
}

/// Runs `args` with Resource Manager on this registry's server, as JSON.
fn run_arm(acr: &FakeAcr, args: &[String]) -> crate::common::Run {
    let cfg = acr.arm_config();
    let mut env = acr.sp_env();
    env.push(("AZURE_CONFIG_DIR".into(), cfg.path().display().to_string()));
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.push("--json");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = crate::common::run_with(&args, &acr.tools, &env);
    out.assert_no_secrets();
    out
}

#[test]
fn a_resource_id_that_is_not_a_path_gets_no_token() {
    let ca = Ca::new("acr-health test root");
    let decoy = decoy(&ca);
    let client = "aaaaaaaa-0000-0000-0000-000000000001";
    let id = format!("@127.0.0.1:{}/identity", decoy.port());
    let doc = registry_doc(
        json!({"encryption": {"status": "enabled", "keyVaultProperties": {"identity": client}}}),
        json!({"type": "UserAssigned", "userAssignedIdentities": {id: {"clientId": client}}}),
    );
    let cert = ca.issue(&[HOST, "127.0.0.1"]);
    let acr = FakeAcr::with_port_handler(Ca::new("unused"), cert, move |_| {
        arm_handler(vec![doc], vec![])
    });
    let mut args = acr.args();
    let at = args.iter().position(|a| a == "--ca-file").unwrap();
    args[at + 1] = ca.pem_file().display().to_string();
    let out = run_arm(&acr, &args);
    assert_untouched(&decoy);
    assert!(decoy.requests().is_empty());
    let cmk = out.check("registry.cmk");
    assert_eq!(cmk["status"], "warn", "{cmk}");
    assert!(
        cmk["message"]
            .as_str()
            .unwrap()
            .contains("is not a resource id"),
        "{cmk}"
    );
}

#[test]
fn a_realm_on_another_port_is_refused_and_named_with_its_port() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| {
            Reply::json(401, "{}").header(
                "www-authenticate",
                &format!(r#"Bearer realm="https://{HOST}:8443/oauth2/token",service="{HOST}""#),
            )
        })
    });
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        &format!("https://{HOST}:8443"),
    );
    assert!(acr.server.requests_to("/oauth2/exchange").is_empty());
}

#[test]
fn a_realm_with_user_information_is_refused() {
    let acr = FakeAcr::start(move |r| {
        (r.path == "/v2/").then(|| {
            let host = r.host();
            Reply::json(401, "{}").header(
                "www-authenticate",
                &format!(
                    r#"Bearer realm="https://{host}@127.0.0.1:9/oauth2/token",service="{HOST}""#
                ),
            )
        })
    });
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        "(user information)@127.0.0.1:9",
    );
}

#[test]
fn dns_failing_here_is_a_warning_when_the_proxy_resolves() {
    let acr = FakeAcr::healthy();
    acr.dns.go_silent();
    let (proxy, log) = crate::common::plain::connect_proxy();
    let mut env = acr.sp_env();
    env.push(("HTTPS_PROXY".into(), format!("http://{proxy}")));
    env.push(("NO_PROXY".into(), "127.0.0.1".into()));
    let out = acr.check_env(&["--json", "--timeout", "1"], &env);
    out.assert_code(0);
    assert_eq!(out.check("registry.dns")["status"], "warn");
    assert_eq!(out.check("registry.tls")["status"], "pass");
    assert_eq!(out.check("registry.access_token")["status"], "pass");
    assert_eq!(
        log.lock().unwrap()[0],
        format!("CONNECT {} HTTP/1.1", acr.login_server())
    );
}

#[test]
fn a_v2_body_cut_off_at_the_limit_does_not_spoil_the_next_request() {
    let big: &'static str = Box::leak("x".repeat(32 * 1024 * 1024).into_boxed_str());
    let acr = FakeAcr::start(move |r| {
        (r.path == "/v2/").then(|| {
            let host = r.host();
            Reply::new(401, big).header(
                "www-authenticate",
                &crate::common::server::bearer_challenge(&host),
            )
        })
    });
    for _ in 0..5 {
        let out = acr.check(&["--json"]);
        out.assert_code(0);
        assert_eq!(out.check("registry.refresh_token")["status"], "pass");
    }
}

#[test]
fn an_ipv6_login_server_is_bracketed_in_the_host_header_and_the_report() {
    let ca = Ca::new("acr-health test root");
    let cert = ca.issue(&["::1"]);
    let hosts: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let seen = hosts.clone();
    let addr = crate::common::server::raw_tls_server_on("[::1]:0", cert, move |s| {
        let head = crate::common::server::read_head(s);
        if let Some(h) = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("host:"))
        {
            seen.lock().unwrap().push(h[5..].trim().to_string());
        }
        use std::io::Write;
        let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    });
    let tools = crate::common::Tools::new();
    let ca_file = ca.pem_file();
    let out = crate::common::run_with(
        &[
            "check",
            "-n",
            "myregistry",
            "--login-server",
            &format!("[::1]:{}", addr.port()),
            "--ca-file",
            ca_file.to_str().unwrap(),
            "--skip",
            "environment",
            "--timeout",
            "3",
        ],
        &tools,
        &[],
    );
    let authority = format!("[::1]:{}", addr.port());
    assert_eq!(
        hosts.lock().unwrap().first(),
        Some(&authority),
        "{}",
        out.stdout
    );
    out.assert_text_has(&format!("GET https://{authority}/v2/ answered 404"));
}

#[test]
fn blob_redirects_relative_or_to_an_ip_literal_are_followed_without_the_token() {
    let manifest = format!(
        r#"{{"schemaVersion":2,"layers":[{{"digest":"sha256:{}","size":5}}]}}"#,
        "5".repeat(64)
    );
    let manifest: &'static str = Box::leak(manifest.into_boxed_str());
    for relative in [true, false] {
        let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |port| {
            move |r: &Request| {
                if r.path.starts_with("/v2/samples/app/manifests/") {
                    return Some(Reply::json(200, manifest));
                }
                if r.path.starts_with("/v2/samples/app/blobs/") {
                    let to = if relative {
                        "/storage/blob?sig=abc".to_string()
                    } else {
                        format!("https://127.0.0.1:{port}/storage/blob?sig=abc")
                    };
                    return Some(Reply::new(307, "").header("location", &to));
                }
                (r.path == "/storage/blob").then(|| Reply::new(200, "bytes"))
            }
        });
        let out = acr.check(&["--repository", "samples/app", "--image", "v1", "--json"]);
        out.assert_code(0);
        let blob = &acr.server.requests_to("/storage/blob");
        assert_eq!(blob.len(), 1, "relative: {relative}");
        assert!(
            !blob[0].headers.iter().any(|(k, _)| k == "authorization"),
            "the token went with the redirect (relative: {relative})"
        );
    }
}

#[test]
fn azure_ad_answering_html_is_described_by_what_came_back() {
    let acr = FakeAcr::start(|r| {
        r.path.ends_with("/oauth2/v2.0/token").then(|| {
            Reply::new(200, "<html><body>Sign in to the Wi-Fi</body></html>")
                .header("content-type", "text/html; charset=utf-8")
        })
    });
    acr.check(&[]).assert_code(1).assert_error_block(
        "CREDENTIAL_NOT_FOUND_ERROR",
        "answered 200 with text/html; charset=utf-8",
    );
    let acr = FakeAcr::start(|r| {
        r.path
            .ends_with("/oauth2/v2.0/token")
            .then(|| Reply::new(302, "").header("location", "https://portal.example/login?next=1"))
    });
    acr.check(&[]).assert_code(1).assert_error_block(
        "CREDENTIAL_NOT_FOUND_ERROR",
        "redirecting to https://portal.example",
    );
}

#[test]
fn a_login_server_from_resource_manager_outside_the_cloud_gets_no_token() {
    let ca = Ca::new("acr-health test root");
    let decoy = decoy(&ca);
    let elsewhere = format!("127.0.0.1:{}", decoy.port());
    let cert = ca.issue(&[HOST, "127.0.0.1"]);
    let acr = FakeAcr::with_port_handler(Ca::new("unused"), cert, move |_| {
        arm_handler(
            vec![registry_doc(json!({"loginServer": elsewhere}), json!(null))],
            vec![],
        )
    });
    let mut args = acr.args();
    let at = args.iter().position(|a| a == "--ca-file").unwrap();
    args[at + 1] = ca.pem_file().display().to_string();
    // Without --login-server, the name + suffix login server stands.
    let at = args.iter().position(|a| a == "--login-server").unwrap();
    args.drain(at..at + 2);
    let out = run_arm(&acr, &args);
    assert!(decoy.requests().is_empty(), "the decoy was asked");
    let ls = out.check("registry.login_server");
    assert!(
        ls["details"]["notes"]
            .to_string()
            .contains("is not a registry host of the"),
        "{ls}"
    );
    assert_eq!(out.json()["registry"]["login_server_source"], "suffix");
}

#[test]
fn no_azure_ad_token_goes_outside_the_clouds_registries_unless_allowed() {
    let acr = FakeAcr::healthy();
    // The same registry named by an address, not a registry of the cloud.
    let login_server = format!("127.0.0.1:{}", acr.server.port());
    let mut args = acr.args();
    let at = args.iter().position(|a| a == "--login-server").unwrap();
    args[at + 1] = login_server.clone();
    let run = |extra: &[&str]| {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(extra);
        let env = acr.sp_env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        crate::common::run_with(&all, &acr.tools, &env)
    };
    let exchanges = || {
        acr.server
            .requests()
            .iter()
            .filter(|r| r.path == "/oauth2/exchange")
            .count()
    };
    let out = run(&["--json"]);
    out.assert_code(0);
    let refresh = out.check("registry.refresh_token");
    assert_eq!(refresh["status"], "skip", "{refresh}");
    let why = refresh["message"].as_str().unwrap();
    assert!(
        why.contains("the Azure AD token goes only to registries of the AzureCloud cloud (*.azurecr.io), and 127.0.0.1 is not one; pass --allow-token-to 127.0.0.1"),
        "{why}"
    );
    assert_eq!(out.check("registry.access_token")["status"], "skip");
    assert_eq!(exchanges(), 0, "the token went to {login_server}");
    // Allowed by name: the token of the registry's own audience goes there.
    let out = run(&["--json", "--allow-token-to", "127.0.0.1"]);
    out.assert_code(0);
    assert_eq!(out.check("registry.refresh_token")["status"], "pass");
    assert_eq!(exchanges(), 1);
}
