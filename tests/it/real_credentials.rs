//! The credentials real users have: logged in with az (its token cache read
//! directly, az run only when the cache cannot serve), and an Azure VM's
//! managed identity found through the instance metadata service with no
//! flag at all.
#![cfg(unix)]

use crate::common::acr::*;
use crate::common::server::{aad_jwt, TENANT};
use crate::common::{answer, Run};
use serde_json::json;

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An az configuration folder: logged in as a user of the test tenant with
/// a default subscription, and a token cache holding an ARM-audience token
/// that expires at `expires_on`.
pub(crate) fn az_logged_in(acr: &FakeAcr, expires_on: u64) -> tempfile::TempDir {
    let dir = acr.arm_config();
    let profile = json!({"subscriptions": [{
        "id": SUBSCRIPTION, "name": "Dev", "isDefault": true, "tenantId": TENANT,
        "environmentName": "TestCloud", "user": {"name": "dev@contoso.com", "type": "user"}
    }]});
    std::fs::write(
        dir.path().join("azureProfile.json"),
        format!("\u{feff}{profile}"),
    )
    .unwrap();
    let home = format!("oid-1.{TENANT}");
    let cache = json!({
        "Account": {format!("{home}-login.microsoftonline.com-{TENANT}"): {
            "home_account_id": home, "environment": "login.microsoftonline.com", "realm": TENANT,
            "local_account_id": "oid-1", "username": "dev@contoso.com", "authority_type": "MSSTS"}},
        "AccessToken": {"k1": {
            "credential_type": "AccessToken", "home_account_id": home,
            "environment": "login.microsoftonline.com", "client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            "target": "https://management.core.windows.net//user_impersonation https://management.core.windows.net//.default",
            "realm": TENANT, "token_type": "Bearer", "secret": aad_jwt(TENANT),
            "cached_at": (now() - 60).to_string(), "expires_on": expires_on.to_string()}},
        "RefreshToken": {}, "IdToken": {}, "AppMetadata": {}
    });
    std::fs::write(dir.path().join("msal_token_cache.json"), cache.to_string()).unwrap();
    dir
}

fn az_answering(acr: &FakeAcr) {
    let out = format!(
        r#"{{"accessToken":"{}","expiresOn":"2099-01-01 00:00:00.000000","expires_on":4070908800,"subscription":"{SUBSCRIPTION}","tenant":"{TENANT}","tokenType":"Bearer"}}"#,
        aad_jwt(TENANT)
    );
    acr.tools.add("az", &[answer("account", &out)]);
}

fn run_logged_in(acr: &FakeAcr, dir: &tempfile::TempDir) -> Run {
    let env = vec![(
        "AZURE_CONFIG_DIR".to_string(),
        dir.path().display().to_string(),
    )];
    acr.check_env(&["--json"], &env)
}

#[test]
fn a_cached_az_token_is_used_without_running_az() {
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(vec![registry_doc(json!({}), json!(null))], vec![])
    });
    az_answering(&acr);
    let dir = az_logged_in(&acr, now() + 3600);
    let out = run_logged_in(&acr, &dir);
    out.assert_code(0);
    assert!(
        acr.tools.calls("az").is_empty(),
        "az was run: {:?}",
        acr.tools.calls("az")
    );
    assert_eq!(
        out.check("registry.refresh_token")["details"]["credential"],
        "Azure CLI login (token cache)"
    );
    // The cached Resource Manager token read the registry and, standing in
    // for the registry's audience, was exchanged.
    assert_eq!(out.check("registry.arm")["status"], "pass");
    let exchange = &acr.server.requests_to("/oauth2/exchange")[0];
    assert_eq!(exchange.form("access_token"), Some(aad_jwt(TENANT)));
    assert!(acr
        .server
        .requests()
        .iter()
        .all(|r| !r.path.ends_with("/oauth2/v2.0/token")));
}

#[test]
fn an_expired_cache_falls_back_to_az() {
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(vec![registry_doc(json!({}), json!(null))], vec![])
    });
    az_answering(&acr);
    // Expires within the safety margin: as good as expired.
    let dir = az_logged_in(&acr, now() + 60);
    let out = run_logged_in(&acr, &dir);
    out.assert_code(0);
    let calls = acr.tools.calls("az");
    assert!(
        calls
            .iter()
            .any(|c| c.contains("--scope https://containerregistry.azure.net/.default")),
        "{calls:?}"
    );
    assert_eq!(
        out.check("registry.refresh_token")["details"]["credential"],
        "Azure CLI login"
    );
}

#[test]
fn without_a_readable_cache_az_is_asked_for_the_subscription_in_use() {
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(vec![registry_doc(json!({}), json!(null))], vec![])
    });
    az_answering(&acr);
    let dir = az_logged_in(&acr, now() + 3600);
    // Two logins: the default subscription is another account's, in
    // another tenant; the cache is encrypted (msal_token_cache.bin).
    const OTHER: &str = "99999999-8888-7777-6666-555555555555";
    let profile = json!({"subscriptions": [
        {"id": OTHER, "name": "Prod", "isDefault": true, "tenantId": "tenant-b",
         "environmentName": "TestCloud", "user": {"name": "ops@fabrikam.com", "type": "user"}},
        {"id": SUBSCRIPTION, "name": "Dev", "isDefault": false, "tenantId": TENANT,
         "environmentName": "TestCloud", "user": {"name": "dev@contoso.com", "type": "user"}}
    ]});
    std::fs::write(
        dir.path().join("azureProfile.json"),
        format!("\u{feff}{profile}"),
    )
    .unwrap();
    std::fs::remove_file(dir.path().join("msal_token_cache.json")).unwrap();
    let env = vec![(
        "AZURE_CONFIG_DIR".to_string(),
        dir.path().display().to_string(),
    )];
    let out = acr.check_env(&["--json", "--subscription", "Dev"], &env);
    out.assert_code(0);
    let calls = acr.tools.calls("az");
    assert!(!calls.is_empty());
    for call in &calls {
        assert!(
            call.contains(&format!("--subscription {SUBSCRIPTION}")),
            "{calls:?}"
        );
        assert!(!call.contains("--tenant"), "{calls:?}");
    }
}

#[test]
fn a_vm_managed_identity_is_found_with_no_flag() {
    let acr = FakeAcr::healthy();
    let token = aad_jwt(TENANT);
    let body: &'static str = Box::leak(
        json!({"access_token": token, "expires_on": "4070908800", "resource": "https://containerregistry.azure.net", "token_type": "Bearer"})
            .to_string()
            .into_boxed_str(),
    );
    let (imds, log) = crate::common::plain::http_server(200, body);
    let env = vec![(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_string(),
        format!("http://{imds}"),
    )];
    let out = acr.check_env(&["--json"], &env);
    out.assert_code(0);
    assert_eq!(
        out.check("registry.refresh_token")["details"]["credential"],
        "managed identity (instance metadata service)"
    );
    let asked = log.lock().unwrap().join("\n");
    assert!(asked.contains("GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fcontainerregistry.azure.net"), "{asked}");
    assert!(
        asked.to_ascii_lowercase().contains("metadata: true"),
        "{asked}"
    );
    // The trace says plain HTTP where it is, and tags each line with its
    // connection, so that the concurrent requests can be followed.
    let traced = acr.check_env(&["--debug"], &env);
    let trace = &traced.stderr;
    assert!(
        trace.contains(&format!("> GET http://{imds}/metadata/identity/")),
        "{trace}"
    );
    let tagged = |line: &str| {
        line.strip_prefix("debug: [#")
            .is_some_and(|l| l.contains("] "))
    };
    assert!(
        trace
            .lines()
            .filter(|l| l.contains("> GET ") || l.starts_with("debug: [#"))
            .all(tagged),
        "{trace}"
    );
    let connections: std::collections::BTreeSet<&str> = trace
        .lines()
        .filter_map(|l| l.strip_prefix("debug: [#")?.split(']').next())
        .collect();
    assert!(connections.len() >= 2, "{connections:?}");
}

#[test]
fn a_vm_with_a_user_assigned_identity_is_asked_for_azure_client_id() {
    let acr = FakeAcr::healthy();
    let body: &'static str = Box::leak(
        json!({"access_token": aad_jwt(TENANT), "expires_on": "4070908800", "resource": "https://containerregistry.azure.net", "token_type": "Bearer"})
            .to_string()
            .into_boxed_str(),
    );
    let (imds, log) = crate::common::plain::http_server(200, body);
    const MI: &str = "44444444-3333-2222-1111-000000000000";
    let env = vec![
        (
            "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_string(),
            format!("http://{imds}"),
        ),
        ("AZURE_CLIENT_ID".to_string(), MI.to_string()),
    ];
    acr.check_env(&["--json"], &env).assert_code(0);
    let asked = log.lock().unwrap().join("\n");
    assert!(asked.contains(&format!("client_id={MI}")), "{asked}");
}

#[test]
fn a_vm_with_several_identities_is_told_to_name_one() {
    let acr = FakeAcr::healthy();
    let (imds, _) = crate::common::plain::http_server(
        400,
        r#"{"error":"invalid_request","error_description":"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"}"#,
    );
    let env = vec![(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_string(),
        format!("http://{imds}"),
    )];
    acr.check_env(&[], &env).assert_code(1).assert_error_block(
        "CREDENTIAL_NOT_FOUND_ERROR",
        "the VM has several user-assigned identities: name the one to use with AZURE_CLIENT_ID",
    );
}

/// A registry whose Azure AD refuses the service principal's secret (with
/// Azure AD's real CRLF description), and whose exchange answers `exchange`.
fn refusing_the_service_principal(exchange: Option<u16>) -> FakeAcr {
    let body: &'static str = Box::leak(
        json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 0f1e\r\nCorrelation ID: 9a8b\r\nTimestamp: 2026-12-02 10:00:00Z", "error_codes": [7000215]})
            .to_string()
            .into_boxed_str(),
    );
    FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        let arm = arm_handler(vec![registry_doc(json!({}), json!(null))], vec![]);
        move |r: &crate::common::server::Request| {
            if r.path.ends_with("/oauth2/v2.0/token") {
                return Some(crate::common::server::Reply::json(401, body));
            }
            if let (Some(status), "/oauth2/exchange") = (exchange, r.path.as_str()) {
                return Some(crate::common::server::Reply::json(
                    status,
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized"}]}"#,
                ));
            }
            arm(r)
        }
    })
}

#[test]
fn a_configured_service_principal_that_fails_is_reported_when_the_az_login_answers() {
    for exchange in [None, Some(401)] {
        let acr = refusing_the_service_principal(exchange);
        az_answering(&acr);
        let dir = az_logged_in(&acr, now() + 3600);
        let mut env = acr.sp_env();
        env.push(("AZURE_CONFIG_DIR".into(), dir.path().display().to_string()));
        // The az login answers, as az check-health (which ignores the
        // service principal's variables) would have it, and the report says
        // that the configured service principal was refused: as a warning
        // when the rest passes, beside the failure when it does not.
        let out = acr.check_env(&["--json"], &env);
        out.assert_code(if exchange.is_some() { 1 } else { 0 });
        let refresh = out.check("registry.refresh_token");
        let status = if exchange.is_some() { "fail" } else { "warn" };
        assert_eq!(refresh["status"], status, "{refresh}");
        assert_eq!(
            refresh["details"]["credential"],
            "Azure CLI login (token cache)"
        );
        let notes = refresh["details"]["notes"].to_string();
        assert!(notes.contains("the service principal (AZURE_CLIENT_SECRET) configured in this environment gave no token"), "{notes}");
        assert!(
            notes.contains("AADSTS7000215: the client secret is wrong"),
            "{notes}"
        );
        assert!(!notes.contains("expected a borrowed string"), "{notes}");
    }
}

#[test]
fn off_azure_with_no_credential_the_probe_costs_at_most_a_second() {
    let acr = FakeAcr::healthy();
    // Nothing listens where the metadata service would be.
    let env = vec![(
        "AZURE_POD_IDENTITY_AUTHORITY_HOST".to_string(),
        "http://127.0.0.2:9".to_string(),
    )];
    let out = acr.check_env(&[], &env);
    out.assert_code(1).assert_error_block(
        "CREDENTIAL_NOT_FOUND_ERROR",
        "no managed identity endpoint or instance metadata service",
    );
    assert!(
        out.elapsed < std::time::Duration::from_secs(3),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn a_registry_refusing_arm_audience_tokens_gets_its_own_audience_from_az() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let arm_jwt = format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256"}"#),
        b64(&format!(
            r#"{{"aud":"https://management.core.windows.net/","tid":"{TENANT}"}}"#
        ))
    );
    let refused = arm_jwt.clone();
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        let arm = arm_handler(vec![registry_doc(json!({}), json!(null))], vec![]);
        move |r: &crate::common::server::Request| {
            if r.path == "/oauth2/exchange"
                && r.form("access_token").as_deref() == Some(refused.as_str())
            {
                return Some(crate::common::server::Reply::json(
                    401,
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"ARM-audience tokens are disabled for this registry"}]}"#,
                ));
            }
            arm(r)
        }
    });
    az_answering(&acr);
    let dir = az_logged_in(&acr, now() + 3600);
    let cache = std::fs::read_to_string(dir.path().join("msal_token_cache.json")).unwrap();
    std::fs::write(
        dir.path().join("msal_token_cache.json"),
        cache.replace(&aad_jwt(TENANT), &arm_jwt),
    )
    .unwrap();
    let out = run_logged_in(&acr, &dir);
    out.assert_code(0);
    let refresh = out.check("registry.refresh_token");
    assert!(
        refresh["details"]["notes"]
            .to_string()
            .contains("azureADAuthenticationAsArmPolicy"),
        "{refresh}"
    );
    let calls = acr.tools.calls("az");
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].contains("--scope https://containerregistry.azure.net/.default"));
}

#[test]
fn azure_ad_refusals_are_explained_by_their_aadsts_code() {
    for (code, words) in [
        (
            "AADSTS7000222",
            "the client secret has expired: create a new one",
        ),
        ("AADSTS7000215", "the client secret is wrong"),
        (
            "AADSTS700016",
            "no application with this client id exists in the tenant",
        ),
        ("AADSTS90002", "the tenant does not exist"),
        ("AADSTS53003", "Conditional Access blocked the sign-in"),
    ] {
        let body: &'static str = Box::leak(
            json!({"error": "invalid_client", "error_description": format!("{code}: Azure AD says no. Trace ID: x")})
                .to_string()
                .into_boxed_str(),
        );
        let acr = FakeAcr::start(move |r| {
            r.path
                .ends_with("/oauth2/v2.0/token")
                .then(|| crate::common::server::Reply::json(401, body))
        });
        acr.check(&[]).assert_code(1).assert_error_block(
            "CREDENTIAL_NOT_FOUND_ERROR",
            &format!("{code} (service principal (AZURE_CLIENT_SECRET)): {words}"),
        );
    }
}
