//! Hostile text and echoed secrets: servers, a proxy, a certificate, DNS and
//! tools put escape sequences, OSC 52/8, bare CRs, bidi overrides and forged
//! report lines into every field they control, and echo every request field
//! back. Nothing of it may reach the terminal raw, in any output format, and
//! no secret may come back out in any encoding.
#![cfg(unix)]

use crate::common::acr::*;
use crate::common::pki::Ca;
use crate::common::server::{
    aad_jwt, raw_tcp_server, Reply, Request, ACCESS_TOKEN, REFRESH_TOKEN, TENANT,
};
use crate::common::{answer, failing, Run, Tools};

/// Clears the screen, writes the clipboard, makes a hyperlink, returns the
/// carriage and forges report lines, reverses text.
const HOSTILE: &str = "\u{1b}[2J\u{1b}]52;c;SGFja2Vk\u{7}\u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7}\rX\nDNS lookup to evil : OK\nHealthy: 99 OK\u{202e}gnp.exe\u{9b}31m";

/// Secrets with characters that every encoding changes.
const HOSTILE_CLIENT_SECRET: &str = "cl/ient+se cret\"SECRET-h0st1le";
const HOSTILE_PASSWORD: &str = "pa ss+w/rd\"SECRET-pw&x=1";

/// The forms a secret can come back in.
fn encodings(secret: &str) -> Vec<String> {
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let json = serde_json::to_string(secret).unwrap();
    let json = json[1..json.len() - 1].to_string();
    use base64::Engine;
    let twice: String = url::form_urlencoded::byte_serialize(form.as_bytes()).collect();
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    vec![
        secret.to_string(),
        form.clone(),
        form.replace('+', "%20"),
        form.to_ascii_lowercase(),
        twice,
        json.clone(),
        json.replace('/', "\\/"),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        hex,
    ]
}

fn secrets() -> Vec<String> {
    let jwt = aad_jwt(TENANT);
    let payload = jwt.split('.').nth(1).unwrap().to_string();
    [
        HOSTILE_CLIENT_SECRET,
        HOSTILE_PASSWORD,
        CLIENT_SECRET,
        PASSWORD,
        REFRESH_TOKEN,
        ACCESS_TOKEN,
        &jwt,
        &payload,
    ]
    .iter()
    .flat_map(|s| encodings(s))
    .collect()
}

fn is_hazard(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// No raw control character, no forged line and no secret in anything the
/// run printed.
fn assert_clean(out: &Run, what: &str) {
    let secrets = secrets();
    for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Some(c) = text.chars().find(|c| is_hazard(*c)) {
            panic!("{what}: {stream} has a raw {c:?}:\n{text}");
        }
        for line in text.lines() {
            let line = line.strip_prefix("debug: ").unwrap_or(line);
            assert!(
                !line.starts_with("DNS lookup to evil") && !line.starts_with("Healthy: 99"),
                "{what}: {stream} has a forged line {line:?}:\n{text}"
            );
        }
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{what}: {stream} leaks {s:?}:\n{text}"
            );
        }
    }
}

/// Runs the check in every output format and mode, and asserts each is clean.
fn assert_clean_everywhere(run: impl Fn(&[&str]) -> Run, expect_text: &str) {
    let mut saw = false;
    for extra in [
        &[][..],
        &["--debug"][..],
        &["--verbose"][..],
        &["--json"][..],
        &["-o", "junit"][..],
        &["--ignore-errors", "--verbose", "--debug"][..],
    ] {
        let out = run(extra);
        assert_clean(&out, &format!("{extra:?}"));
        saw |= out.stdout.contains(expect_text) || out.stderr.contains(expect_text);
    }
    assert!(
        saw,
        "no run showed {expect_text:?}: the hostile text never reached the report"
    );
}

/// The whole request as a hostile server echoes it: body, form fields decoded,
/// every header.
fn echo(r: &Request) -> String {
    use base64::Engine;
    let form: Vec<String> = url::form_urlencoded::parse(r.body.as_bytes())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    // Each field's value base64-encoded, as a gateway that logs them would.
    let b64: Vec<String> = url::form_urlencoded::parse(r.body.as_bytes())
        .map(|(k, v)| {
            let (std, url) = (
                base64::engine::general_purpose::STANDARD.encode(v.as_bytes()),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.as_bytes()),
            );
            format!("{k}={std},{url}")
        })
        .collect();
    let quoted: String = url::form_urlencoded::byte_serialize(r.body.as_bytes()).collect();
    let hex: String = r.body.bytes().map(|b| format!("{b:02x}")).collect();
    let headers: Vec<String> = r.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!(
        "{HOSTILE} body={} form={} quoted={quoted} b64={} hex={hex} headers={}",
        r.body,
        form.join(" "),
        b64.join(" "),
        headers.join(" | ")
    )
}

fn acr_error(status: u16, message: &str) -> Reply {
    let body =
        serde_json::json!({"errors": [{"code": format!("DENIED{HOSTILE}"), "message": message}]});
    Reply::json(status, &body.to_string())
}

fn hostile_sp_env(acr: &FakeAcr) -> Vec<(String, String)> {
    let mut env = acr.sp_env();
    env.retain(|(k, _)| k != "AZURE_CLIENT_SECRET");
    env.push(("AZURE_CLIENT_SECRET".into(), HOSTILE_CLIENT_SECRET.into()));
    env
}

#[test]
fn a_registry_echoing_the_exchange_and_token_requests() {
    let acr = FakeAcr::start(|r| match r.path.as_str() {
        "/oauth2/exchange" | "/oauth2/token" => Some(acr_error(401, &echo(r))),
        _ => None,
    });
    let env = hostile_sp_env(&acr);
    assert_clean_everywhere(|extra| acr.check_env(extra, &env), "DENIED");
    assert_clean_everywhere(
        |extra| {
            let mut args = vec!["--username", "myregistry", "--password", HOSTILE_PASSWORD];
            args.extend_from_slice(extra);
            acr.check_env(&args, &[])
        },
        "DENIED",
    );
}

#[test]
fn azure_ad_echoing_the_client_secret_in_its_error_description() {
    let acr = FakeAcr::start(|r| {
        r.path.ends_with("/oauth2/v2.0/token").then(|| {
            let body = serde_json::json!({
                "error": "invalid_client",
                "error_description": format!("AADSTS7000215: Invalid client secret provided. {}", echo(r)),
            });
            Reply::json(401, &body.to_string())
        })
    });
    let env = hostile_sp_env(&acr);
    assert_clean_everywhere(|extra| acr.check_env(extra, &env), "AADSTS7000215");
}

#[test]
fn a_registry_whose_every_answer_is_hostile() {
    // The challenge's body, a 403's body and a redirect's target.
    for path_reply in [
        Reply::new(200, HOSTILE),
        acr_error(403, HOSTILE),
        Reply::new(500, &format!("<html>{HOSTILE}</html>")),
    ] {
        let reply = path_reply.clone();
        let acr = FakeAcr::start(move |r| (r.path == "/v2/").then(|| reply.clone()));
        assert_clean_everywhere(|extra| acr.check(extra), "DNS lookup to evil : OK");
    }
}

#[test]
fn a_certificate_whose_names_are_hostile() {
    let trusted = Ca::new("acr-health test root");
    let impostor = Ca::new(&format!("Inspecting Proxy {HOSTILE}"));
    let cert = impostor.issue(&[HOST, "127.0.0.1"]);
    let acr = FakeAcr::with_cert(trusted, cert, |_| None);
    assert_clean_everywhere(|extra| acr.check(extra), "Inspecting Proxy");
}

#[test]
fn a_proxy_whose_connect_answer_is_hostile() {
    let acr = FakeAcr::healthy();
    let answer: &'static str = Box::leak(
        format!(
            "HTTP/1.1 407 {}\r\n\r\n",
            HOSTILE.replace(['\r', '\n'], " ")
        )
        .into_boxed_str(),
    );
    let proxy = raw_tcp_server(answer.as_bytes());
    let mut env = acr.sp_env();
    env.push((
        "HTTPS_PROXY".into(),
        format!("http://user:{}@{proxy}", "pr%2Bxy+pass"),
    ));
    assert_clean_everywhere(|extra| acr.check_env(extra, &env), "407");
    // The proxy's password, decoded and in the URL's form, never shows.
    let out = acr.check_env(&["--debug", "--verbose"], &env);
    for s in ["pr+xy+pass", "pr%2Bxy+pass"] {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "{s} leaked"
        );
    }
}

#[test]
fn a_dns_answer_whose_names_are_hostile() {
    let acr = FakeAcr::healthy();
    acr.dns.cname_raw(
        HOST,
        &[b"evil\x1b[2J\x07", b"\r\nDNS lookup to evil : OK"],
        "127.0.0.1",
    );
    assert_clean_everywhere(|extra| acr.check(extra), "evil");
}

#[test]
fn tools_whose_output_is_hostile() {
    let tools = Tools::new();
    let version = serde_json::json!({
        "Client": {"Version": format!("28.2.2{HOSTILE}"), "GitCommit": HOSTILE, "Os": "linux", "Arch": "amd64"},
        "Server": null,
    })
    .to_string();
    tools.add("docker", &[failing("version", &version, HOSTILE, 1)]);
    tools.add("helm", &[answer("version", HOSTILE)]);
    // A line of its own that reads like a report line, with no escape
    // sequence in front to give it away.
    tools.add(
        "notary",
        &[failing(
            "version",
            "",
            "DNS lookup to evil : OK\nHealthy: 99 OK",
            3,
        )],
    );
    assert_clean_everywhere(
        |extra| {
            let mut args = vec!["check"];
            args.extend_from_slice(extra);
            crate::common::run(&args, &tools)
        },
        "28.2.2",
    );
}

#[test]
fn a_token_answer_cut_off_at_the_size_limit_shows_no_part_of_it() {
    // 2 MiB of token: the body is cut at 1 MiB, mid-token.
    let token = format!("{}SECRET-tail", "A".repeat(2 * 1024 * 1024));
    let body: &'static str = Box::leak(format!(r#"{{"access_token":"{token}"}}"#).into_boxed_str());
    let acr = FakeAcr::start(move |r| (r.path == "/oauth2/token").then(|| Reply::json(200, body)));
    let out = acr.check(&["--debug", "--verbose"]);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        "the response is longer than 1048576 bytes, the most acr-health reads: none of it was used",
    );
    assert!(
        out.stderr.contains("(body cut off at 1048576 bytes)"),
        "{}",
        out.stderr
    );
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains("AAAAAAAAAAAAAAAA"),
            "part of the token leaked:\n{text}"
        );
    }
}

#[test]
fn debug_masks_signatures_in_redirects() {
    const DATA: &str = "myregistry.eastus.data.azurecr.io";
    const SIG: &str = "sv%2BSECRET%2Fsig%3D";
    let manifest = format!(
        r#"{{"schemaVersion":2,"layers":[{{"digest":"sha256:{}","size":5}}]}}"#,
        "5".repeat(64)
    );
    let manifest: &'static str = Box::leak(manifest.into_boxed_str());
    let acr = FakeAcr::with_arm(&[HOST, DATA, "127.0.0.1"], move |port| {
        move |r: &Request| {
            if r.path.starts_with("/v2/samples/app/manifests/") {
                return Some(Reply::json(200, manifest));
            }
            if r.path.starts_with("/v2/samples/app/blobs/") {
                return Some(Reply::new(307, "").header(
                    "location",
                    &format!("https://{DATA}:{port}/blob?se=2030-01-01&sp=r&sig={SIG}"),
                ));
            }
            (r.path == "/blob").then(|| Reply::new(403, &format!("denied, you sent {}", r.path)))
        }
    });
    acr.dns.a(DATA, "127.0.0.1");
    let out = acr.check(&[
        "--repository",
        "samples/app",
        "--image",
        "v1",
        "--debug",
        "--verbose",
    ]);
    out.assert_code(1);
    assert!(out.stderr.contains("sp=r&sig=****"), "{}", out.stderr);
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains("SECRET%2Fsig") && !text.contains("SECRET/sig"),
            "{text}"
        );
    }
}

/// A JWT whose claims the server chose.
fn jwt(claims: &serde_json::Value) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&claims.to_string())
    )
}

#[test]
fn token_claims_and_resource_manager_names_cannot_forge_lines() {
    // Azure AD's token names a tenant, the registry's token grants
    // actions, Resource Manager names data endpoints: each with a line of
    // its own inside.
    let aad = jwt(&serde_json::json!({"tid": format!("t\nHealthy: 99 OK{HOSTILE}"), "aud": "x"}));
    let access = jwt(
        &serde_json::json!({"access": [{"type": "repository", "name": "samples/app", "actions": [format!("x\nDNS lookup to evil : OK{HOSTILE}")]}]}),
    );
    let (aad, access): (&'static str, &'static str) = (
        Box::leak(aad.into_boxed_str()),
        Box::leak(access.into_boxed_str()),
    );
    let evil_host = format!(
        "DNS lookup to evil : OK{}.eastus.data.azurecr.io",
        " ".repeat(60)
    );
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        let doc = registry_doc(
            serde_json::json!({"dataEndpointEnabled": true, "dataEndpointHostNames": [evil_host]}),
            serde_json::json!(null),
        );
        let arm = arm_handler(vec![doc], vec![]);
        move |r: &Request| {
            if r.path.ends_with("/oauth2/v2.0/token") {
                let body = serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": aad});
                return Some(Reply::json(200, &body.to_string()));
            }
            if r.path == "/oauth2/token" {
                let body = serde_json::json!({ "access_token": access });
                return Some(Reply::json(200, &body.to_string()));
            }
            arm(r)
        }
    });
    assert_clean_everywhere(
        |extra| {
            let mut args = vec!["--repository", "samples/app", "--ignore-errors"];
            args.extend_from_slice(extra);
            acr.check_arm(&args, true)
        },
        "Healthy: 99 OK",
    );
}

#[test]
fn proxy_credentials_in_the_environment_are_masked_in_tool_output() {
    let tools = Tools::new();
    tools.write_executable(
        "docker",
        "#!/bin/sh\necho \"cannot reach the daemon through $HTTP_PROXY\" >&2\nexit 1\n",
    );
    let out = crate::common::run_with(
        &["check", "--skip", "helm", "--skip", "notary"],
        &tools,
        &[(
            "HTTP_PROXY",
            "http://user:pr0xy-SECRET-pass@proxy.corp:3128",
        )],
    );
    out.assert_code(1);
    assert!(
        out.stdout.contains("through http://user:****@proxy.corp"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("pr0xy-SECRET-pass"), "{}", out.stdout);
}

#[test]
fn junit_stays_well_formed_for_characters_xml_forbids() {
    // U+FFFE, U+FFFF and C0 controls may not appear in XML 1.0 at all, not
    // even as character references.
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| {
            Reply::json(
                403,
                "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"no \u{fffe} entry \u{ffff}\u{1} here\"}]}",
            )
        })
    });
    let out = acr.check(&["-o", "junit"]);
    out.assert_code(1);
    for c in ['\u{fffe}', '\u{ffff}', '\u{1}'] {
        assert!(!out.stdout.contains(c), "{c:?} in {}", out.stdout);
    }
    assert!(!out.stdout.contains("&#x1;") && !out.stdout.contains("&#xfffe;"));
    let mut reader = quick_xml::Reader::from_str(&out.stdout);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed ({e}):\n{}", out.stdout),
        }
    }
    assert!(out.stdout.contains("no \u{fffd} entry"), "{}", out.stdout);
}
