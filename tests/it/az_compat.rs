//! Drop-in for az users: az's environment (REQUESTS_CA_BUNDLE, Cloud Shell,
//! AZURE_CORE_*), az's flags (--subscription by name, a hash-suffixed -n,
//! --query, -o none/tsv/table/jsonc) and az's silence with
//! --only-show-errors.
#![cfg(unix)]

use crate::common::acr::*;
use crate::common::{run_with, Tools};
use serde_json::json;

fn without_ca_file(acr: &FakeAcr) -> Vec<String> {
    let mut args = acr.args();
    let at = args.iter().position(|a| a == "--ca-file").unwrap();
    args.drain(at..at + 2);
    args
}

fn run_args(acr: &FakeAcr, args: &[String], env: &[(String, String)]) -> crate::common::Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = run_with(&args, &acr.tools, &env);
    out.assert_no_secrets();
    out
}

#[test]
fn requests_ca_bundle_is_trusted_as_az_trusts_it() {
    let acr = FakeAcr::healthy();
    let args = without_ca_file(&acr);
    // Without it, the test CA is unknown.
    run_args(&acr, &args, &acr.sp_env())
        .assert_code(1)
        .assert_error_block(
            "CONNECTIVITY_SSL_ERROR",
            "which this machine does not trust",
        );
    let mut env = acr.sp_env();
    env.push((
        "REQUESTS_CA_BUNDLE".into(),
        acr.ca.pem_file().display().to_string(),
    ));
    let mut json_args = args.clone();
    json_args.push("--json".into());
    let out = run_args(&acr, &json_args, &env);
    out.assert_code(0);
    let trust = out.check("registry.tls")["details"]["trust"].to_string();
    assert!(trust.contains("REQUESTS_CA_BUNDLE"), "{trust}");
    // A folder of certificates as OpenSSL's capath reads it: only the
    // files named by a subject hash (as c_rehash links them) count.
    let folder = tempfile::tempdir().unwrap();
    std::fs::copy(acr.ca.pem_file(), folder.path().join("corp-root.pem")).unwrap();
    std::fs::write(folder.path().join("README"), "not a certificate").unwrap();
    env.last_mut().unwrap().1 = folder.path().display().to_string();
    run_args(&acr, &json_args, &env).assert_code(1);
    std::fs::copy(acr.ca.pem_file(), folder.path().join("0a1b2c3d.0")).unwrap();
    run_args(&acr, &json_args, &env).assert_code(0);
    env.last_mut().unwrap().1 = acr.ca.pem_file().display().to_string();
    // requests falls back to CURL_CA_BUNDLE, and so does acr-health.
    env.last_mut().unwrap().0 = "CURL_CA_BUNDLE".into();
    let out = run_args(&acr, &json_args, &env);
    out.assert_code(0);
    let trust = out.check("registry.tls")["details"]["trust"].to_string();
    assert!(trust.contains("CURL_CA_BUNDLE"), "{trust}");
}

#[test]
fn cloud_shell_skips_the_environment_checks_as_az_does() {
    // No docker, helm or notary anywhere.
    let tools = Tools::new();
    let out = run_with(&["check", "--json"], &tools, &[("ACC_CLOUD", "1")]);
    out.assert_code(0);
    let docker = out.check("docker.command");
    assert_eq!(docker["status"], "skip");
    assert!(
        docker["message"]
            .as_str()
            .unwrap()
            .contains("Azure Cloud Shell"),
        "{docker}"
    );
    // az's one line for them, and its line for a run without a registry.
    let text = run_with(&["check"], &tools, &[("ACC_CLOUD", "1")]);
    assert_eq!(
        text.stdout.lines().take(2).collect::<Vec<_>>(),
        [
            "Environment checks are not supported in Azure Cloud Shell.",
            "Registry name must be provided to check connectivity."
        ],
        "{}",
        text.stdout
    );
    // Outside Cloud Shell the same machine has a docker error, and az's
    // last sentence when it stops at one.
    run_with(&["check"], &tools, &[])
        .assert_code(1)
        .assert_stdout_has(
            "Please refer to https://aka.ms/acr/errors#docker_command_error for more information.",
        );
}

#[test]
fn subscription_by_name_reaches_that_subscription() {
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(vec![registry_doc(json!({}), json!(null))], vec![])
    });
    let cfg = acr.arm_config();
    // az knows two subscriptions; the default is not the registry's.
    let profile = json!({"subscriptions": [
        {"id": "99999999-9999-9999-9999-999999999999", "name": "Other", "isDefault": true},
        {"id": SUBSCRIPTION, "name": "Team Registry", "isDefault": false}
    ]});
    std::fs::write(cfg.path().join("azureProfile.json"), profile.to_string()).unwrap();
    let mut env = acr.sp_env();
    env.push(("AZURE_CONFIG_DIR".into(), cfg.path().display().to_string()));
    let mut args = acr.args();
    args.extend([
        "--subscription".into(),
        "Team Registry".into(),
        "--json".into(),
    ]);
    let out = run_args(&acr, &args, &env);
    out.assert_code(0);
    assert_eq!(out.check("registry.arm")["status"], "pass");
    assert!(acr.server.requests().iter().any(|r| r
        .path
        .starts_with(&format!("/subscriptions/{SUBSCRIPTION}/"))));
    // A name az does not know is bad input.
    let mut args = acr.args();
    args.extend(["--subscription".into(), "Nope".into()]);
    let out = run_args(&acr, &args, &env);
    out.assert_code(2);
    assert!(
        out.stderr.contains("no subscription named 'Nope'"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_hash_suffixed_login_server_as_name_looks_up_the_registry_name() {
    let acr = FakeAcr::with_hashed_login_server();
    let cfg = acr.arm_config();
    let mut env = acr.sp_env();
    env.push(("AZURE_CONFIG_DIR".into(), cfg.path().display().to_string()));
    let mut args = acr.args();
    let at = args.iter().position(|a| a == "--login-server").unwrap();
    args.drain(at..at + 2);
    let at = args.iter().position(|a| a == "-n").unwrap();
    args[at + 1] = HASHED.into();
    args.push("--json".into());
    let out = run_args(&acr, &args, &env);
    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["registry"]["name"], "myregistry");
    assert_eq!(out.check("registry.arm")["status"], "pass");
    assert!(acr.dns.asked().iter().any(|n| n == HASHED));
}

#[test]
fn names_az_refuses_are_refused() {
    let tools = Tools::new();
    for bad in ["my-registry", "abc", "my_registry"] {
        let out = run_with(&["check", "-n", bad], &tools, &[]);
        out.assert_code(2);
        assert!(
            out.stderr
                .contains("Registry names may contain only alpha numeric characters"),
            "{bad}: {}",
            out.stderr
        );
    }
}

#[test]
fn query_and_output_formats() {
    let tools = Tools::new();
    tools.docker_down();
    let query = run_with(
        &["check", "--query", "checks[?status=='fail'].code"],
        &tools,
        &[],
    );
    query.assert_code(1);
    let codes: serde_json::Value = serde_json::from_str(&query.stdout).unwrap();
    assert_eq!(codes, json!(["DOCKER_DAEMON_ERROR"]));
    let none = run_with(&["check", "-o", "none"], &tools, &[]);
    none.assert_code(1);
    assert_eq!(none.stdout, "");
    let tsv = run_with(&["check", "-o", "tsv", "--ignore-errors"], &tools, &[]);
    let line = tsv
        .stdout
        .lines()
        .find(|l| l.contains("docker.daemon"))
        .unwrap();
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(
        fields[..3],
        ["fail", "docker.daemon", "DOCKER_DAEMON_ERROR"]
    );
    assert!(fields[3].parse::<u64>().is_ok(), "{line}");
    let table = run_with(&["check", "-o", "table", "--ignore-errors"], &tools, &[]);
    assert!(
        table.stdout.starts_with("Status  Check"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.lines().nth(1).unwrap().starts_with("------"));
    // az's AZURE_CORE_OUTPUT does not change what check-health prints
    // (az logs its lines whatever the format): only -o does.
    for format in ["json", "table", "none"] {
        let out = run_with(&["check"], &tools, &[("AZURE_CORE_OUTPUT", format)]);
        out.assert_stdout_has("An error occurred: DOCKER_DAEMON_ERROR");
    }
    let bad = run_with(&["check", "--query", "checks[?"], &tools, &[]);
    bad.assert_code(2);
}

#[test]
fn only_show_errors_says_nothing_on_a_healthy_run() {
    let tools = Tools::healthy();
    let out = run_with(&["check", "--yes", "--only-show-errors"], &tools, &[]);
    out.assert_code(0);
    assert_eq!(out.stdout, "");
    let out = run_with(
        &["check", "--yes"],
        &tools,
        &[("AZURE_CORE_ONLY_SHOW_ERRORS", "true")],
    );
    out.assert_code(0);
    assert_eq!(out.stdout, "");
    // An unhealthy run still shows its errors.
    let tools = Tools::new();
    tools.docker_down();
    let out = run_with(&["check", "--only-show-errors"], &tools, &[]);
    out.assert_code(1)
        .assert_stdout_has("An error occurred: DOCKER_DAEMON_ERROR");
}

#[test]
fn disabled_connection_verification_is_reported_not_obeyed() {
    let acr = FakeAcr::healthy();
    let mut env = acr.sp_env();
    env.push((
        "AZURE_CLI_DISABLE_CONNECTION_VERIFICATION".into(),
        "1".into(),
    ));
    let mut args = acr.args();
    args.push("--json".into());
    let out = run_args(&acr, &args, &env);
    out.assert_code(0);
    let tls = out.check("registry.tls");
    assert_eq!(tls["status"], "warn");
    assert!(
        tls["message"]
            .as_str()
            .unwrap()
            .contains("az would not verify"),
        "{tls}"
    );
    // The warning keeps what the pass said: the certificate it verified.
    let notes = tls["details"]["notes"].as_array().expect("the TLS notes");
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("certificate: subject")),
        "{tls}"
    );
    // And a certificate nobody trusts still fails.
    let args = without_ca_file(&acr);
    run_args(&acr, &args, &env)
        .assert_code(1)
        .assert_error_block(
            "CONNECTIVITY_SSL_ERROR",
            "which this machine does not trust",
        );
}
