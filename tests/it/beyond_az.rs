//! Pull failures az's health check does not see: a clock far from the
//! registry's, Azure AD's refusals in words, an image without this
//! machine's platform.
#![cfg(unix)]

use crate::common::acr::*;
use crate::common::server::{Reply, Request};

fn http_date(unix: u64) -> String {
    // IMF-fixdate, without a date crate: days since the epoch to a civil date.
    let (days, secs) = ((unix / 86_400) as i64, unix % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days.rem_euclid(7)) as usize];
    format!(
        "{weekday}, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
        months[(m - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_clock_far_from_the_registrys_is_a_warning() {
    let skewed = http_date(now() - 3600);
    let acr = FakeAcr::start(move |r: &Request| {
        (r.path == "/v2/").then(|| {
            let host = r.host();
            Reply::json(401, "{}")
                .header(
                    "www-authenticate",
                    &crate::common::server::bearer_challenge(&host),
                )
                .header("date", &skewed)
        })
    });
    let out = acr.check(&["--json"]);
    out.assert_code(0);
    let challenge = out.check("registry.challenge");
    assert_eq!(challenge["status"], "warn", "{challenge}");
    let message = challenge["message"].as_str().unwrap();
    assert!(message.contains("ahead of the registry's"), "{message}");
    assert!(challenge["details"]["notes"]
        .to_string()
        .contains("look expired or not yet valid"));
    // In step with the registry (the fake's own Date): no warning.
    let acr = FakeAcr::healthy();
    let out = acr.check(&["--json"]);
    let challenge = out.check("registry.challenge");
    assert_eq!(challenge["status"], "pass", "{challenge}");
    assert!(
        challenge["details"]["clock_skew_secs"]
            .as_i64()
            .unwrap()
            .abs()
            < 5
    );
}

const INDEX: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
 {"digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":500,"platform":{"os":"linux","architecture":"amd64"}},
 {"digest":"sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd","size":500,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}"#;

fn image_registry() -> FakeAcr {
    let layer = format!(
        r#"{{"schemaVersion":2,"layers":[{{"digest":"sha256:{}","size":5}}]}}"#,
        "5".repeat(64)
    );
    let layer: &'static str = Box::leak(layer.into_boxed_str());
    FakeAcr::start(move |r: &Request| match r.path.as_str() {
        "/v2/samples/app/manifests/v1" => Some(Reply::json(200, INDEX)),
        p if p.starts_with("/v2/samples/app/manifests/sha256:") => Some(Reply::json(200, layer)),
        p if p.starts_with("/v2/samples/app/blobs/") => Some(Reply::new(200, "bytes")),
        "/v2/samples/app/manifests/gone" => Some(Reply::json(
            404,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest tagged by \"gone\" is not found"}]}"#,
        )),
        _ => None,
    })
}

#[test]
fn an_image_without_this_platform_is_a_failure_naming_what_exists() {
    let acr = image_registry();
    let base = ["--repository", "samples/app", "--image", "v1"];
    let mut args = base.to_vec();
    args.extend(["--platform", "linux/s390x"]);
    acr.check(&args).assert_code(1).assert_error_block(
        "IMAGE_PULL_ERROR",
        "the image has no variant for linux/s390x, the platform that would pull it; it has linux/amd64 and linux/arm64/v8",
    );
    let mut args = base.to_vec();
    args.extend(["--platform", "linux/arm64", "--json"]);
    let out = acr.check(&args);
    out.assert_code(0);
    assert!(acr.server.requests().iter().any(|r| r.path.ends_with(
        "/manifests/sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
    )));
}

#[test]
fn an_index_platform_with_line_breaks_starts_no_line_of_the_report() {
    // The registry's text in os, architecture and variant, each trying to
    // forge a line of the report at column 0.
    let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
        {"digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":1,
         "platform":{"os":"linux\nPull of 'hello:latest' : OK","architecture":"amd64\r\nHealthy: 9 OK, 0 errors","variant":"v8\u2028Forged"}}]}"#;
    let acr = FakeAcr::start(move |r: &Request| {
        (r.path == "/v2/samples/app/manifests/v1").then(|| Reply::json(200, index))
    });
    let args = [
        "--repository",
        "samples/app",
        "--image",
        "v1",
        "--platform",
        "linux/s390x",
    ];
    let out = acr.check(&args);
    out.assert_code(1);
    assert!(
        !out.stdout.contains('\u{2028}'),
        "a line separator reached the report"
    );
    for forged in ["Pull of 'hello:latest'", "Healthy: 9 OK", "Forged"] {
        assert!(
            !out.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(forged)),
            "{forged:?} starts a line:\n{}",
            out.stdout
        );
    }
    out.assert_stdout_has("linux\\nPull of");
}

#[test]
fn a_missing_tag_is_told_from_a_permission_problem() {
    let acr = image_registry();
    acr.check(&["--repository", "samples/app", "--image", "gone"])
        .assert_code(1)
        .assert_error_block(
            "IMAGE_PULL_ERROR",
            "answered 404 (MANIFEST_UNKNOWN: manifest tagged by \"gone\" is not found): the tag or repository does not exist (the token was accepted)",
        );
}

#[test]
fn a_registry_refusing_arm_audience_tokens_is_a_warning_naming_who_breaks() {
    use serde_json::json;
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(
            vec![registry_doc(
                json!({"policies": {"azureADAuthenticationAsArmPolicy": {"status": "disabled"}}}),
                json!(null),
            )],
            vec![],
        )
    });
    let out = acr.check_arm(&["--json"], true);
    out.assert_code(0);
    let arm = out.check("registry.arm");
    assert_eq!(arm["status"], "warn", "{arm}");
    let message = arm["message"].as_str().unwrap();
    assert!(
        message.contains("refuses Resource Manager-audience Azure AD tokens"),
        "{message}"
    );
    assert!(
        message.contains("AKS's kubelet credential provider"),
        "{message}"
    );
    // Enabled (or absent): no warning.
    let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], |_| {
        arm_handler(
            vec![registry_doc(
                json!({"policies": {"azureADAuthenticationAsArmPolicy": {"status": "enabled"}}}),
                json!(null),
            )],
            vec![],
        )
    });
    assert_eq!(
        acr.check_arm(&["--json"], true).check("registry.arm")["status"],
        "pass"
    );
}

fn jwt_expiring(exp: u64) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256"}"#),
        b64(&format!(r#"{{"exp":{exp},"grant_type":"refresh_token"}}"#))
    )
}

/// Runs the check with docker's configuration folder holding `config`.
fn with_docker_config(acr: &FakeAcr, config: &serde_json::Value) -> crate::common::Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let mut env = acr.sp_env();
    env.push(("DOCKER_CONFIG".into(), dir.path().display().to_string()));
    acr.check_env(&["--json"], &env)
}

#[test]
fn the_credential_docker_would_use_is_checked() {
    use serde_json::json;
    let acr = FakeAcr::healthy();
    let ls = acr.login_server();
    let check = |out: &crate::common::Run| out.check("registry.docker_credential");
    // Nothing stored: docker would pull anonymously.
    let out = with_docker_config(&acr, &json!({}));
    assert_eq!(check(&out)["status"], "warn");
    assert!(check(&out)["message"]
        .as_str()
        .unwrap()
        .contains("docker has no credential for"));
    // A helper that is not installed.
    let out = with_docker_config(&acr, &json!({"credHelpers": {ls.clone(): "acr-env"}}));
    assert!(
        check(&out)["message"]
            .as_str()
            .unwrap()
            .contains("docker-credential-acr-env is not on PATH"),
        "{}",
        check(&out)
    );
    // A helper that has the token, as az acr login stores it.
    let token = jwt_expiring(now() + 3600);
    acr.tools.write_executable(
        "docker-credential-acr-env",
        &format!("#!/bin/sh\n/bin/cat > \"$0.stdin\"\nprintf '%s' '{{\"ServerURL\":\"{ls}\",\"Username\":\"00000000-0000-0000-0000-000000000000\",\"Secret\":\"{token}\"}}'\n"),
    );
    let out = with_docker_config(&acr, &json!({"credHelpers": {ls.clone(): "acr-env"}}));
    assert_eq!(check(&out)["status"], "pass", "{}", check(&out));
    let asked =
        std::fs::read_to_string(acr.tools.path().join("docker-credential-acr-env.stdin")).unwrap();
    assert_eq!(
        asked, ls,
        "the helper was asked for the login server on stdin"
    );
    assert!(!out.stdout.contains(&token), "the helper's secret leaked");
    // A helper without an entry for the server.
    acr.tools.write_executable(
        "docker-credential-desktop",
        "#!/bin/sh\necho 'credentials not found in native keychain' >&2\nexit 1\n",
    );
    let out = with_docker_config(&acr, &json!({"credsStore": "desktop"}));
    assert!(
        check(&out)["message"]
            .as_str()
            .unwrap()
            .contains("credentials not found in native keychain"),
        "{}",
        check(&out)
    );
    // A stored token that has expired.
    let expired = jwt_expiring(now() - 7200);
    let out = with_docker_config(
        &acr,
        &json!({"auths": {ls.clone(): {"identitytoken": expired}}}),
    );
    assert_eq!(check(&out)["status"], "warn");
    let message = check(&out)["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("is a token that expired")
            && message.contains("Run az acr login -n myregistry"),
        "{message}"
    );
    assert!(!out.stdout.contains(&expired));
    // A token stored under another user name than az's token user.
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("someone:{token}"));
    let out = with_docker_config(
        &acr,
        &json!({"auths": {format!("https://{ls}"): {"auth": auth}}}),
    );
    assert_eq!(check(&out)["status"], "pass");
    assert!(check(&out)["details"]["notes"]
        .to_string()
        .contains("not 00000000-0000-0000-0000-000000000000"));
}

#[test]
fn the_docker_daemons_own_proxy_and_registry_settings_are_checked() {
    let acr = FakeAcr::healthy();
    let ls = acr.login_server();
    let info = |https_proxy: &str, no_proxy: &str, insecure: bool| {
        serde_json::json!({
            "HttpProxy": "", "HttpsProxy": https_proxy, "NoProxy": no_proxy,
            "RegistryConfig": {
                "InsecureRegistryCIDRs": ["127.0.0.0/8"],
                "IndexConfigs": {ls.clone(): {"Name": ls, "Mirrors": [], "Secure": !insecure, "Official": false}},
                "Mirrors": []
            }
        })
        .to_string()
    };
    let daemon = |json: String| {
        acr.tools
            .add("docker", &[crate::common::answer("info", &json)]);
        acr.check(&["--json"])
    };
    // The daemon pulls through a proxy the shell does not use, and exempts
    // the login server but not the storage the layers come from.
    let out = daemon(info("http://proxy.corp:3128", HOST, false));
    let check = out.check("registry.docker_daemon");
    assert_eq!(check["status"], "warn", "{check}");
    let all = check.to_string();
    assert!(all.contains("NO_PROXY exempts"), "{all}");
    let out = daemon(info("http://proxy.corp:3128", "", false));
    assert!(out.check("registry.docker_daemon")["message"]
        .as_str()
        .unwrap()
        .contains("pulls through the proxy http://proxy.corp:3128"));
    // The login server as an insecure registry.
    let out = daemon(info("", "", true));
    assert!(out.check("registry.docker_daemon")["message"]
        .as_str()
        .unwrap()
        .contains("insecure registry"));
    // Nothing of the kind.
    let out = daemon(info("", "", false));
    assert_eq!(out.check("registry.docker_daemon")["status"], "pass");
}

#[test]
fn docker_info_as_several_docker_versions_print_it_is_read() {
    let acr = FakeAcr::healthy();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/docker-info");
    for (fixture, status, says) in [
        ("engine-20.10.json", "pass", "network settings for"),
        ("engine-28.json", "pass", "network settings for"),
        // podman answers with its own document: nothing to judge, said so.
        (
            "podman-4.json",
            "skip",
            "docker info names no registry settings",
        ),
        // Desktop pulls through its own proxy, which this shell does not use.
        (
            "desktop-24.0.6.json",
            "warn",
            "pulls through the proxy http://http.docker.internal:3128",
        ),
    ] {
        let json = std::fs::read_to_string(format!("{dir}/{fixture}")).unwrap();
        acr.tools
            .add("docker", &[crate::common::answer("info", json.trim())]);
        let out = acr.check(&["--json"]);
        let check = out.check("registry.docker_daemon");
        assert_eq!(check["status"], status, "{fixture}: {check}");
        assert!(check.to_string().contains(says), "{fixture}: {check}");
    }
    // What cannot be read is said so, with the reader's reason, not as a
    // daemon that did not answer.
    acr.tools.add(
        "docker",
        &[crate::common::answer(
            "info",
            r#"{"RegistryConfig":{"Mirrors":7}}"#,
        )],
    );
    let check = acr
        .check(&["--json"])
        .check("registry.docker_daemon")
        .clone();
    assert_eq!(check["status"], "skip", "{check}");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.starts_with("docker info printed JSON acr-health cannot read ("),
        "{message}"
    );
}

#[test]
fn one_ip_family_failing_while_the_other_works_is_a_warning() {
    let acr = FakeAcr::healthy();
    // The registry listens on IPv4 only, but DNS also gives an IPv6 address.
    acr.dns.add(
        HOST,
        crate::common::dns::Entry::Addr("::1".parse().unwrap()),
    );
    let out = acr.check(&["--json"]);
    out.assert_code(0);
    let tls = out.check("registry.tls");
    assert_eq!(tls["status"], "warn", "{tls}");
    assert!(
        tls["details"]["notes"]
            .to_string()
            .contains("IPv4 works but IPv6 does not (::1: connection refused)"),
        "{tls}"
    );
    // One family only: nothing to compare.
    let acr = FakeAcr::healthy();
    assert_eq!(
        acr.check(&["--json"]).check("registry.tls")["status"],
        "pass"
    );
}

#[test]
fn a_machine_with_containerd_and_no_docker_names_the_runtime_that_would_pull() {
    let tools = crate::common::Tools::new();
    tools.add(
        "ctr",
        &[crate::common::answer(
            "version",
            "Client:\n  Version:  v1.7.24\n  Revision: 88bf19b\n  Go version: go1.22.10\n",
        )],
    );
    // containerd's socket, which the client would talk to.
    let run_dir = tempfile::tempdir().unwrap();
    let socket = run_dir.path().join("containerd.sock");
    let _containerd = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let socket = socket.display().to_string();
    let out = crate::common::run_with(
        &["check", "--json", "--skip", "helm", "--skip", "notary"],
        &tools,
        &[("CONTAINERD_ADDRESS", &socket)],
    );
    out.assert_code(0);
    let docker = out.check("docker.command");
    assert_eq!(docker["status"], "warn", "{docker}");
    assert!(
        docker["message"]
            .as_str()
            .unwrap()
            .contains("containerd would pull, through ctr"),
        "{docker}"
    );
    assert_eq!(docker["details"]["version"], "1.7.24");
    // A client without containerd's socket is not run (`ctr version` would
    // dial until the step's time is up): no runtime here would pull.
    let calls_before = tools.calls("ctr").len();
    let started = std::time::Instant::now();
    crate::common::run(&["check", "--skip", "helm", "--skip", "notary"], &tools)
        .assert_code(1)
        .assert_stdout_has("An error occurred: DOCKER_COMMAND_ERROR");
    assert_eq!(
        tools.calls("ctr").len(),
        calls_before,
        "ctr was run with no socket"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    // No runtime at all: docker's error, as documented.
    let bare = crate::common::Tools::new();
    crate::common::run(&["check", "--skip", "helm", "--skip", "notary"], &bare)
        .assert_code(1)
        .assert_error_block(
            "DOCKER_COMMAND_ERROR",
            "Neither 'docker' nor 'podman' was found on PATH.",
        );
}

#[test]
fn an_azure_ad_token_that_looks_expired_on_this_clock_is_explained() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let stale = now() - 7200;
    let token = format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256"}"#),
        b64(&format!(
            r#"{{"tid":"{}","nbf":{},"exp":{}}}"#,
            crate::common::server::TENANT,
            stale - 3600,
            stale
        ))
    );
    let body: &'static str = Box::leak(
        serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token})
            .to_string()
            .into_boxed_str(),
    );
    let acr = FakeAcr::start(move |r: &Request| {
        r.path
            .ends_with("/oauth2/v2.0/token")
            .then(|| Reply::json(200, body))
    });
    let out = acr.check(&["--json"]);
    let refresh = out.check("registry.refresh_token");
    assert!(
        refresh["details"]["notes"]
            .to_string()
            .contains("expired 720")
            && refresh["details"]["notes"]
                .to_string()
                .contains("s ago by this machine's clock"),
        "{refresh}"
    );
}

#[test]
fn a_geo_replica_that_is_not_ready_is_a_warning() {
    use serde_json::json;
    let replicas = |west_state: &str, west_status: &str| {
        json!({"value": [
            {"name": "eastus", "location": "eastus", "properties": {"provisioningState": "Succeeded", "status": {"displayStatus": "Ready"}}},
            {"name": "westeurope", "location": "westeurope", "properties": {"provisioningState": west_state, "status": {"displayStatus": west_status, "message": "replication is syncing"}}}
        ]})
        .to_string()
    };
    let run = |body: String| {
        let body: &'static str = Box::leak(body.into_boxed_str());
        let acr = FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |_| {
            let arm = arm_handler(vec![registry_doc(json!({}), json!(null))], vec![]);
            move |r: &Request| {
                if r.path.ends_with("/registries/myregistry/replications") {
                    return Some(Reply::json(200, body));
                }
                arm(r)
            }
        });
        acr.check_arm(&["--json"], true).check("registry.replicas")
    };
    let bad = run(replicas("Failed", "Syncing"));
    assert_eq!(bad["status"], "warn", "{bad}");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("'westeurope' (westeurope): Failed, Syncing replication is syncing"),
        "{bad}"
    );
    let good = run(replicas("Succeeded", "Ready"));
    assert_eq!(good["status"], "pass", "{good}");
    assert_eq!(good["message"], "Geo-replicas eastus, westeurope : OK");
}

#[test]
fn the_docker_daemon_pulls_the_image_itself_and_its_refusal_is_translated() {
    let acr = image_registry();
    let reference = format!("{}/samples/app:v1", acr.login_server());
    // Refused by the registry, as the daemon says it.
    acr.tools.add(
        "docker",
        &[
            crate::common::failing("image", "", "Error: No such image", 1),
            crate::common::failing(
                "pull",
                "",
                &format!("Error response from daemon: Head \"https://{reference}\": unauthorized: authentication required"),
                1,
            ),
        ],
    );
    let out = acr.check(&["--repository", "samples/app", "--image", "v1", "--yes"]);
    out.assert_code(1).assert_error_block(
        "CONNECTIVITY_ACCESS_TOKEN_ERROR",
        "The docker daemon could not pull",
    );
    out.assert_text_has("unauthorized: authentication required");
    // Pulled: and removed again, as it was not there before.
    acr.tools.add(
        "docker",
        &[
            crate::common::failing("image", "", "Error: No such image", 1),
            crate::common::answer(
                "pull",
                "v1: Pulling from samples/app\nStatus: Downloaded newer image",
            ),
        ],
    );
    let out = acr.check(&[
        "--repository",
        "samples/app",
        "--image",
        "v1",
        "--yes",
        "--json",
    ]);
    out.assert_code(0);
    assert_eq!(out.check("registry.docker_pull")["status"], "pass");
    let calls = acr.tools.calls("docker");
    assert!(
        calls.iter().any(|c| c == &format!("pull {reference}")),
        "{calls:?}"
    );
    assert!(
        calls.iter().any(|c| c == &format!("image rm {reference}")),
        "{calls:?}"
    );
    // Without consent the daemon is not asked.
    let out = acr.check(&["--repository", "samples/app", "--image", "v1", "--json"]);
    assert_eq!(out.check("registry.docker_pull")["status"], "skip");
}

/// A node's `/etc` with containerd's configuration: `config.toml` naming
/// its hosts folder, and `hosts.toml` for `login_server`.
fn containerd_etc(login_server: &str, hosts_toml: &str) -> tempfile::TempDir {
    let etc = tempfile::tempdir().unwrap();
    let hosts = etc.path().join("containerd/certs.d").join(login_server);
    std::fs::create_dir_all(&hosts).unwrap();
    std::fs::write(
        etc.path().join("containerd/config.toml"),
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n",
    )
    .unwrap();
    std::fs::write(hosts.join("hosts.toml"), hosts_toml).unwrap();
    etc
}

#[test]
fn containerds_mirrors_and_skipped_verification_for_the_login_server_are_reported() {
    let acr = FakeAcr::healthy();
    let ls = acr.login_server();
    let run = |etc: &tempfile::TempDir| {
        let mut env = acr.sp_env();
        env.push((
            "ACR_HEALTH_SYSCONFDIR".into(),
            etc.path().display().to_string(),
        ));
        acr.check_env(&["--json"], &env)
    };
    // A mirror first, and no certificate checks on it.
    let etc = containerd_etc(
        &ls,
        &format!("server = \"https://{ls}\"\n\n[host.\"https://mirror.corp.example\"]\n  capabilities = [\"pull\", \"resolve\"]\n  skip_verify = true\n\n[host.\"https://puller:mirror-pw-5150@cache.corp.example\"]\n"),
    );
    let out = run(&etc);
    out.assert_code(0);
    assert!(out.stdout.contains("cache.corp.example"), "{}", out.stdout);
    assert!(!out.stdout.contains("mirror-pw-5150"), "{}", out.stdout);
    let check = out.check("registry.containerd_hosts");
    assert_eq!(check["status"], "warn", "{check}");
    let all = check.to_string();
    assert!(all.contains("pulls myregistry.azurecr.io"), "{all}");
    assert!(
        all.contains("through https://mirror.corp.example first"),
        "{all}"
    );
    assert!(
        all.contains("skips certificate checks for https://mirror.corp.example"),
        "{all}"
    );
    // The registry itself, with a CA of its own: nothing reroutes the pull.
    let etc = containerd_etc(
        &ls,
        &format!("server = \"https://{ls}\"\n\n[host.\"https://{ls}\"]\n  capabilities = [\"pull\", \"resolve\"]\n  ca = \"/etc/containerd/certs.d/{ls}/ca.crt\"\n"),
    );
    let check = run(&etc).check("registry.containerd_hosts").clone();
    assert_eq!(check["status"], "pass", "{check}");
    // A hosts.toml containerd cannot parse fails its pulls.
    let etc = containerd_etc(&ls, "[host.\"https://x\"\n");
    let check = run(&etc).check("registry.containerd_hosts").clone();
    assert_eq!(check["status"], "warn", "{check}");
    assert!(
        check.to_string().contains("containerd cannot read"),
        "{check}"
    );
    // No containerd configuration: nothing to say.
    let out = acr.check(&["--json"]);
    assert_eq!(out.check("registry.containerd_hosts")["status"], "skip");
}

#[test]
fn regional_endpoints_are_reached_each_by_its_own_name() {
    use serde_json::json;
    const EAST: &str = "myregistry.eastus.geo.azurecr.io";
    const WEST: &str = "myregistry.westeurope.geo.azurecr.io";
    let run = |west_in_dns: bool, enabled: &'static str| {
        let acr = FakeAcr::with_arm(&[HOST, EAST, WEST, "127.0.0.1"], move |port| {
            arm_handler(
                vec![registry_doc(
                    json!({"regionalEndpoints": enabled, "regionalEndpointHostNames": [format!("{EAST}:{port}"), format!("{WEST}:{port}")]}),
                    json!(null),
                )],
                vec![],
            )
        });
        acr.dns.a(EAST, "127.0.0.1");
        if west_in_dns {
            acr.dns.a(WEST, "127.0.0.1");
        }
        let out = acr.check_arm(&["--json"], true);
        let hosts: Vec<String> = acr
            .server
            .requests_to("/v2/")
            .iter()
            .map(|r| r.host())
            .collect();
        (out, hosts, acr.server.port())
    };
    let (out, hosts, port) = run(true, "Enabled");
    let check = out.check("registry.regional_endpoints");
    assert_eq!(check["status"], "pass", "{check}");
    assert_eq!(
        check["message"],
        format!("Regional endpoints {EAST}:{port}, {WEST}:{port} : OK")
    );
    for host in [EAST, WEST] {
        assert!(hosts.contains(&format!("{host}:{port}")), "{hosts:?}");
    }

    let (out, _, _) = run(false, "Enabled");
    out.assert_code(0);
    let check = out.check("registry.regional_endpoints");
    assert_eq!(check["status"], "warn", "{check}");
    let message = check["message"].as_str().unwrap();
    assert!(message.contains(&format!("'{WEST}:")), "{message}");
    assert!(message.contains("NXDOMAIN"), "{message}");
    assert!(
        message.contains("az acr login --all-endpoints"),
        "{message}"
    );
    assert!(!message.contains(EAST), "{message}");

    let (out, hosts, _) = run(true, "Disabled");
    let check = out.check("registry.regional_endpoints");
    assert_eq!(check["status"], "skip", "{check}");
    assert!(!hosts.iter().any(|h| h.contains(".geo.")), "{hosts:?}");
}
