//! Black-box tests of the registry checks against a fake ACR and Azure AD
//! over real HTTPS, and a real DNS server, all on 127.0.0.1.
#![cfg(unix)]

use crate::common::acr::*;
use crate::common::pki::{self, Ca};
use crate::common::server::{healthy, Reply, ACCESS_TOKEN, REFRESH_TOKEN, TENANT};
use crate::common::*;

#[test]
fn full_pass_prints_az_lines_and_uses_one_connection() {
    let acr = FakeAcr::healthy();
    let ls = acr.login_server();
    let out = acr.check(&[]);
    out.assert_code(0)
        .assert_stdout_has(&format!("DNS lookup to {HOST} at IP 127.0.0.1 : OK\n"))
        .assert_stdout_has(&format!("Challenge endpoint https://{ls}/v2/ : OK\n"))
        .assert_stdout_has(&format!("Fetch refresh token for registry '{ls}' : OK\n"))
        .assert_stdout_has(&format!("Fetch access token for registry '{ls}' : OK\n"))
        .assert_stdout_has("TLS 1.3");
    let exchange = acr.server.requests_to("/oauth2/exchange");
    assert_eq!(exchange.len(), 1);
    let ex = &exchange[0];
    assert_eq!(ex.form("grant_type").as_deref(), Some("access_token"));
    assert_eq!(ex.form("service").as_deref(), Some(HOST));
    assert_eq!(ex.form("tenant").as_deref(), Some(TENANT));
    assert_eq!(ex.form("access_token"), Some(server::aad_jwt(TENANT)));
    let token = &acr.server.requests_to("/oauth2/token")[0];
    assert_eq!(token.form("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(token.form("refresh_token").as_deref(), Some(REFRESH_TOKEN));
    assert_eq!(token.form("scope").as_deref(), Some("registry:catalog:*"));
    // The AAD token was asked for with the registry's scope.
    let aad = acr
        .server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .unwrap();
    assert_eq!(
        aad.form("scope").as_deref(),
        Some("https://containerregistry.azure.net/.default")
    );
    assert_eq!(
        acr.server.requests_to("/v2/").len(),
        1,
        "/v2/ asked more than once"
    );
    // One connection for the registry, one for Azure AD.
    assert_eq!(acr.server.connections(), 2);
    assert_eq!(
        acr.dns
            .asked()
            .iter()
            .filter(|n| n.as_str() == HOST)
            .count(),
        2,
        "one A and one AAAA query: {:?}",
        acr.dns.asked()
    );

    let json = acr.check(&["--json"]);
    json.assert_code(0);
    let report = json.json();
    assert_eq!(report["registry"]["login_server"], ls.as_str());
    assert_eq!(report["registry"]["login_server_source"], "flag");
    assert_eq!(
        json.check("registry.refresh_token")["details"]["credential"],
        "service principal (AZURE_CLIENT_SECRET)"
    );
    assert_eq!(json.check("registry.cmk")["status"], "skip");
}

#[test]
fn unknown_name_is_dns_error_naming_the_resolver_and_answer() {
    let acr = FakeAcr::healthy();
    let dns = dns::DnsServer::start(); // knows no names
    let out = acr.check(&["--dns-server", &dns.flag()]);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_DNS_ERROR",
        &format!(
            "the name does not exist (NXDOMAIN); asked DNS server {}",
            dns.flag()
        ),
    );
    assert!(acr.server.requests_to("/v2/").is_empty());
}

#[test]
fn a_dns_server_that_never_answers_times_out() {
    let acr = FakeAcr::healthy();
    acr.dns.go_silent();
    let out = acr.check(&["--timeout", "1"]);
    out.assert_code(1)
        .assert_error_block("CONNECTIVITY_DNS_ERROR", "timed out");
    assert!(out.elapsed.as_secs() < 8, "took {:?}", out.elapsed);
}

#[test]
fn privatelink_chain_is_reported() {
    let acr = FakeAcr::healthy();
    let dns = dns::DnsServer::start();
    dns.cname(HOST, "myregistry.privatelink.azurecr.io")
        .a("myregistry.privatelink.azurecr.io", "127.0.0.1");
    let out = acr.check(&["--dns-server", &dns.flag(), "--json"]);
    out.assert_code(0);
    let check = out.check("registry.dns");
    assert_eq!(
        check["details"]["cname_chain"],
        serde_json::json!(["myregistry.privatelink.azurecr.io"])
    );
    let notes = check["details"]["notes"].to_string();
    assert!(notes.contains("private endpoint"), "{notes}");
    let text = acr.check(&["--dns-server", &dns.flag()]);
    text.assert_stdout_has(&format!(
        "CNAME chain: {HOST} -> myregistry.privatelink.azurecr.io"
    ));
}

#[test]
fn certificate_from_an_untrusted_ca_is_ssl_error() {
    let trusted = Ca::new("acr-health test root");
    let other = Ca::new("Contoso Inspection CA");
    let cert = other.issue(&[HOST]);
    let acr = FakeAcr::with_cert(trusted, cert, |_| None);
    let out = acr.check(&[]);
    out.assert_code(1)
        .assert_error_block("CONNECTIVITY_SSL_ERROR", "unknown issuer")
        .assert_error_block("CONNECTIVITY_SSL_ERROR", "Contoso Inspection CA")
        .assert_error_block("CONNECTIVITY_SSL_ERROR", "TLS-inspecting proxy")
        .assert_error_block(
            "CONNECTIVITY_SSL_ERROR",
            "Presented certificate: subject 'CN=myregistry.azurecr.io'",
        );
    assert!(
        acr.server.requests().is_empty(),
        "a request went over an untrusted connection"
    );
}

#[test]
fn certificate_for_another_name_is_ssl_error() {
    let ca = Ca::new("acr-health test root");
    let cert = ca.issue(&["other.example.com"]);
    let acr = FakeAcr::with_cert(ca, cert, |_| None);
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_SSL_ERROR", "name mismatch");
}

#[test]
fn expired_certificate_is_ssl_error() {
    let ca = Ca::new("acr-health test root");
    let cert = ca.issue_with(&[HOST], pki::expired);
    let acr = FakeAcr::with_cert(ca, cert, |_| None);
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_SSL_ERROR", "has expired");
}

#[test]
fn ssl_cert_file_is_trusted_like_ca_file() {
    let acr = FakeAcr::healthy();
    let mut args = acr.args();
    let at = args.iter().position(|a| a == "--ca-file").unwrap();
    args.drain(at..at + 2);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut env = acr.sp_env();
    env.push((
        "SSL_CERT_FILE".into(),
        acr.ca.pem_file().display().to_string(),
    ));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run_with(&args, &acr.tools, &env).assert_code(0);
    // And without either, the test CA is not trusted.
    let bare: Vec<(&str, &str)> = env
        .iter()
        .filter(|(k, _)| *k != "SSL_CERT_FILE")
        .copied()
        .collect();
    run_with(&args, &acr.tools, &bare)
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_SSL_ERROR", "unknown issuer");
}

#[test]
fn refused_connection_is_challenge_error() {
    let acr = FakeAcr::healthy();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = acr.check(&["--login-server", &format!("{HOST}:{port}")]);
    out.assert_code(1)
        .assert_error_block("CONNECTIVITY_CHALLENGE_ERROR", "connection refused");
}

#[test]
fn a_registry_that_never_answers_is_challenge_error_within_the_timeout() {
    let acr = FakeAcr::start(|r| (r.path == "/v2/").then(Reply::stall));
    let out = acr.check(&["--timeout", "1"]);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        "no complete response within 1s",
    );
    assert!(out.elapsed.as_secs() < 8, "took {:?}", out.elapsed);
}

#[test]
fn a_slow_answer_to_v2_is_a_warning_with_its_time() {
    // A healthy registry: the challenge's own time, with no request of its own.
    let fast = FakeAcr::start(|_| None);
    let out = fast.check(&["--json"]);
    let check = out.check("registry.response_time");
    assert_eq!(check["status"], "pass", "{check}");
    assert!(check["details"]["response_ms"].as_u64().unwrap() < 1000);
    let v2_requests = fast
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/v2/")
        .count();
    assert_eq!(
        v2_requests, 1,
        "the time is the challenge's, not a request of its own"
    );
    // 1.2 s before the challenge answers.
    let slow = FakeAcr::start(|r| {
        let challenge = healthy(HOST, r).after(std::time::Duration::from_millis(1200));
        (r.path == "/v2/").then_some(challenge)
    });
    let out = slow.check(&["--json"]);
    out.assert_code(0);
    let check = out.check("registry.response_time");
    assert_eq!(check["status"], "warn", "{check}");
    // The time as measured (1.2s, or a little more on a busy machine).
    let message = check["message"].as_str().unwrap();
    let port = slow.server.addr.port();
    assert!(
        message.starts_with(&format!("Registry '{HOST}:{port}' took 1.")),
        "{message}"
    );
    assert!(
        message.ends_with("s to answer GET /v2/ (more than 1s): pulls from here will be slow."),
        "{message}"
    );
    slow.check(&[])
        .assert_stdout_has(&format!("Warning: Registry '{HOST}:"));
    let explained = run(&["explain", "response_time"], &Tools::new());
    explained.assert_stdout_has("geo-replica near this machine");
}

#[test]
fn firewall_denial_is_forbidden_with_the_client_ip() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| Reply::json(403, r#"{"errors":[{"code":"DENIED","message":"client with IP '203.0.113.7' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."}]}"#))
    });
    let out = acr.check(&[]);
    out.assert_code(1)
        .assert_error_block(
            "CONNECTIVITY_FORBIDDEN_ERROR",
            "The registry sees this client as 203.0.113.7",
        )
        .snapshot_report();
    let json = acr.check(&["--json"]);
    assert_eq!(
        json.check("registry.challenge")["details"]["client_ip"],
        "203.0.113.7"
    );
}

#[test]
fn no_challenge_is_challenge_error() {
    let acr = FakeAcr::start(|r| (r.path == "/v2/").then(|| Reply::new(200, "{}")));
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_CHALLENGE_ERROR", "answered 200, not 401");
    let acr = FakeAcr::start(|r| (r.path == "/v2/").then(|| Reply::new(401, "")));
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        "without a WWW-Authenticate header",
    );
    let acr =
        FakeAcr::start(|r| (r.path == "/v2/").then(|| Reply::new(502, "<html>Bad Gateway</html>")));
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        "answered 502, not 401. Body: <html>Bad Gateway</html>",
    );
}

#[test]
fn basic_or_incomplete_bearer_challenge_is_aad_login_error() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| {
            Reply::new(401, "").header("www-authenticate", r#"Basic realm="Registry Realm""#)
        })
    });
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_AAD_LOGIN_ERROR", "only basic authentication");
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| {
            Reply::new(401, "").header(
                "www-authenticate",
                r#"Bearer realm="https://x/oauth2/token""#,
            )
        })
    });
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_AAD_LOGIN_ERROR", "without a realm or service");
}

#[test]
fn a_realm_on_another_host_gets_no_credential() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| Reply::new(401, "").header("www-authenticate", r#"Bearer realm="https://login.attacker.example/oauth2/token",service="myregistry.azurecr.io""#))
    });
    let out = acr.check(&[]);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        "https://login.attacker.example",
    );
    assert!(acr.server.requests_to("/oauth2/exchange").is_empty());
    assert!(acr.server.requests_to("/oauth2/token").is_empty());
    assert!(
        !acr.dns.asked().iter().any(|n| n.contains("attacker")),
        "the realm host was looked up"
    );
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| {
            Reply::new(401, "").header(
                "www-authenticate",
                &format!(r#"Bearer realm="http://{HOST}/oauth2/token",service="{HOST}""#),
            )
        })
    });
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_CHALLENGE_ERROR", &format!("http://{HOST}"));
    assert!(acr.server.requests_to("/oauth2/exchange").is_empty());
}

#[test]
fn a_denied_exchange_is_refresh_token_error() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/oauth2/exchange").then(|| {
            Reply::json(
                401,
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            )
        })
    });
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_REFRESH_TOKEN_ERROR",
        &format!("Access to registry '{}' was denied. Response code: 401. Please check the service principal's role assignment on the registry (AcrPull) and its client secret.\nThe registry refused to issue a refresh token (HTTP 401). UNAUTHORIZED: authentication required", acr.login_server()),
    );
    let acr = FakeAcr::start(|r| {
        (r.path == "/oauth2/exchange").then(|| Reply::json(200, r#"{"error":"nope"}"#))
    });
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_REFRESH_TOKEN_ERROR", "no 'refresh_token'");
}

#[test]
fn a_denied_token_request_is_access_token_error() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/oauth2/token").then(|| Reply::json(403, r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#))
    });
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        &format!("Access to registry '{}' was denied. Response code: 403. Please check the service principal's role assignment on the registry (AcrPull) and its client secret.\nThe registry refused to issue an access token (HTTP 403). DENIED: requested access to the resource is denied", acr.login_server()),
    );
    let acr = FakeAcr::start(|r| (r.path == "/oauth2/token").then(|| Reply::new(200, "<html>")));
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_ACCESS_TOKEN_ERROR", "not JSON");
}

#[test]
fn throttling_is_too_many_requests_with_retry_after() {
    let acr = FakeAcr::start(|r| {
        (r.path == "/oauth2/exchange").then(|| {
            Reply::json(
                429,
                r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"too many requests"}]}"#,
            )
            .header("retry-after", "30")
        })
    });
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_TOOMANYREQUESTS_ERROR",
        "retry after 30 seconds (Retry-After: 30)",
    );
    let acr = FakeAcr::start(|r| (r.path == "/oauth2/token").then(|| Reply::json(429, "{}")));
    acr.check(&[])
        .assert_code(1)
        .assert_error_block("CONNECTIVITY_TOOMANYREQUESTS_ERROR", "no Retry-After");
}

#[test]
fn no_credential_is_credential_not_found_error() {
    let acr = FakeAcr::healthy();
    let out = acr.check_env(&[], &[]);
    out.assert_code(1);
    let block = out
        .stdout
        .split("An error occurred: CREDENTIAL_NOT_FOUND_ERROR\n")
        .nth(1)
        .expect(&out.stdout);
    assert!(block.contains("No Azure credential was found"), "{block}");
    assert!(
        block.contains("Potential solutions: Run az login"),
        "{block}"
    );
    assert!(acr.server.requests_to("/oauth2/exchange").is_empty());
    // The network checks still ran and passed.
    out.assert_stdout_has("Challenge endpoint https://");
}

#[test]
fn azure_cli_login_is_used_when_present() {
    let acr = FakeAcr::healthy();
    let token = server::aad_jwt(TENANT);
    let az_out = format!(
        r#"{{"accessToken":"{token}","expiresOn":"2099-01-01 00:00:00.000000","expires_on":4070908800,"subscription":"sub","tenant":"{TENANT}","tokenType":"Bearer"}}"#
    );
    acr.tools.add("az", &[answer("account", &az_out)]);
    let out = acr.check_env(&["--json"], &[]);
    out.assert_code(0);
    assert_eq!(
        out.check("registry.refresh_token")["details"]["credential"],
        "Azure CLI login"
    );
    let calls = acr.tools.calls("az");
    assert!(
        calls[0].starts_with(
            "account get-access-token -o json --scope https://containerregistry.azure.net/.default"
        ),
        "{calls:?}"
    );

    // Not logged in: the failure says so and names the source.
    let acr = FakeAcr::healthy();
    acr.tools.add(
        "az",
        &[failing(
            "account",
            "",
            "ERROR: Please run 'az login' to setup account.",
            1,
        )],
    );
    let out = acr.check_env(&[], &[]);
    out.assert_code(1).assert_error_block(
        "CREDENTIAL_NOT_FOUND_ERROR",
        "Azure CLI login: ERROR: Please run 'az login' to setup account.",
    );
}

#[test]
fn username_and_password_use_the_password_grant() {
    let acr = FakeAcr::healthy();
    let out = acr.check_env(
        &["--username", "myregistry", "--password", PASSWORD, "--json"],
        &[],
    );
    out.assert_code(0);
    assert_eq!(out.check("registry.refresh_token")["status"], "skip");
    let token = &acr.server.requests_to("/oauth2/token")[0];
    assert_eq!(token.form("grant_type").as_deref(), Some("password"));
    assert_eq!(token.form("username").as_deref(), Some("myregistry"));
    assert_eq!(token.form("password").as_deref(), Some(PASSWORD));
    assert!(acr.server.requests_to("/oauth2/exchange").is_empty());
}

#[test]
fn repository_scope_is_requested() {
    let acr = FakeAcr::healthy();
    acr.check(&["--repository", "samples/hello-world"])
        .assert_code(0);
    let token = &acr.server.requests_to("/oauth2/token")[0];
    assert_eq!(
        token.form("scope").as_deref(),
        Some("repository:samples/hello-world:pull,push,metadata_write,metadata_read,delete")
    );
}

#[test]
fn a_cloud_without_a_suffix_is_login_server_error() {
    let acr = FakeAcr::healthy();
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg.path().join("config"),
        "[cloud]\nname = AzureStackUser\n",
    )
    .unwrap();
    let dir = cfg.path().display().to_string();
    let args = [
        "check",
        "-n",
        REGISTRY,
        "--skip",
        "environment",
        "--dns-server",
        &acr.dns.flag(),
    ];
    let out = run_with(&args, &acr.tools, &[("AZURE_CONFIG_DIR", &dir)]);
    out.assert_code(1).assert_error_block(
        "LOGIN_SERVER_ERROR",
        "the cloud 'AzureStackUser' has no registry login server suffix",
    );
    assert!(
        acr.dns.asked().is_empty(),
        "DNS was asked without a login server"
    );
}

/// `check` with no registry named, so that az's default names it.
fn az_default_args(dns: &str) -> [&str; 8] {
    [
        "check",
        "--skip",
        "environment",
        "--dns-server",
        dns,
        "--json",
        "--timeout",
        "2",
    ]
}

#[test]
fn az_default_registry_and_cloud_are_used() {
    let acr = FakeAcr::healthy();
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg.path().join("config"),
        "[cloud]\nname = AzureChinaCloud\n[defaults]\nacr = chinareg1\n",
    )
    .unwrap();
    let dir = cfg.path().display().to_string();
    let dns = acr.dns.flag();
    let args = az_default_args(&dns);
    let out = run_with(&args, &acr.tools, &[("AZURE_CONFIG_DIR", &dir)]);
    let report = out.json();
    assert_eq!(report["registry"]["name"], "chinareg1");
    assert_eq!(report["registry"]["login_server"], "chinareg1.azurecr.cn");
    assert_eq!(report["registry"]["login_server_source"], "suffix");
    assert_eq!(
        acr.dns.asked().first().map(String::as_str),
        Some("chinareg1.azurecr.cn")
    );
    let out = run_with(
        &args,
        &acr.tools,
        &[
            ("AZURE_CONFIG_DIR", &dir),
            ("AZURE_DEFAULTS_ACR", "envreg1"),
        ],
    );
    assert_eq!(out.json()["registry"]["name"], "envreg1");
}

#[test]
fn az_settings_are_read_as_az_reads_them() {
    let acr = FakeAcr::healthy();
    // knack looks for local folders named as az's own folder is.
    let root = tempfile::tempdir().unwrap();
    let cfg = root.path().join(".azure");
    std::fs::create_dir(&cfg).unwrap();
    std::fs::write(cfg.join("config"), "[defaults]\nacr = globalreg\n").unwrap();
    let dir = cfg.display().to_string();
    // `az config set --local defaults.acr=…` in a parent of the working folder.
    let project = acr.tools.home.path().join("project");
    std::fs::create_dir_all(project.join(".azure")).unwrap();
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join(".azure/config"),
        "[defaults]\nacr = localreg\n",
    )
    .unwrap();
    let dns = acr.dns.flag();
    let args = az_default_args(&dns);
    let path = acr.tools.path().display().to_string();
    let name = |cwd: &std::path::Path, env: &[(&str, &str)]| {
        let mut env = env.to_vec();
        env.push(("AZURE_CONFIG_DIR", &dir));
        run_in(&args, cwd, &path, &env).json()["registry"].clone()
    };
    assert_eq!(name(&project.join("src"), &[])["name"], "localreg");
    assert_eq!(name(acr.tools.home.path(), &[])["name"], "globalreg");
    // An empty AZURE_DEFAULTS_ACR turns az's default off.
    let none = run_in(
        &["check", "--skip", "environment", "--json"],
        &project,
        &path,
        &[("AZURE_CONFIG_DIR", &dir), ("AZURE_DEFAULTS_ACR", "")],
    );
    assert!(none.json()["registry"].is_null(), "{}", none.stdout);
    // AZURE_CLOUD_NAME overrides `[cloud] name`.
    let china = name(
        acr.tools.home.path(),
        &[("AZURE_CLOUD_NAME", "AzureChinaCloud")],
    );
    assert_eq!(china["login_server"], "globalreg.azurecr.cn");

    // `[core] only_show_errors` in az's file, as AZURE_CORE_ONLY_SHOW_ERRORS.
    std::fs::write(cfg.join("config"), "[core]\nonly_show_errors = yes\n").unwrap();
    let tools = Tools::healthy();
    let quiet = run_with(&["check", "--yes"], &tools, &[("AZURE_CONFIG_DIR", &dir)]);
    quiet.assert_code(0);
    assert_eq!(quiet.stdout, "");
    let loud = run_with(
        &["check", "--yes"],
        &tools,
        &[
            ("AZURE_CONFIG_DIR", &dir),
            ("AZURE_CORE_ONLY_SHOW_ERRORS", "false"),
        ],
    );
    loud.assert_stdout_has("Docker daemon status: available");
}

#[test]
fn bad_registry_input_is_exit_2_without_traffic() {
    let acr = FakeAcr::healthy();
    let dns = acr.dns.flag();
    for (args, needle) in [
        (vec!["-n", "ab"], "must be between 5 and 50 characters"),
        (
            vec!["-n", "my_registry"],
            "may contain only alpha numeric characters",
        ),
        (
            vec!["-n", "myregistry.azurecr.cn"],
            "--cloud AzureChinaCloud",
        ),
        (
            vec![
                "-n",
                "myregistry",
                "--login-server",
                "https://myregistry.azurecr.io",
            ],
            "not a URL",
        ),
        (
            vec![
                "-n",
                "myregistry",
                "--login-server",
                "myregistry.azurecr.io/v2",
            ],
            "without a path",
        ),
        (
            vec!["-n", "myregistry", "--ca-file", "/nonexistent/ca.pem"],
            "cannot read /nonexistent/ca.pem",
        ),
        (
            vec!["-n", "myregistry", "--password", "x"],
            "--password needs --username",
        ),
        (
            vec!["-n", "myregistry", "--cloud", "Mars"],
            "unknown cloud 'Mars'",
        ),
        (
            vec!["-n", "myregistry", "--dns-server", "dns.example"],
            "not an IP address",
        ),
        (vec!["--dns-server", "127.0.0.1"], "needs a registry"),
    ] {
        let mut full = vec!["check", "--dns-server", &dns];
        if args.contains(&"--dns-server") {
            full.truncate(1);
        }
        full.extend(args.iter().copied());
        let out = run(&full, &acr.tools);
        out.assert_code(2);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
    assert!(
        acr.dns.asked().is_empty(),
        "bad input caused DNS traffic: {:?}",
        acr.dns.asked()
    );
    assert!(acr.server.requests().is_empty());
}

#[test]
fn login_server_given_as_name_is_trimmed_with_a_note() {
    let acr = FakeAcr::healthy();
    let dns = acr.dns.flag();
    let args = [
        "check",
        "-n",
        "MyRegistry.azurecr.io",
        "--skip",
        "environment",
        "--dns-server",
        &dns,
        "--json",
        "--timeout",
        "2",
    ];
    let out = run(&args, &acr.tools);
    let report = out.json();
    assert_eq!(report["registry"]["name"], "MyRegistry");
    assert_eq!(report["registry"]["login_server"], "myregistry.azurecr.io");
    let notes = out.check("registry.login_server")["details"]["notes"].to_string();
    assert!(
        notes.contains("is a login server; checking registry 'MyRegistry'"),
        "{notes}"
    );
}

#[test]
fn registry_report_follows_the_schema() {
    let acr = FakeAcr::start(|r| (r.path == "/oauth2/token").then(|| Reply::json(401, "{}")));
    let out = acr.check(&["--json", "--ignore-errors"]);
    out.assert_code(1);
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.v1.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let report = out.json();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let _ = ACCESS_TOKEN;
}

#[test]
fn workload_identity_federated_token_is_used() {
    let acr = FakeAcr::healthy();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "federated-assertion-SECRET-aa11").unwrap();
    let env: Vec<(String, String)> = vec![
        (
            "AZURE_AUTHORITY_HOST".into(),
            format!("https://127.0.0.1:{}", acr.server.port()),
        ),
        ("AZURE_TENANT_ID".into(), TENANT.into()),
        (
            "AZURE_CLIENT_ID".into(),
            "11111111-2222-3333-4444-555555555555".into(),
        ),
        (
            "AZURE_FEDERATED_TOKEN_FILE".into(),
            file.display().to_string(),
        ),
    ];
    let out = acr.check_env(&["--json"], &env);
    out.assert_code(0);
    assert!(!out.stdout.contains("federated-assertion"));
    assert_eq!(
        out.check("registry.refresh_token")["details"]["credential"],
        "workload identity (AZURE_FEDERATED_TOKEN_FILE)"
    );
    let aad = acr
        .server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .unwrap();
    assert_eq!(
        aad.form("client_assertion").as_deref(),
        Some("federated-assertion-SECRET-aa11")
    );
}

#[test]
fn managed_identity_endpoint_is_used_over_loopback_http() {
    let acr = FakeAcr::healthy();
    let body: &'static str = Box::leak(
        format!(r#"{{"access_token":"{}","expires_on":"4070908800","resource":"https://containerregistry.azure.net","token_type":"Bearer"}}"#, server::aad_jwt(TENANT)).into_boxed_str(),
    );
    let (addr, log) = plain::http_server(200, body);
    let env: Vec<(String, String)> = vec![
        (
            "IDENTITY_ENDPOINT".into(),
            format!("http://{addr}/msi/token"),
        ),
        ("IDENTITY_HEADER".into(), "identity-header-SECRET-77".into()),
    ];
    let out = acr.check_env(&["--json"], &env);
    out.assert_code(0);
    assert_eq!(
        out.check("registry.refresh_token")["details"]["credential"],
        "managed identity"
    );
    let seen = log.lock().unwrap().join("\n").to_ascii_lowercase();
    assert!(seen.starts_with("get /msi/token?"), "{seen}");
    assert!(
        seen.contains("x-identity-header: identity-header-secret-77"),
        "{seen}"
    );
}

#[test]
fn https_proxy_is_used_and_reported_unless_no_proxy() {
    let acr = FakeAcr::healthy();
    let (proxy, log) = plain::connect_proxy();
    let mut env = acr.sp_env();
    env.push(("HTTPS_PROXY".into(), format!("http://{proxy}")));
    env.push(("NO_PROXY".into(), "127.0.0.1".into()));
    let out = acr.check_env(&["--json"], &env);
    out.assert_code(0);
    let tls = out.check("registry.tls");
    assert_eq!(tls["details"]["proxy"], format!("http://{proxy}"));
    assert_eq!(
        *log.lock().unwrap(),
        [format!("CONNECT {} HTTP/1.1", acr.login_server())]
    );

    env.last_mut().unwrap().1 = "127.0.0.1,.azurecr.io".into();
    let out = acr.check_env(&["--json"], &env);
    out.assert_code(0);
    assert!(out.check("registry.tls")["details"].get("proxy").is_none());
    assert_eq!(log.lock().unwrap().len(), 1, "NO_PROXY was not honoured");

    // An entry with a port exempts that port only, as docker reads it.
    env.last_mut().unwrap().1 = format!("127.0.0.1,{}:1", HOST);
    let out = acr.check_env(&["--json"], &env);
    assert_eq!(
        out.check("registry.tls")["details"]["proxy"],
        format!("http://{proxy}")
    );
    env.last_mut().unwrap().1 = format!("127.0.0.1,{}", acr.login_server());
    let out = acr.check_env(&["--json"], &env);
    assert!(out.check("registry.tls")["details"].get("proxy").is_none());
    assert_eq!(
        log.lock().unwrap().len(),
        2,
        "the port-scoped entry was not honoured"
    );
}

/// A proxy that answers every CONNECT with 407 and `Proxy-Authenticate`
/// headers of `schemes`.
fn proxy_wanting(schemes: &'static [&'static str]) -> std::net::SocketAddr {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let mut answer = String::from("HTTP/1.1 407 Proxy Authentication Required\r\n");
            for scheme in schemes {
                answer.push_str(&format!("Proxy-Authenticate: {scheme}\r\n"));
            }
            answer.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
            let mut s = stream;
            let _ = s.write_all(answer.as_bytes());
        }
    });
    addr
}

#[test]
fn a_proxy_that_wants_authentication_says_so_and_which_kinds() {
    let acr = FakeAcr::healthy();
    let windows_only = proxy_wanting(&["Negotiate", "NTLM"]);
    let mut env = acr.sp_env();
    env.push(("HTTPS_PROXY".into(), format!("http://{windows_only}")));
    let out = acr.check_env(&[], &env);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_CHALLENGE_ERROR",
        &format!("proxy http://{windows_only} wants authentication (407) (it offers Negotiate, NTLM): the proxy URL carries no credentials"),
    );
    out.assert_text_has("a proxy that takes only Negotiate or NTLM needs a local relay");
    let basic = proxy_wanting(&["Basic realm=\"corp\""]);
    env.last_mut().unwrap().1 = format!("http://me:{PASSWORD}@{basic}");
    let out = acr.check_env(&[], &env);
    out.assert_code(1)
        .assert_text_has("wants authentication (407) (it offers Basic): it refused the user name and password in the proxy URL")
        .assert_stdout_lacks("relay");
}

#[test]
fn a_missing_intermediate_and_a_certificate_without_names_are_told_apart() {
    let root = Ca::new("acr-health test root");
    let issuing = root.intermediate("Corp Issuing CA 07");
    // The leaf alone: the root is trusted (--ca-file), the link is missing.
    let leaf = issuing.issue(&[HOST, "127.0.0.1"]);
    let acr = FakeAcr::with_cert(root, leaf, |_| None);
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_SSL_ERROR",
        "The server sent no intermediate certificate with it: if 'CN=Corp Issuing CA 07' is an intermediate CA under a root this machine trusts, the server's chain is incomplete",
    );
    // With its intermediate the same leaf is trusted.
    let root = Ca::new("acr-health test root");
    let issuing = root.intermediate("Corp Issuing CA 07");
    let mut leaf = issuing.issue(&[HOST, "127.0.0.1"]);
    leaf.chain.push(issuing.der());
    let acr = FakeAcr::with_cert(root, leaf, |_| None);
    let out = acr.check(&["--verbose"]);
    out.assert_code(0)
        .assert_text_has(&format!("for {HOST}, 127.0.0.1"));
    // A certificate whose host name is only in its subject.
    let ca = Ca::new("acr-health test root");
    let cn_only = ca.issue_with(&[HOST], |p| p.subject_alt_names.clear());
    let acr = FakeAcr::with_cert(ca, cn_only, |_| None);
    acr.check(&[]).assert_code(1).assert_error_block(
        "CONNECTIVITY_SSL_ERROR",
        &format!("it names no host in its subject alternative names (only its subject 'CN={HOST}'"),
    );
}

#[test]
fn password_from_stdin() {
    let acr = FakeAcr::healthy();
    let mut args = acr.args();
    args.extend([
        "--username".into(),
        "myregistry".into(),
        "--password-stdin".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = acr
        .tools
        .command(&args)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains(PASSWORD));
    let token = &acr.server.requests_to("/oauth2/token")[0];
    assert_eq!(token.form("password").as_deref(), Some(PASSWORD));
}

#[test]
fn debug_traces_the_conversation_without_secrets() {
    let acr = FakeAcr::healthy();
    let out = acr.check(&["--debug"]);
    out.assert_code(0);
    let ls = acr.login_server();
    // Lines of an exchange carry the tag of their connection: `[#N] `.
    let untagged: String = out
        .stderr
        .lines()
        .map(|l| match l.strip_prefix("debug: [#") {
            Some(rest) => format!("debug: {}", rest.split_once("] ").map_or(rest, |(_, r)| r)),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        format!("debug: > GET https://{ls}/v2/"),
        "debug: < 401".to_string(),
        "debug: < www-authenticate: Bearer realm=".to_string(),
        format!("debug: > POST https://{ls}/oauth2/exchange"),
        "access_token=****".to_string(),
        r#"debug: < {"refresh_token":"****"}"#.to_string(),
        "client_secret=****".to_string(),
        format!("debug: * DNS {HOST} via DNS server"),
        "TLS 1.3".to_string(),
    ] {
        assert!(
            untagged.contains(&needle),
            "stderr lacks {needle:?}:\n{}",
            out.stderr
        );
    }
    // The report itself is unchanged on stdout.
    assert!(!out.stdout.contains("debug:"));
    // And the password path.
    let out = acr.check_env(&["--debug", "-u", "myregistry", "-p", PASSWORD], &[]);
    out.assert_code(0);
    assert!(out.stderr.contains("password=****"), "{}", out.stderr);
}

#[test]
fn skipping_a_step_runs_the_ones_before_and_explains_the_ones_after() {
    let acr = FakeAcr::healthy();
    let out = acr.check(&["--skip", "tls", "--json"]);
    out.assert_code(0);
    assert_eq!(out.check("registry.dns")["status"], "pass");
    assert_eq!(
        out.check("registry.tls")["message"],
        "requested with --skip tls"
    );
    assert_eq!(
        out.check("registry.challenge")["message"],
        "needs the registry.tls check, which was skipped"
    );
    assert_eq!(acr.server.connections(), 1, "only Azure AD was contacted");
}

#[test]
fn an_all_proxy_acr_health_cannot_use_is_left_out_and_said() {
    let acr = FakeAcr::healthy();
    let mut env = acr.sp_env();
    env.push(("ALL_PROXY".into(), "socks5://127.0.0.1:1080".into()));
    let out = acr.check_env(&["--json"], &env);
    out.assert_code(0);
    let notes = out.check("registry.tls")["details"]["notes"].to_string();
    assert!(
        notes.contains("ALL_PROXY was not used (proxy scheme 'socks5' is not supported"),
        "{notes}"
    );
    // An HTTPS_PROXY that cannot be used is an error that names it.
    for variable in ["HTTPS_PROXY", "https_proxy"] {
        let mut env = acr.sp_env();
        env.push((variable.into(), "socks5://127.0.0.1:1080".into()));
        let out = acr.check_env(&[], &env);
        out.assert_code(2);
        assert!(
            out.stderr.contains(&format!(
                "{variable}: proxy scheme 'socks5' is not supported"
            )),
            "{}",
            out.stderr
        );
    }
}
