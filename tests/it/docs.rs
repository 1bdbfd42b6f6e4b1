//! The README and `docs/` held to the code: the table of checks is made
//! from the checks' declarations, the flag tables match `check --help`, the
//! JSON example is a report a real run could print, and the CI recipe runs
//! as written under `bash -e`. `UPDATE_DOCS=1 cargo test docs::` rewrites
//! what is made.

use crate::common::acr::FakeAcr;
use crate::common::server::Reply;
use crate::common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn doc(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// The text of `file` between the line `begin` and the line `end`, and
/// where it starts and ends.
fn between(text: &str, begin: &str, end: &str) -> (usize, usize) {
    let start = text.find(begin).unwrap_or_else(|| panic!("no {begin:?}")) + begin.len();
    let stop = start
        + text[start..]
            .find(end)
            .unwrap_or_else(|| panic!("no {end:?}"));
    (start, stop)
}

/// docs/checks.md's table of checks, made from `acr-health checks --json`
/// (the checks' own declarations).
#[test]
fn the_table_of_checks_is_the_checks_own_declarations() {
    const BEGIN: &str = "<!-- checks: made from `acr-health checks --json` -->\n";
    const END: &str = "<!-- end of checks -->\n";
    let out = run(&["checks", "--json"], &Tools::new());
    out.assert_code(0);
    let checks = out.json();
    let mut table = String::from("| id | title | proves | fails with |\n|---|---|---|---|\n");
    for c in checks.as_array().unwrap() {
        let codes: Vec<String> = c["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| format!("`{}`", code.as_str().unwrap()))
            .collect();
        let codes = if codes.is_empty() {
            "—".to_string()
        } else {
            codes.join(", ")
        };
        let cell = |v: &Value| v.as_str().unwrap().replace('|', "\\|");
        table.push_str(&format!(
            "| `{}` | {} | {} | {codes} |\n",
            cell(&c["id"]),
            cell(&c["title"]),
            cell(&c["proves"]),
        ));
    }
    // The listing agrees with the ids `--skip` takes.
    let listed = run(&["checks"], &Tools::new());
    for c in checks.as_array().unwrap() {
        listed.assert_stdout_has(c["id"].as_str().unwrap());
    }
    let path = doc("docs/checks.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (start, end) = between(&text, BEGIN, END);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{table}{}", &text[..start], &text[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &text[start..end],
        table,
        "docs/checks.md's table of checks is stale: UPDATE_DOCS=1 cargo test docs::"
    );
}

/// The long flags a text names in backticks (`` `--flag``).
fn flags_in_backticks(text: &str) -> BTreeSet<String> {
    text.match_indices("`--")
        .map(|(at, _)| {
            let rest = &text[at + 1..];
            let end = rest[2..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .map_or(rest.len(), |e| e + 2);
            rest[..end].to_string()
        })
        .collect()
}

/// The long flags `acr-health check --help` lists.
fn flags_of_check() -> BTreeSet<String> {
    let help = run(&["check", "--help"], &Tools::new());
    help.assert_code(0);
    // Option lines are indented at most 6 columns; descriptions deeper.
    help.stdout
        .lines()
        .filter(|l| l.len() - l.trim_start().len() <= 6)
        .filter_map(|l| {
            let l = l.trim_start();
            let long = match l.split_once(", ") {
                Some((short, rest)) if short.len() == 2 && short.starts_with('-') => rest,
                _ => l,
            };
            long.starts_with("--")
                .then(|| long.split([' ', '=', '<']).next().unwrap().to_string())
        })
        .collect()
}

#[test]
fn every_flag_of_check_is_documented_and_every_documented_flag_exists() {
    let help = flags_of_check();
    assert!(
        help.contains("--ignore-errors") && help.contains("--password-stdin"),
        "{help:?}"
    );
    let usage = std::fs::read_to_string(doc("docs/usage.md")).unwrap();
    let documented = flags_in_backticks(&usage);
    let missing: Vec<_> = help.difference(&documented).collect();
    assert!(missing.is_empty(), "docs/usage.md lacks {missing:?}");
    let unknown: Vec<_> = documented.difference(&help).collect();
    assert!(
        unknown.is_empty(),
        "docs/usage.md documents flags check does not have: {unknown:?}"
    );
}

/// Every `acr-health …` flag the README names is one the binary has.
#[test]
fn the_readme_names_only_flags_that_exist() {
    let readme = std::fs::read_to_string(doc("README.md")).unwrap();
    let help = flags_of_check();
    let unknown: Vec<_> = flags_in_backticks(&readme)
        .into_iter()
        .filter(|f| !help.contains(f))
        .collect();
    assert!(unknown.is_empty(), "README names {unknown:?}");
}

/// The keys of an object, recursively for the objects the schema defines
/// (the report, its registry, summary and tool, and each check).
fn shape(report: &Value) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for (k, v) in report.as_object().unwrap() {
        keys.insert(k.clone());
        if let (Some(o), true) = (v.as_object(), k != "details") {
            keys.extend(o.keys().map(|sub| format!("{k}.{sub}")));
        }
    }
    for c in report["checks"].as_array().unwrap() {
        keys.extend(
            c.as_object()
                .unwrap()
                .keys()
                .map(|k| format!("checks[].{k}")),
        );
    }
    keys
}

/// docs/json.md's example is valid against the schema, has a real run's
/// shape, and says what a real run says for its failing check.
#[test]
fn the_json_example_is_a_report_a_real_run_prints() {
    let text = std::fs::read_to_string(doc("docs/json.md")).unwrap();
    let (start, end) = between(
        &text,
        "<!-- json example: from a real run, checked by tests -->\n",
        "<!-- end of json example -->",
    );
    let block = text[start..end]
        .trim()
        .strip_prefix("```json")
        .and_then(|b| b.strip_suffix("```"))
        .expect("a ```json block");
    let example: Value = serde_json::from_str(block).expect("the example parses");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(doc("schema/report.v1.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&example)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "the example breaks the schema: {errors:?}"
    );
    // The run it shows: docker's daemon down.
    let tools = Tools::new();
    tools.docker_down();
    let real = run(&["check", "--json"], &tools).json();
    assert_eq!(
        shape(&example),
        shape(&real),
        "the example's shape is not a real run's"
    );
    for check in example["checks"].as_array().unwrap() {
        let id = check["id"].as_str().unwrap();
        let same = real["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("a real run has no check {id}"));
        for key in ["title", "status", "code", "remediation", "docs_url"] {
            assert_eq!(check[key], same[key], "{id}.{key}");
        }
        if check["status"] == "fail" {
            let first = |c: &Value| {
                c["message"]
                    .as_str()
                    .unwrap()
                    .lines()
                    .next()
                    .map(str::to_string)
            };
            assert_eq!(first(check), first(same), "{id}'s message");
        }
    }
}

/// The CI recipe's last step, run as written under `bash -e` against a
/// registry whose firewall refuses this machine: it prints the failures,
/// then fails with acr-health's exit code.
#[cfg(unix)]
#[test]
fn the_ci_recipe_prints_its_summary_and_fails_under_bash_e() {
    let text = std::fs::read_to_string(doc("docs/ci.md")).unwrap();
    let (start, end) = between(
        &text,
        "<!-- ci recipe: run by tests under bash -e -->\n",
        "<!-- end of ci recipe -->",
    );
    let script = last_run_block(&text[start..end]);
    assert!(script.contains("acr-health check"), "{script}");
    let acr = FakeAcr::start(|r| {
        (r.path == "/v2/").then(|| {
            Reply::json(
                403,
                r#"{"errors":[{"code":"DENIED","message":"client with IP '203.0.113.7' is not allowed access"}]}"#,
            )
        })
    });
    acr.tools.docker_up().helm(HELM3).notary(NOTARY_OLD);
    // `acr-health` on PATH is the binary pointed at this test's registry:
    // what the recipe types reaches it unchanged.
    let world: Vec<String> = acr.args()[3..9].to_vec();
    let wrapper = format!(
        "#!/bin/sh\nexec '{}' \"$@\" {}\n",
        BIN,
        world
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let bin = tempfile::tempdir().unwrap();
    std::fs::write(bin.path().join("acr-health"), wrapper).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        bin.path().join("acr-health"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-e", "-c", &script])
        .current_dir(work.path())
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}:/usr/bin:/bin",
                bin.path().display(),
                acr.tools.path().display()
            ),
        )
        .env("HOME", acr.tools.home.path())
        .env("REGISTRY", "myregistry");
    for (k, v) in acr.sp_env() {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("CONNECTIVITY_FORBIDDEN_ERROR: ") && stdout.contains("203.0.113.7"),
        "the summary did not print the failure:\n{stdout}\nstderr:\n{stderr}"
    );
}

/// The last `run: |` block of a workflow, unindented.
fn last_run_block(yaml: &str) -> String {
    let lines: Vec<&str> = yaml.lines().collect();
    let at = lines
        .iter()
        .rposition(|l| l.trim_end().ends_with("run: |"))
        .expect("a `run: |` step");
    let body: Vec<&str> = lines[at + 1..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with("```"))
        .copied()
        .collect();
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}
