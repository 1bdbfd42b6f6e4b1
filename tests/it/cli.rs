//! Usage, exit codes and the JSON contract.

use crate::common::*;

fn assert_usage_error(args: &[&str], needle: &str) {
    let out = run(args, &Tools::new());
    out.assert_code(2);
    assert!(out.stdout.is_empty(), "stdout not empty: {}", out.stdout);
    let lines: Vec<_> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {}", out.stderr);
    assert!(lines[0].contains(needle), "{:?} lacks {needle:?}", lines[0]);
    assert!(!out.stderr.contains("panicked"));
}

#[test]
fn bad_usage_is_one_line_and_exit_2() {
    assert_usage_error(
        &["check", "--frobnicate"],
        "unexpected argument '--frobnicate'",
    );
    assert_usage_error(&["check", "--jsn"], "'--json'");
    assert_usage_error(&["check", "--timeout", "soon"], "'soon' is not a duration");
    assert_usage_error(&["check", "--timeout", "0"], "greater than zero");
    assert_usage_error(&["check", "--skip", "kubectl"], "unknown check 'kubectl'");
    assert_usage_error(&["check", "--color", "purple"], "purple");
    assert_usage_error(
        &["explain", "NOT_A_CODE"],
        "unknown error code 'NOT_A_CODE'",
    );
    assert_usage_error(&["frobnicate"], "frobnicate");
}

#[test]
fn help_and_version_exit_0() {
    let out = run(&["--version"], &Tools::new());
    out.assert_code(0)
        .assert_stdout_has(env!("CARGO_PKG_VERSION"));
    let out = run(&["check", "--help"], &Tools::new());
    out.assert_code(0)
        .assert_stdout_has("--ignore-errors")
        .assert_stdout_has("Examples:");
}

fn validate(report: &serde_json::Value) {
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.v1.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report breaks the schema: {errors:#?}\n{report:#}"
    );
}

#[cfg(unix)]
#[test]
fn json_reports_follow_the_schema_and_nothing_else_is_on_stdout() {
    // pass + warn + skip
    let tools = Tools::new();
    tools.docker_up().helm(HELM3).notary(NOTARY_DEBIAN);
    let out = run(&["check", "--json"], &tools);
    out.assert_code(0);
    let report = out.json();
    validate(&report);
    assert_eq!(report["healthy"], true);
    assert_eq!(report["registry"], serde_json::Value::Null);
    let summary = &report["summary"];
    assert_eq!(summary["warn"], 2, "{report:#}");
    // fail + skip, stopped
    let out = run(&["check", "--json"], &Tools::new());
    out.assert_code(1);
    let report = out.json();
    validate(&report);
    assert_eq!(report["healthy"], false);
    let failed = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "fail")
        .unwrap();
    assert_eq!(
        failed["docs_url"],
        "https://aka.ms/acr/errors#docker_command_error"
    );
    // Checks in pipeline order.
    let ids: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        [
            "docker.command",
            "docker.daemon",
            "docker.version",
            "docker.pull",
            "cli.version",
            "helm.command",
            "helm.version",
            "notary.version"
        ]
    );
}

#[test]
fn schema_rejects_a_report_that_breaks_the_contract() {
    let bad = serde_json::json!({
        "schema_version": 1, "tool": {"name": "acr-health", "version": "0"}, "registry": null,
        "healthy": false, "duration_ms": 1, "summary": {"pass": 0, "fail": 1, "warn": 0, "skip": 0},
        "checks": [{"id": "docker.daemon", "title": "Docker daemon", "status": "fail", "code": null,
                    "message": "", "remediation": null, "docs_url": null, "details": {}, "duration_ms": 0}]
    });
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.v1.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    assert!(
        !jsonschema::validator_for(&schema).unwrap().is_valid(&bad),
        "a fail without a code passed the schema"
    );
}

#[test]
fn a_forgotten_subcommand_gets_the_right_form() {
    assert_usage_error(
        &["-n", "myregistry"],
        "run 'acr-health check -n myregistry'",
    );
    assert_usage_error(
        &["--ignore-errors"],
        "run 'acr-health check --ignore-errors'",
    );
}

#[test]
fn usage_errors_never_echo_a_password() {
    for args in [
        vec!["-n", "myregistry", "-u", "admin", "-p", "hunter2-SECRET-1"],
        vec!["--password=hunter2-SECRET-1", "-n", "myregistry"],
        vec!["-phunter2-SECRET-1"],
        // In a cluster of short flags, abbreviated, or short enough to be
        // masked only where it sits.
        vec!["-yp", "hunter2-SECRET-1", "-n", "myregistry"],
        vec!["-yphunter2-SECRET-1", "-n", "myregistry"],
        vec!["--pass", "hunter2-SECRET-1", "-n", "myregistry"],
        vec!["--passw=hunter2-SECRET-1", "-n", "myregistry"],
        vec!["-yp", "hunter2", "-n", "myregistry"],
    ] {
        let out = run(&args, &Tools::new());
        out.assert_code(2);
        assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    }
}

#[test]
fn long_flags_may_be_abbreviated_as_az_accepts_them() {
    let tools = Tools::healthy();
    let out = run(&["check", "--ignore", "--only-show", "--yes"], &tools);
    out.assert_code(0);
    assert_eq!(out.stdout, "", "--only-show is --only-show-errors");
    // An abbreviation of two flags names neither.
    run(&["check", "--i"], &tools).assert_code(2);
}
