//! Black-box tests of what Resource Manager adds: the login server, CMK
//! identity, firewall explanation and data endpoints.
#![cfg(unix)]

use crate::common::acr::*;
use serde_json::json;

#[test]
fn login_server_with_a_hash_suffix_comes_from_arm() {
    let acr = FakeAcr::with_hashed_login_server();
    let out = acr.check_arm(&["--json"], false);
    out.assert_code(0);
    let report = out.json();
    let ls = format!("{HASHED}:{}", acr.server.port());
    assert_eq!(report["registry"]["login_server"], ls.as_str());
    assert_eq!(report["registry"]["login_server_source"], "arm");
    assert_eq!(out.check("registry.arm")["status"], "pass");
    assert_eq!(out.check("registry.challenge")["status"], "pass");
    assert!(
        acr.dns.asked().iter().any(|n| n == HASHED),
        "{:?}",
        acr.dns.asked()
    );
    assert_eq!(
        out.check("registry.cmk")["message"],
        "Customer-managed key: not used (Microsoft-managed encryption)"
    );
    // The token steps went to the login server Resource Manager named.
    let ex = &acr.server.requests_to("/oauth2/exchange")[0];
    assert_eq!(ex.form("service").as_deref(), Some(HASHED));
}

#[test]
fn registry_not_found_falls_back_with_the_reason() {
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| arm_handler(vec![], vec![]));
    let out = acr.check_arm(&["--json"], true);
    out.assert_code(0);
    let arm = out.check("registry.arm");
    assert_eq!(arm["status"], "warn");
    assert!(
        arm["message"].as_str().unwrap().contains(&format!(
            "no registry named 'myregistry' in subscription {SUBSCRIPTION}"
        )),
        "{arm}"
    );
    let cmk = out.check("registry.cmk");
    assert_eq!(cmk["status"], "skip");
    assert!(
        cmk["message"]
            .as_str()
            .unwrap()
            .starts_with("needs Resource Manager: no registry named"),
        "{cmk}"
    );
}

#[test]
fn without_a_subscription_arm_is_not_used() {
    let acr = FakeAcr::healthy();
    let out = acr.check(&["--json"]);
    out.assert_code(0);
    let arm = out.check("registry.arm");
    assert_eq!(arm["status"], "skip");
    assert!(
        arm["message"]
            .as_str()
            .unwrap()
            .contains("no subscription is known"),
        "{arm}"
    );
    assert!(!acr
        .server
        .requests()
        .iter()
        .any(|r| r.path.starts_with("/subscriptions/")));
}

fn uai_id(name: &str) -> String {
    format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
}

fn cmk(identity: &str) -> serde_json::Value {
    json!({"encryption": {"status": "enabled", "keyVaultProperties": {"identity": identity, "keyIdentifier": "https://kv.vault.azure.net/keys/k/1"}}})
}

#[test]
fn cmk_with_a_system_identity_passes_and_without_one_fails() {
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(
            vec![registry_doc(
                cmk("system"),
                json!({"type": "SystemAssigned", "principalId": "p-1"}),
            )],
            vec![],
        )
    });
    let out = acr.check_arm(&[], true);
    out.assert_code(0)
        .assert_stdout_has("Customer-managed key identity: system-assigned (principal p-1) : OK");

    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(vec![registry_doc(cmk("system"), json!(null))], vec![])
    });
    acr.check_arm(&[], true)
        .assert_code(1)
        .assert_error_block("CMK_ERROR", "has no system-assigned identity");
}

#[test]
fn cmk_with_a_user_assigned_identity() {
    let client = "aaaaaaaa-0000-0000-0000-000000000001";
    let identity = json!({"type": "UserAssigned", "userAssignedIdentities": {uai_id("cmk-id"): {"principalId": "p-2", "clientId": client}}});
    let id_doc =
        json!({"id": uai_id("cmk-id"), "properties": {"clientId": client, "principalId": "p-2"}});
    let (doc, ident) = (registry_doc(cmk(client), identity.clone()), id_doc.clone());
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        arm_handler(vec![doc], vec![(uai_id("cmk-id"), ident)])
    });
    acr.check_arm(&[], true)
        .assert_code(0)
        .assert_stdout_has(&format!(
            "Customer-managed key identity: {} : OK",
            uai_id("cmk-id")
        ));

    // The identity resource was deleted.
    let doc = registry_doc(cmk(client), identity);
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        arm_handler(vec![doc], vec![])
    });
    acr.check_arm(&[], true)
        .assert_code(1)
        .assert_error_block("CMK_ERROR", "no longer exists");

    // The encryption names a client id the registry has no identity for.
    let doc = registry_doc(
        cmk("bbbbbbbb-0000-0000-0000-000000000002"),
        json!({"type": "UserAssigned", "userAssignedIdentities": {}}),
    );
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        arm_handler(vec![doc], vec![])
    });
    acr.check_arm(&[], true).assert_code(1).assert_error_block(
        "CMK_ERROR",
        "no user-assigned identity of the registry has that client id",
    );
}

fn firewalled(rules: serde_json::Value) -> FakeAcr {
    firewalled_with("Deny", rules)
}

fn firewalled_with(default_action: &str, rules: serde_json::Value) -> FakeAcr {
    let doc = registry_doc(
        json!({"networkRuleSet": {"defaultAction": default_action, "ipRules": rules}}),
        json!(null),
    );
    FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        let arm = arm_handler(vec![doc], vec![]);
        move |r: &crate::common::server::Request| {
            if r.path == "/v2/" {
                return Some(crate::common::server::Reply::json(
                    403,
                    r#"{"errors":[{"code":"DENIED","message":"client with IP '203.0.113.7' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."}]}"#,
                ));
            }
            arm(r)
        }
    })
}

#[test]
fn firewall_denial_says_whether_the_ip_is_in_the_rules() {
    let acr = firewalled(json!([{"action": "Allow", "value": "198.51.100.0/24"}]));
    acr.check_arm(&[], true).assert_code(1).assert_error_block(
        "CONNECTIVITY_FORBIDDEN_ERROR",
        "203.0.113.7 is not in the IP rules: add it (az acr network-rule add --ip-address 203.0.113.7)",
    );
    let acr = firewalled(json!([{"action": "Allow", "value": "203.0.113.0/24"}]));
    acr.check_arm(&[], true).assert_code(1).assert_error_block(
        "CONNECTIVITY_FORBIDDEN_ERROR",
        "203.0.113.7 is in the IP rules",
    );
    // A firewall that lets everyone in explains nothing; it does not
    // suggest "set the default action to Allow".
    let acr = firewalled_with("Allow", json!([]));
    let out = acr.check_arm(&[], true);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_FORBIDDEN_ERROR",
        "so it does not explain the 403. Something else refuses: a network security perimeter",
    );
    out.assert_stdout_lacks("set the default action to Allow");
}

#[test]
fn data_endpoints_are_checked() {
    const DATA: &str = "myregistry.eastus.data.azurecr.io";
    let data_doc = |port: u16| {
        registry_doc(
            json!({"dataEndpointEnabled": true, "dataEndpointHostNames": [format!("{DATA}:{port}")]}),
            json!(null),
        )
    };
    // Healthy: resolves, TLS for its name, GET / answers 403.
    let acr = FakeAcr::with_arm(&[HOST, DATA, "127.0.0.1"], move |port| {
        let arm = arm_handler(vec![data_doc(port)], vec![]);
        move |r: &crate::common::server::Request| {
            if r.path == "/" {
                Some(crate::common::server::Reply::new(403, ""))
            } else {
                arm(r)
            }
        }
    });
    acr.dns.a(DATA, "127.0.0.1");
    let out = acr.check_arm(&[], true);
    out.assert_code(0)
        .assert_stdout_has(&format!("Data endpoints {DATA}:{} : OK", acr.server.port()));

    // Not in DNS.
    let acr = FakeAcr::with_arm(&[HOST, DATA, "127.0.0.1"], move |port| {
        arm_handler(vec![data_doc(port)], vec![])
    });
    acr.check_arm(&[], true).assert_code(1).assert_error_block(
        "DATA_ENDPOINT_ERROR",
        "DNS: the name does not exist (NXDOMAIN)",
    );

    // A certificate without the data endpoint's name.
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |port| {
        arm_handler(vec![data_doc(port)], vec![])
    });
    acr.dns.a(DATA, "127.0.0.1");
    acr.check_arm(&[], true)
        .assert_code(1)
        .assert_error_block("DATA_ENDPOINT_ERROR", "name mismatch");
}

fn access_jwt(repo: &str, actions: &[&str]) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let access = json!([{"type": "repository", "name": repo, "actions": actions}]);
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256"}"#),
        b64(&json!({"access": access, "iss": "Azure Container Registry"}).to_string())
    )
}

fn token_reply(
    jwt: String,
) -> impl Fn(&crate::common::server::Request) -> Option<crate::common::server::Reply> + Send + Sync
{
    move |r| {
        (r.path == "/oauth2/token").then(|| {
            crate::common::server::Reply::json(200, &json!({"access_token": jwt}).to_string())
        })
    }
}

#[test]
fn repository_grants_are_reported_and_required_ones_enforced() {
    // As az asks: every action, to see which the registry grants.
    let acr = FakeAcr::start(token_reply(access_jwt(
        "samples/app",
        &["pull", "metadata_read"],
    )));
    let out = acr.check(&["--repository", "samples/app", "--json"]);
    out.assert_code(0);
    let token = &acr.server.requests_to("/oauth2/token")[0];
    assert_eq!(
        token.form("scope").as_deref(),
        Some("repository:samples/app:pull,push,metadata_write,metadata_read,delete")
    );
    let check = out.check("registry.access_token");
    assert_eq!(
        check["details"]["missing_actions"],
        json!(["push", "metadata_write", "delete"])
    );
    assert!(check["details"]["notes"]
        .to_string()
        .contains("not granted push, metadata_write and delete"));
    // --require turns a missing action into az's failure.
    let out = acr.check(&["--repository", "samples/app", "--require", "push,delete"]);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        "You have pull and metadata_read permissions to the repository. You are lacking push, metadata_write and delete repository permissions.",
    );
    out.assert_text_has("The access token grants no push and delete on repository 'samples/app'.");
}

#[test]
fn repository_access_must_grant_pull() {
    let acr = FakeAcr::start(token_reply(access_jwt("samples/app", &["pull"])));
    let out = acr.check(&["--repository", "samples/app", "--json"]);
    out.assert_code(0);
    assert_eq!(
        out.check("registry.access_token")["details"]["granted_actions"],
        json!(["pull"])
    );

    let acr = FakeAcr::start(token_reply(access_jwt("samples/app", &[])));
    acr.check(&["--repository", "samples/app"]).assert_code(1).assert_error_block(
        "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        "You have no permissions to the repository. You are lacking pull, push, metadata_write, metadata_read and delete repository permissions. Please verify if you have full read, write, and delete permissions to the repository in the registry.\nThe access token grants no pull on repository 'samples/app'. The identity needs the role 'AcrPull'",
    );

    // With ABAC repository permissions, the role to name is another.
    let doc = registry_doc(
        json!({"roleAssignmentMode": "AbacRepositoryPermissions"}),
        json!(null),
    );
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        let arm = arm_handler(vec![doc], vec![]);
        let token = token_reply(access_jwt("samples/app", &[]));
        move |r: &crate::common::server::Request| token(r).or_else(|| arm(r))
    });
    acr.check_arm(&["--repository", "samples/app"], true)
        .assert_code(1)
        .assert_error_block(
            "CONNECTIVITY_ACCESS_TOKEN_ERROR",
            "Container Registry Repository Reader",
        );
}

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","size":1470},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":3000000},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:5555555555555555555555555555555555555555555555555555555555555555","size":581}]}"#;

#[test]
fn image_manifest_and_smallest_layer_are_fetched_through_the_redirect() {
    const DATA: &str = "myregistry.eastus.data.azurecr.io";
    let acr = FakeAcr::with_arm(&[HOST, DATA, "127.0.0.1"], move |port| {
        move |r: &crate::common::server::Request| {
            match r.path.as_str() {
            "/v2/samples/app/manifests/v1" => Some(crate::common::server::Reply::json(200, MANIFEST)),
            "/v2/samples/app/blobs/sha256:5555555555555555555555555555555555555555555555555555555555555555" => {
                Some(crate::common::server::Reply::new(307, "").header(
                    "location",
                    &format!("https://{DATA}:{port}/blob/small?sig=abc"),
                ))
            }
            "/blob/small" => Some(crate::common::server::Reply::new(200, "layer-bytes")),
            _ => None,
        }
        }
    });
    acr.dns.a(DATA, "127.0.0.1");
    let out = acr.check(&["--repository", "samples/app", "--image", "v1"]);
    out.assert_code(0).assert_stdout_has(&format!(
        "Pull of 'samples/app:v1': manifest and smallest layer (581 bytes, from {DATA}) : OK"
    ));
    let manifest = &acr.server.requests_to("/v2/samples/app/manifests/v1")[0];
    assert!(manifest
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && v.starts_with("Bearer ")));
    // The pre-signed layer URL gets no registry token.
    let blob = &acr.server.requests_to("/blob/small")[0];
    assert!(
        !blob.headers.iter().any(|(k, _)| k == "authorization"),
        "token sent to the layer host"
    );
    assert!(
        acr.server
            .requests_to("/v2/samples/app/blobs/sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
            .is_empty(),
        "the big layer was fetched"
    );

    let out = acr.check(&["--repository", "samples/app", "--image", "nope"]);
    out.assert_code(1).assert_error_block(
        "IMAGE_PULL_ERROR",
        "GET /v2/samples/app/manifests/nope answered 404 (NOT_FOUND: not found)",
    );
}

#[test]
fn vnet_private_endpoint_dns_routing() {
    let pe = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.Network/privateEndpoints/pe1");
    let nic = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/pe1.nic");
    let subnet = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default");
    let make = |pe: String, nic: String, subnet: String| {
        let doc = registry_doc(
            json!({"privateEndpointConnections": [{"properties": {"privateEndpoint": {"id": pe.clone()}}}]}),
            json!(null),
        );
        move |_port: u16| {
            let arm = arm_handler(vec![doc], vec![]);
            move |r: &crate::common::server::Request| {
                if r.path == pe {
                    return Some(crate::common::server::Reply::json(200, &json!({"properties": {"subnet": {"id": subnet}, "networkInterfaces": [{"id": nic}]}}).to_string()));
                }
                if r.path == nic {
                    let configs = json!({"properties": {"ipConfigurations": [
                        {"properties": {"privateIPAddress": "10.1.0.4", "privateLinkConnectionProperties": {"fqdns": [HOST]}}},
                        {"properties": {"privateIPAddress": "10.1.0.5", "privateLinkConnectionProperties": {"fqdns": ["myregistry.eastus.data.azurecr.io"]}}}
                    ]}});
                    return Some(crate::common::server::Reply::json(
                        200,
                        &configs.to_string(),
                    ));
                }
                arm(r)
            }
        }
    };
    // The data endpoint's FQDN resolves to `data_ip`; names are only
    // resolved, never connected to (TLS is skipped).
    let check_with = |data_ip: &str| {
        let acr = FakeAcr::with_arm(
            &[HOST, "127.0.0.1"],
            make(pe.clone(), nic.clone(), subnet.clone()),
        );
        let dns = crate::common::dns::DnsServer::start();
        dns.a(HOST, "10.1.0.4")
            .a("myregistry.eastus.data.azurecr.io", data_ip);
        let args = [
            "--vnet",
            "vnet1",
            "--ignore-errors",
            "--skip",
            "registry.tls",
            "--dns-server",
            &dns.flag(),
        ];
        acr.check_arm(&args, true)
    };
    check_with("10.1.0.5").assert_stdout_has("DNS routing to private endpoint : OK");
    // Wrong routing: a public-looking (documentation range) address.
    let out = check_with("192.0.2.10");
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_DNS_ERROR",
        "DNS routing to registry \"myregistry\" through private IP is incorrect. Expect: 10.1.0.5, Actual: 192.0.2.10 (for myregistry.eastus.data.azurecr.io)",
    );
    out.assert_text_has("DNS routing verification failed");
}

#[test]
fn private_endpoints_with_public_dns_are_warned_about() {
    let pe = json!([{"properties": {"privateEndpoint": {"id": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.Network/privateEndpoints/pe1"}}}]);
    let doc = registry_doc(json!({"privateEndpointConnections": pe}), json!(null));
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        arm_handler(vec![doc], vec![])
    });
    let dns = crate::common::dns::DnsServer::start();
    // A public (documentation-range) address; TLS is skipped so nothing connects to it.
    dns.a(HOST, "192.0.2.10");
    let out = acr.check_arm(
        &[
            "--json",
            "--skip",
            "registry.tls",
            "--dns-server",
            &dns.flag(),
        ],
        true,
    );
    let check = out.check("registry.dns");
    assert_eq!(check["status"], "warn", "{check}");
    let notes = check["details"]["notes"].to_string();
    assert!(
        notes.contains("the registry has private endpoints, but DNS answers a public address"),
        "{notes}"
    );
}

#[test]
fn the_tokens_do_not_wait_for_resource_manager() {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    let slow = Duration::from_millis(1500);
    let seen: Arc<Mutex<(Option<Instant>, Option<Instant>)>> = Arc::default();
    let s = seen.clone();
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
        let arm = arm_handler(vec![registry_doc(json!({}), json!(null))], vec![]);
        move |r: &crate::common::server::Request| {
            if r.path == "/oauth2/token" {
                s.lock().unwrap().1 = Some(Instant::now());
            }
            let reply = arm(r)?;
            s.lock().unwrap().0 = Some(Instant::now());
            Some(reply.after(slow))
        }
    });
    // The test world's registry listens on a port of its own: name it with
    // --login-server, as the login server Resource Manager would confirm.
    let out = acr.check_arm(&["--json"], true);
    out.assert_code(0);
    let (arm_asked, token_asked) = *seen.lock().unwrap();
    let (arm_asked, token_asked) = (arm_asked.unwrap(), token_asked.unwrap());
    // The access token was asked for while Resource Manager was still
    // answering.
    assert!(
        token_asked < arm_asked + slow,
        "the token request waited for Resource Manager"
    );
    assert_eq!(out.check("registry.arm")["status"], "pass");
    assert_eq!(out.check("registry.access_token")["status"], "pass");
}

#[test]
fn a_resource_manager_endpoint_over_plain_http_gets_no_token() {
    let (plain, log) = crate::common::plain::http_server(200, "{}");
    let acr = FakeAcr::healthy();
    let cfg = acr.arm_config();
    let me = format!("https://127.0.0.1:{}", acr.server.port());
    std::fs::write(
        cfg.path().join("clouds.config"),
        format!("[TestCloud]\nendpoint_resource_manager = http://{plain}/\nendpoint_active_directory = {me}\nendpoint_active_directory_resource_id = https://management.core.windows.net/\nsuffix_acr_login_server_endpoint = .azurecr.io\n"),
    )
    .unwrap();
    let mut env = acr.sp_env();
    env.push(("AZURE_CONFIG_DIR".into(), cfg.path().display().to_string()));
    let mut args = acr.args();
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = crate::common::run_with(&args, &acr.tools, &env);
    let arm = out.check("registry.arm");
    assert_eq!(arm["status"], "skip", "{arm}");
    assert!(
        arm["message"]
            .as_str()
            .unwrap()
            .contains("not an https URL"),
        "{arm}"
    );
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());
}

#[test]
fn resource_manager_tokens_are_asked_for_the_clouds_audience_as_az_asks() {
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(vec![registry_doc(json!({}), json!(null))], vec![])
    });
    acr.check_arm(&[], true).assert_code(0);
    let scopes: Vec<String> = acr
        .server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .filter_map(|r| r.form("scope"))
        .collect();
    // The test cloud's Resource Manager is this server; its audience is
    // endpoint_active_directory_resource_id.
    assert!(
        scopes.contains(&"https://management.core.windows.net//.default".to_string()),
        "{scopes:?}"
    );
    assert!(
        !scopes.iter().any(|s| s.starts_with("https://127.0.0.1")),
        "{scopes:?}"
    );
}

#[test]
fn vnet_on_a_registry_without_private_endpoints_says_so_in_azs_words() {
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(vec![registry_doc(json!({}), json!(null))], vec![])
    });
    let out = acr.check_arm(&["--vnet", "vnet1", "--json"], true);
    let check = out.check("registry.private_endpoint");
    assert_eq!(check["status"], "fail", "{check}");
    assert_eq!(
        check["message"].as_str().unwrap().lines().last().unwrap(),
        "Registry \"myregistry\" doesn't have private endpoints to verify DNS routings."
    );
}
