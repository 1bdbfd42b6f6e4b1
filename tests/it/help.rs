//! Help that stands alone: manual pages, shell completions, the lists of
//! checks and codes, and usage errors that keep what clap knows.

use crate::common::*;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every manual page, written by `man --dir`, renders with `man -l` without
/// a warning, and every page one refers to is among them.
#[cfg(unix)]
#[test]
fn every_manual_page_renders_and_its_references_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &["man", "--dir", &dir.path().display().to_string()],
        &Tools::new(),
    );
    out.assert_code(0);
    let pages: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    let names: Vec<String> = pages
        .iter()
        .map(|p| {
            std::path::Path::new(p)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for name in ["acr-health", "acr-health-check", "acr-health-explain"] {
        assert!(names.iter().any(|n| n == name), "no {name} in {names:?}");
    }
    for page in &pages {
        let rendered = Command::new("man")
            .args(["--warnings=all", "-l", page])
            .env("MANWIDTH", "100")
            .env("MAN_KEEP_FORMATTING", "0")
            .stdin(Stdio::null())
            .output()
            .expect("man-db's man is needed (.ci/run installs it)");
        let stderr = String::from_utf8_lossy(&rendered.stderr);
        assert!(
            rendered.status.success() && stderr.trim().is_empty(),
            "{page}: {stderr}"
        );
        let text = String::from_utf8_lossy(&rendered.stdout).replace("\u{2010}\n", "");
        for reference in references(&text) {
            assert!(
                names.contains(&reference),
                "{page} refers to {reference}(1), which is not generated"
            );
        }
    }
    // The check page holds what a user looks for without the README.
    let check = std::fs::read_to_string(dir.path().join("acr-health-check.1")).unwrap();
    for section in [
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "SEE ALSO",
        "EXAMPLES",
    ] {
        assert!(
            check.contains(section),
            "acr-health-check(1) lacks {section}"
        );
    }
    for flag in ["ignore\\-errors", "DOCKER_COMMAND", "143"] {
        assert!(check.contains(flag), "acr-health-check(1) lacks {flag}");
    }
    // One page on stdout is the same page.
    let one = run(&["man", "check"], &Tools::new());
    one.assert_code(0);
    assert_eq!(one.stdout, check);
}

/// The `name(1)` references of a rendered page.
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("(1)") {
        let before = &text[..at];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .map_or(0, |i| i + 1);
        let name = &before[start..];
        if name.starts_with("acr-health") {
            found.push(name.to_string());
        }
    }
    found
}

/// bash sourcing the generated script, under a real terminal (util-linux's
/// `script`), completes what a user types and Tab: `--ig` to
/// `--ignore-errors`, a check id after `--skip`.
#[cfg(target_os = "linux")]
#[test]
fn bash_completes_flags_and_check_ids_under_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("acr-health.bash");
    let out = run(&["completions", "bash"], &Tools::new());
    out.assert_code(0);
    std::fs::write(&script, &out.stdout).unwrap();
    // Ctrl-A then `echo RESULTn ` makes bash print the completed line.
    let steps = [
        format!("source {}\n", script.display()),
        "acr-health check --ig\t".into(),
        "\u{1}echo RESULT1 \n".into(),
        "acr-health check --skip registry.dn\t".into(),
        "\u{1}echo RESULT2 \n".into(),
        "acr-health check --skip do\t".into(),
        "\u{1}echo RESULT3 \n".into(),
        "acr-health explain CMK_E\t".into(),
        "\u{1}echo RESULT4 \n".into(),
        "exit\n".into(),
    ];
    let text = under_a_terminal("bash --norc --noprofile -i", dir.path(), &steps);
    let result = |n: usize| {
        text.lines()
            .map(|l| l.trim_matches(|c: char| c == '\r' || c.is_whitespace()))
            .find_map(|l| l.strip_prefix(&format!("RESULT{n} ")))
            .unwrap_or_else(|| panic!("no RESULT{n} in the terminal's output:\n{text}"))
            .to_string()
    };
    assert_eq!(result(1), "acr-health check --ignore-errors");
    assert_eq!(result(2), "acr-health check --skip registry.dns");
    assert_eq!(result(3), "acr-health check --skip docker");
    assert_eq!(result(4), "acr-health explain CMK_ERROR");
}

/// Runs `shell` under a pseudo-terminal, typing each step after the one
/// before has been read; everything the terminal showed.
#[cfg(target_os = "linux")]
fn under_a_terminal(shell: &str, home: &std::path::Path, steps: &[String]) -> String {
    let mut child = Command::new("script")
        .args(["-qec", shell, "/dev/null"])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("TERM", "dumb")
        .env("PS1", "$ ")
        .current_dir(home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux's script is needed (.ci/run installs it)");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stdout.read_to_end(&mut all);
        String::from_utf8_lossy(&all).into_owned()
    });
    for step in steps {
        // Readline must own the terminal before a key arrives, or the
        // terminal's line editing takes it.
        std::thread::sleep(Duration::from_millis(300));
        stdin.write_all(step.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    drop(stdin);
    reader.join().unwrap()
}

/// zsh and fish get the same words: check ids for --skip, codes and checks
/// for explain.
#[test]
fn zsh_and_fish_completions_offer_check_ids_and_codes() {
    for shell in ["zsh", "fish"] {
        let out = run(&["completions", shell], &Tools::new());
        out.assert_code(0);
        for word in ["registry.dns", "docker.pull", "CMK_ERROR", "ignore-errors"] {
            assert!(out.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
}

/// `explain` with nothing named, or `--list`, lists every check and code.
#[test]
fn explain_alone_lists_every_check_and_code() {
    let codes = run(&["codes", "--json"], &Tools::new()).json();
    let checks = run(&["checks", "--json"], &Tools::new()).json();
    for args in [&["explain"][..], &["explain", "--list"]] {
        let out = run(args, &Tools::new());
        out.assert_code(0);
        for code in codes.as_array().unwrap() {
            out.assert_stdout_has(code["code"].as_str().unwrap());
        }
        for check in checks.as_array().unwrap() {
            out.assert_stdout_has(check["id"].as_str().unwrap());
        }
    }
}

/// A usage error keeps clap's whole message on its one line: the valid
/// values, a "did you mean", the usage of the command.
#[test]
fn usage_errors_keep_the_valid_values_and_the_usage() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["check", "-o", "yaml"],
            &[
                "'yaml'",
                "[possible values: text, json, jsonc, tsv, table, junit, none]",
            ],
        ),
        (
            &["check", "--auth", "foo"],
            &["service-principal", "managed-identity"],
        ),
        (
            &["check", "--color", "sometimes"],
            &["[possible values: auto, always, never]"],
        ),
        (&["completions", "nu"], &["bash", "zsh", "fish"]),
        (&["chek"], &["'check'"]),
        (
            &["check", "--frobnicate"],
            &["usage: acr-health check", "(see 'acr-health check --help')"],
        ),
        (&["man", "nothing"], &["check", "explain"]),
    ];
    for (args, needles) in cases {
        let out = run(args, &Tools::new());
        out.assert_code(2);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: not one line: {}", out.stderr);
        for needle in *needles {
            assert!(
                lines[0].contains(needle),
                "{args:?}: {:?} lacks {needle:?}",
                lines[0]
            );
        }
    }
}
