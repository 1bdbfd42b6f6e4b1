//! Secrets shorter than a word of the report (`true`, `fail`, `pass`) are
//! masked where they sit, never wherever their letters appear: the report's
//! structure (JSON values, statuses, JUnit's names, the summary) survives
//! whatever a token, a signature or a proxy password happens to be.

use crate::common::acr::*;
use crate::common::server::Reply;
use crate::common::Run;
use serde_json::Value;

/// Every output format of one run, each checked for its own structure.
fn assert_every_format_intact(acr: &FakeAcr, extra: &[&str], env: &[(String, String)]) {
    let with = |more: &[&str]| {
        let args: Vec<&str> = extra.iter().chain(more).copied().collect();
        acr.check_env(&args, env)
    };
    let json = with(&["--json"]);
    let report: Value = serde_json::from_str(&json.stdout)
        .unwrap_or_else(|e| panic!("--json does not parse ({e}):\n{}", json.stdout));
    let statuses: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses
            .iter()
            .all(|s| ["pass", "fail", "warn", "skip"].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&"pass") && statuses.contains(&"fail"),
        "{statuses:?}"
    );
    assert_eq!(report["healthy"], false, "{}", json.stdout);
    assert_eq!(report["summary"]["fail"], 1, "{}", json.stdout);
    assert_junit_well_formed(&with(&["-o", "junit"]));
    let text = with(&[]);
    text.assert_stdout_has("An error occurred: IMAGE_PULL_ERROR")
        .assert_stdout_has(" : OK");
    let table = with(&["-o", "table"]);
    assert!(
        table.stdout.lines().any(|l| l.starts_with("fail ")),
        "{}",
        table.stdout
    );
    let jsonc = with(&["-o", "jsonc"]);
    serde_json::from_str::<Value>(&jsonc.stdout).expect("jsonc without colour is JSON");
    let query = with(&["--query", "checks[?status=='fail'].code"]);
    assert_eq!(
        query.stdout.trim(),
        "[\n  \"IMAGE_PULL_ERROR\"\n]",
        "{}",
        query.stdout
    );
    assert!(
        text.stdout
            .lines()
            .any(|l| l.starts_with("Unhealthy: ") && l.contains(" 1 error,")),
        "{}",
        text.stdout
    );
    let tsv = with(&["-o", "tsv"]);
    assert!(
        tsv.stdout.lines().any(|l| l.starts_with("fail\t")),
        "{}",
        tsv.stdout
    );
    assert!(
        tsv.stdout.lines().any(|l| l.starts_with("pass\t")),
        "{}",
        tsv.stdout
    );
}

fn assert_junit_well_formed(out: &Run) {
    let mut reader = quick_xml::Reader::from_str(&out.stdout);
    let mut failures = None;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) if e.name().as_ref() == b"testsuites" => {
                failures = e
                    .try_get_attribute("failures")
                    .unwrap()
                    .map(|a| a.unescape_value().unwrap().into_owned());
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("JUnit is not well-formed ({e}):\n{}", out.stdout),
        }
    }
    assert_eq!(failures.as_deref(), Some("1"), "{}", out.stdout);
}

/// A registry whose tokens are `short` and whose layer is redirected to
/// storage with a signature `short`; the storage cannot be reached (one
/// failure).
fn registry_with(short: &'static str) -> FakeAcr {
    let layer = format!("sha256:{}", "5".repeat(64));
    let manifest = format!(r#"{{"schemaVersion":2,"layers":[{{"digest":"{layer}","size":5}}]}}"#);
    let manifest: &'static str = Box::leak(manifest.into_boxed_str());
    FakeAcr::start(move |r| match r.path.as_str() {
        "/oauth2/exchange" => Some(Reply::json(
            200,
            &format!(r#"{{"refresh_token":"{short}"}}"#),
        )),
        "/oauth2/token" => Some(Reply::json(
            200,
            &format!(r#"{{"access_token":"{short}"}}"#),
        )),
        "/v2/hello/manifests/v1" => Some(Reply::json(200, manifest)),
        p if p.starts_with("/v2/hello/blobs/") => Some(Reply::new(307, "").header(
            "location",
            &format!("https://127.0.0.1:1/blob?se=2030-01-01&sig={short}&sp=r"),
        )),
        _ => None,
    })
}

#[test]
fn short_tokens_and_signatures_leave_every_format_intact() {
    for short in ["true", "fail", "pass", "skip", "warn"] {
        let acr = registry_with(short);
        let image = ["--repository", "hello", "--image", "v1", "--ignore-errors"];
        assert_every_format_intact(&acr, &image, &acr.sp_env());
        // Where it sits, the short signature is masked all the same.
        let mut debug = image.to_vec();
        debug.push("--debug");
        let traced = acr.check_env(&debug, &acr.sp_env());
        assert!(traced.stderr.contains("sig=****"), "{}", traced.stderr);
        assert!(
            !traced.stderr.contains(&format!("sig={short}")),
            "{}",
            traced.stderr
        );
    }
}

#[test]
fn a_short_proxy_password_or_registry_password_leaves_every_format_intact() {
    let acr = registry_with("true");
    let image = ["--repository", "hello", "--image", "v1", "--ignore-errors"];
    // A proxy that carries no registry traffic here: its password is known all the same.
    let mut env = acr.sp_env();
    env.push(("HTTPS_PROXY".into(), "http://u:pass@127.0.0.1:9".into()));
    env.push(("NO_PROXY".into(), format!("{HOST},127.0.0.1")));
    assert_every_format_intact(&acr, &image, &env);
    // The registry's admin password `pass`: every `pass` of the report stays.
    let login = ["-u", "admin", "--password", "pass"];
    let args: Vec<&str> = image.iter().chain(&login).copied().collect();
    assert_every_format_intact(&acr, &args, &acr.sp_env());
}
