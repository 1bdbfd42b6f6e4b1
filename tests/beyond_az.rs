//! Pull failures az's health check does not see: a clock far from the
//! registry's, Azure AD's refusals in words, an image without this
//! machine's platform.
#![cfg(unix)]

mod common;

use common::acr::*;
use common::server::{Reply, Request};

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
            let host = r
                .headers
                .iter()
                .find(|(k, _)| k == "host")
                .unwrap()
                .1
                .clone();
            let bare = host.split(':').next().unwrap().to_string();
            Reply::json(401, "{}")
                .header(
                    "www-authenticate",
                    &format!(r#"Bearer realm="https://{host}/oauth2/token",service="{bare}""#),
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
