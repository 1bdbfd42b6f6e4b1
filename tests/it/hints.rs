//! Hints that are right: every "run …" a report gives uses what the user
//! gave (the registry's name, Resource Manager's name for it, or the login
//! server when that is all there is), and a refused credential is told what
//! to check for that credential, not to run `az login`.
#![cfg(unix)]

use crate::common::acr::*;
use crate::common::server::Reply;
use crate::common::Run;
use crate::real_credentials::{az_logged_in, now};
use serde_json::json;

fn denied() -> Option<Reply> {
    Some(Reply::json(
        401,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    ))
}

/// The failing block of `code`, flattened to one line.
fn block(out: &Run, code: &str) -> String {
    let at = out
        .stdout
        .find(&format!("An error occurred: {code}"))
        .unwrap_or_else(|| panic!("no {code} in:\n{}", out.stdout));
    out.stdout[at..]
        .lines()
        .take_while(|l| !l.starts_with("More information"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_refused_password_is_told_to_check_the_password_not_to_run_az_login() {
    let acr = FakeAcr::start(|r| (r.path == "/oauth2/token").then(denied).flatten());
    let out = acr.check(&["--username", "admin", "--password", PASSWORD]);
    out.assert_code(1);
    let text = block(&out, "CONNECTIVITY_ACCESS_TOKEN_ERROR");
    assert!(
        text.contains("Please check the username and password")
            && text.contains("Credential used: username and password (user 'admin')."),
        "{text}"
    );
    assert!(!text.contains("'az login'"), "{text}");
}

#[test]
fn each_credential_is_named_and_advised_for_when_the_registry_refuses_it() {
    // A service principal.
    let acr = FakeAcr::start(|r| (r.path == "/oauth2/exchange").then(denied).flatten());
    let out = acr.check(&[]);
    let text = block(&out, "CONNECTIVITY_REFRESH_TOKEN_ERROR");
    assert!(
        text.contains("Please check the service principal's role assignment")
            && text.contains("Credential used: service principal (AZURE_CLIENT_SECRET)."),
        "{text}"
    );
    assert!(!text.contains("'az login'"), "{text}");
    // An az login: az's own words, which are right for it.
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        let arm = arm_handler(vec![registry_doc(json!({}), json!(null))], vec![]);
        move |r: &crate::common::server::Request| match r.path.as_str() {
            "/oauth2/exchange" => denied(),
            _ => arm(r),
        }
    });
    let dir = az_logged_in(&acr, now() + 3600);
    let env = vec![(
        "AZURE_CONFIG_DIR".to_string(),
        dir.path().display().to_string(),
    )];
    let out = acr.check_env(&[], &env);
    let text = block(&out, "CONNECTIVITY_REFRESH_TOKEN_ERROR");
    assert!(
        text.contains("Please try running 'az login' again to refresh permissions.")
            && text.contains("Credential used: Azure CLI login (token cache)."),
        "{text}"
    );
}

/// The docker-credential warning's line.
fn docker_credential(out: &Run) -> String {
    out.check("registry.docker_credential")["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_login_hint_names_the_registry_as_the_user_named_it() {
    // -n myregistry: az acr login -n myregistry.
    let acr = FakeAcr::healthy();
    let out = acr.check(&["--json"]);
    let said = docker_credential(&out);
    assert!(
        said.contains(&format!(
            "Run az acr login -n myregistry (or docker login {}).",
            acr.login_server()
        )),
        "{said}"
    );
}

#[test]
fn a_hash_suffixed_login_server_is_logged_in_to_by_the_registry_s_name() {
    let acr = FakeAcr::with_hashed_login_server();
    let out = acr.check_arm(&["--json"], false);
    let said = docker_credential(&out);
    assert!(
        said.contains(&format!(
            "Run az acr login -n myregistry (or docker login {HASHED}:{})",
            acr.server.port()
        )),
        "{said}"
    );
    assert!(!said.contains("-n myregistry-abc123"), "{said}");
}

#[test]
fn a_login_server_given_alone_outside_the_cloud_names_the_registry_and_the_hint() {
    let acr = FakeAcr::healthy();
    let ls = format!("127.0.0.1:{}", acr.server.port());
    let args: Vec<String> = vec![
        "check".into(),
        "--login-server".into(),
        ls.clone(),
        "--ca-file".into(),
        acr.ca.pem_file().display().to_string(),
        "--skip".into(),
        "environment".into(),
        "--json".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(String, String)> = acr.sp_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = crate::common::run_with(&args, &acr.tools, &env);
    assert_eq!(
        out.json()["registry"]["name"],
        ls.as_str(),
        "{}",
        out.stdout
    );
    let said = docker_credential(&out);
    assert!(said.contains(&format!("Run docker login {ls}.")), "{said}");
    assert!(!said.contains("az acr login"), "{said}");
}
