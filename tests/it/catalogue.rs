//! The error catalogue against the Microsoft reference, through the binary.

use crate::common::{reference, run, Tools};
use serde_json::Value;

fn catalogue() -> Vec<Value> {
    let out = run(&["codes", "--json"], &Tools::new());
    out.assert_code(0);
    serde_json::from_str::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// For maintainers with the published reference beside the repository:
/// `cargo test -- --ignored the_kept_copy`.
#[test]
#[ignore = "reads ../shared outside the repository"]
fn the_kept_copy_of_the_reference_is_the_shared_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/reference/health-error-reference.txt");
    let kept = root.join("tests/fixtures/health-error-reference.txt");
    assert_eq!(
        std::fs::read_to_string(kept).unwrap(),
        std::fs::read_to_string(&shared).expect("the shared reference beside the repository"),
        "update tests/fixtures from the shared reference"
    );
}

#[test]
fn reference_parses_into_all_seventeen_codes() {
    assert_eq!(reference::entries().len(), 17);
}

#[test]
fn every_documented_code_matches_the_reference() {
    let cat = catalogue();
    let entries = reference::entries();
    for e in &entries {
        let c = cat
            .iter()
            .find(|c| c["code"] == e.code.as_str())
            .unwrap_or_else(|| panic!("{} missing from the catalogue", e.code));
        assert_eq!(c["documented"], true, "{}", e.code);
        let meaning = c["meaning"].as_str().unwrap();
        let remediation = c["remediation"].as_str().unwrap();
        if e.remediation.is_empty() {
            // No "Potential solutions" paragraph: the catalogue splits the
            // explanation into what it means and the advice that follows.
            assert_eq!(
                format!("{meaning} {remediation}"),
                reference::as_printed(&e.meaning),
                "{} drifted",
                e.code
            );
            assert!(meaning.starts_with("This error means"), "{}", e.code);
        } else {
            assert_eq!(
                meaning,
                reference::as_printed(&e.meaning),
                "{} meaning drifted",
                e.code
            );
            assert_eq!(
                remediation,
                reference::remediation_as_printed(&e.remediation),
                "{} remediation drifted",
                e.code
            );
        }
        assert_eq!(
            c["docs_url"],
            format!("https://aka.ms/acr/errors#{}", e.code.to_lowercase()).as_str()
        );
    }
    let documented = cat.iter().filter(|c| c["documented"] == true).count();
    assert_eq!(
        documented,
        entries.len(),
        "the catalogue claims codes the reference lacks"
    );
}

#[test]
fn codes_lists_every_code_in_text() {
    let out = run(&["codes"], &Tools::new());
    out.assert_code(0);
    for c in catalogue() {
        let name = c["code"].as_str().unwrap();
        assert!(
            out.stdout.lines().any(|l| l.starts_with(name)),
            "{name} not listed"
        );
    }
}

#[test]
fn explain_prints_meaning_remediation_and_link() {
    let e = reference::entry("CONNECTIVITY_FORBIDDEN_ERROR");
    for spelling in ["CONNECTIVITY_FORBIDDEN_ERROR", "connectivity_forbidden"] {
        let out = run(&["explain", spelling], &Tools::new());
        out.assert_code(0)
            .assert_stdout_has(&reference::as_printed(&e.meaning))
            .assert_stdout_has(&format!(
                "Potential solutions: {}",
                reference::remediation_as_printed(&e.remediation)
            ))
            .assert_stdout_has("https://aka.ms/acr/errors#connectivity_forbidden_error");
    }
}

/// The catalogue's az sentences are az's own (azure-cli 2.91 `acr/_errors.py`),
/// with the documented replacement of "Azure CLI" by acr-health.
#[test]
fn az_sentences_are_azs_own() {
    let cat = catalogue();
    let mut compared = 0;
    for info in &cat {
        let code = info["code"].as_str().unwrap();
        let ours = info["az_sentence"].as_str().unwrap();
        let ours_as_template = ours
            .replace("{login_server}", "{}")
            .replace("{registry}", "{}")
            .replace("{status}", "{}");
        let az = reference::az_templates(code);
        if az.is_empty() {
            // acr-health's own codes, and notary's (no longer in az 2.91).
            continue;
        }
        assert_eq!(ours_as_template, az[0], "{code}");
        compared += 1;
    }
    assert_eq!(compared, 16, "every code az 2.91 still has");
}

/// No Rust debug value (`Other(OtherError(CaUsedAsEndEntity))`,
/// `Foo { .. }`) in any catalogue text or any snapshot of a report.
#[test]
fn no_debug_formatting_reaches_the_reader() {
    fn dumps(text: &str) -> Option<String> {
        let chars: Vec<char> = text.chars().collect();
        for i in 1..chars.len().saturating_sub(1) {
            let open = chars[i] == '(' || (chars[i] == ' ' && chars[i + 1] == '{');
            if !open {
                continue;
            }
            let ident: String = chars[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let camel = ident.len() > 2
                && ident.starts_with(|c: char| c.is_ascii_uppercase())
                && ident.chars().any(|c| c.is_ascii_lowercase());
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            if camel && (next.is_ascii_uppercase() || chars[i] == ' ') {
                return Some(
                    chars[i.saturating_sub(30)..(i + 30).min(chars.len())]
                        .iter()
                        .collect(),
                );
            }
        }
        None
    }
    let mut texts: Vec<(String, String)> = catalogue()
        .iter()
        .map(|c| (c["code"].to_string(), c.to_string()))
        .collect();
    let snapshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for entry in std::fs::read_dir(snapshots).unwrap().flatten() {
        texts.push((
            entry.path().display().to_string(),
            std::fs::read_to_string(entry.path()).unwrap(),
        ));
    }
    assert!(texts.len() > 30, "no snapshots found");
    for (name, text) in texts {
        assert_eq!(dumps(&text), None, "{name}");
    }
    assert!(dumps("rejected: Other(OtherError(CaUsedAsEndEntity))").is_some());
    assert!(dumps("HTTP 401 (Unauthorized), the role AcrPull (or Reader)").is_none());
    assert!(dumps("Config { name: x }").is_some());
}

#[test]
fn every_check_is_explained_and_every_code_belongs_to_a_check() {
    let tools = Tools::new();
    // Every check there is, including those only a node run plans.
    let checks = run(&["checks", "--json"], &tools).json();
    let mut failing_codes = String::new();
    for check in checks.as_array().unwrap() {
        let id = check["id"].as_str().unwrap();
        let out = run(&["explain", id], &tools);
        out.assert_code(0);
        assert!(
            out.stdout
                .starts_with(&format!("{id} — {}", check["title"].as_str().unwrap())),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("Fails with: "), "{}", out.stdout);
        failing_codes.push_str(&out.stdout);
    }
    let codes = run(&["codes", "--json"], &tools).json();
    for code in codes.as_array().unwrap() {
        let name = code["code"].as_str().unwrap();
        assert!(failing_codes.contains(name), "no check fails with {name}");
    }
    // The beyond-az checks say what each of their warnings means.
    let out = run(&["explain", "docker_credential"], &tools);
    out.assert_code(0)
        .assert_stdout_has("Warns when:")
        .assert_stdout_has("00000000-0000-0000-0000-000000000000");
    let several = run(&["explain", "version"], &tools);
    several.assert_code(2);
    assert!(
        several.stderr.contains(
            "names several checks: docker.version, cli.version, helm.version, notary.version"
        ),
        "{}",
        several.stderr
    );
    // A code and a check of one name: the code, and where the check is.
    run(&["explain", "cmk"], &tools)
        .assert_code(0)
        .assert_stdout_has("CMK_ERROR")
        .assert_stdout_has("Reported by: registry.cmk (acr-health explain <check>)");
    run(&["explain", "DOCKER_DAEMON_ERROR"], &tools)
        .assert_code(0)
        .assert_stdout_has("Reported by: docker.daemon (acr-health explain <check>)");
}
