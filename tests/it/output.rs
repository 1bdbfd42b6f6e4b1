//! Report formats and their options: JUnit, --only-show-errors, colour,
//! completions and the man page.
#![cfg(unix)]

use crate::common::*;

#[test]
fn junit_is_well_formed_with_one_case_per_check() {
    let tools = Tools::new();
    tools.docker_up().notary(NOTARY_NEW); // no helm: one error; notary: another
    let out = run(
        &["check", "--output", "junit", "--ignore-errors", "--yes"],
        &tools,
    );
    out.assert_code(1);
    let json = run(&["check", "--json", "--ignore-errors", "--yes"], &tools).json();
    let ids: Vec<String> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();

    let mut reader = quick_xml::Reader::from_str(&out.stdout);
    reader.config_mut().check_end_names = true;
    let (mut cases, mut failures) = (Vec::new(), Vec::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                let attr = |name: &[u8]| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name)
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                match e.name().as_ref() {
                    b"testcase" => cases.push(attr(b"name").unwrap()),
                    b"failure" => failures.push(attr(b"type").unwrap()),
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, ids, "one test case per check, in order");
    assert!(
        failures.contains(&"HELM_COMMAND_ERROR".to_string()),
        "{failures:?}"
    );
    assert!(
        failures.contains(&"NOTARY_VERSION_ERROR".to_string()),
        "{failures:?}"
    );
}

#[test]
fn only_show_errors_prints_error_blocks_only() {
    let tools = Tools::new();
    tools.docker_up().notary(NOTARY_OLD);
    let out = run(
        &["check", "--only-show-errors", "--yes", "--ignore-errors"],
        &tools,
    );
    out.assert_code(1)
        .assert_error_block("HELM_COMMAND_ERROR", "'helm' was not found on PATH.")
        .assert_stdout_lacks("Docker daemon status")
        .assert_stdout_lacks("Notary version")
        .assert_stdout_lacks("Skipped")
        .snapshot_report();
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_and_never_with_no_color() {
    let tools = Tools::new();
    let esc = "\u{1b}[";
    // Not a terminal: no colour by default.
    run(&["check"], &tools).assert_stdout_lacks(esc);
    let forced = run(&["check", "--color", "always"], &tools);
    forced.assert_stdout_has(esc);
    // NO_COLOR wins over auto, not over an explicit --color always.
    let no_color = run_with(&["check", "--color", "auto"], &tools, &[("NO_COLOR", "1")]);
    no_color.assert_stdout_lacks(esc);
    run(&["check", "--color", "never"], &tools).assert_stdout_lacks(esc);
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    let tools = Tools::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef acr-health"),
        ("fish", "complete -c acr-health"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let out = run(&["completions", shell], &tools);
        out.assert_code(0);
        assert!(out.stdout.contains(marker), "{shell}: no {marker:?}");
        assert!(
            out.stdout.contains("ignore-errors"),
            "{shell}: check's flags missing"
        );
    }
    let man = run(&["man"], &tools);
    man.assert_code(0)
        .assert_stdout_has(".TH acr-health 1")
        .assert_stdout_has("check");
}

#[test]
fn the_failing_report_reads_well_at_80_columns() {
    let tools = Tools::new();
    tools.docker_down();
    tools.notary(NOTARY_DEBIAN);
    // Both a stopped run (skip lines) and a full one (errors and warnings).
    let stopped = run(&["check"], &tools);
    let full = run(&["check", "--ignore-errors"], &tools);
    full.assert_code(1);
    // One line for everything the stop left out, not a line per check.
    // And how to go on: every check, or all but the tool that failed.
    stopped.assert_text_has("Stopped after the first error: 6 more checks not shown. Run with --ignore-errors to run and see every check, or with --skip docker to leave docker out.");
    stopped.assert_stdout_lacks("Skipped Helm command");
    let json = run(&["check", "--json"], &tools);
    let skipped: Vec<_> = json.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["message"].as_str().unwrap_or("").contains("first error"))
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(skipped.len(), 6, "JSON keeps each check: {skipped:?}");
    for line in stopped.stdout.lines().chain(full.stdout.lines()) {
        let without_urls: String = line
            .split_whitespace()
            .filter(|w| !w.starts_with("https://"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            without_urls.chars().count() <= 100,
            "line too long ({}): {line}",
            without_urls.chars().count()
        );
    }
}

#[cfg(target_os = "linux")]
/// Runs the binary under a pseudo-terminal (util-linux `script`), returning
/// everything the terminal showed.
fn on_a_terminal(args: &str, tools: &Tools, input: &str) -> Option<String> {
    on_a_terminal_with(args, tools, input, &[])
}

#[cfg(target_os = "linux")]
fn on_a_terminal_with(
    args: &str,
    tools: &Tools,
    input: &str,
    env: &[(&str, &str)],
) -> Option<String> {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let out = std::process::Command::new(script)
        .args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
        .env_clear()
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
        .env("CONTAINERD_ADDRESS", "/nonexistent/containerd.sock")
        .env("PATH", tools.path())
        .env("HOME", tools.home.path())
        .env("TERM", "xterm")
        .envs(env.iter().copied())
        .current_dir(tools.home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
            child.wait_with_output()
        })
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

// util-linux `script` (the BSD one on macOS takes other arguments).
#[cfg(target_os = "linux")]
#[test]
fn progress_shows_on_a_terminal_only() {
    let tools = Tools::healthy();
    let screen = on_a_terminal("check --yes", &tools, "").expect("util-linux `script`");
    assert!(
        screen.contains("checks done; running:"),
        "no progress on a terminal:\n{screen}"
    );
    assert!(
        screen.contains("Docker daemon status: available"),
        "{screen}"
    );
    // Not a terminal: no progress, nothing on stderr.
    let out = run(&["check", "--yes"], &tools);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    // Not under --json or --only-show-errors even on a terminal.
    for args in ["check --yes --json", "check --yes --only-show-errors"] {
        let screen = on_a_terminal(args, &tools, "").unwrap();
        assert!(
            !screen.contains("checks done"),
            "{args}: progress shown:\n{screen}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_timings_end_their_line_and_colour_follows_the_environment() {
    let tools = Tools::healthy();
    let dim = "\u{1b}[2m";
    let screen = on_a_terminal("check --yes", &tools, "").expect("util-linux `script`");
    let line = screen
        .lines()
        .find(|l| l.contains("Docker daemon status: available"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        line.contains(&format!(" {dim}(")) && line.contains(" ms)"),
        "{line:?}"
    );
    for (var, value) in [("NO_COLOR", "1"), ("AZURE_CORE_NO_COLOR", "true")] {
        let screen = on_a_terminal_with("check --yes", &tools, "", &[(var, value)]).unwrap();
        assert!(!screen.contains(dim), "{var}: colour on:\n{screen}");
        // The timings stay: they are for the person at the terminal, not colour.
        let line = screen
            .lines()
            .find(|l| l.contains("Docker daemon status: available"))
            .unwrap_or_else(|| panic!("{screen}"));
        assert!(line.contains(" ms)"), "{var}: {line:?}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_the_pull_is_asked_for() {
    let tools = Tools::healthy();
    let screen = on_a_terminal("check", &tools, "y\n").expect("util-linux `script`");
    assert!(
        screen.contains(
            "This will pull the image mcr.microsoft.com/mcr/hello-world:latest. Proceed? (y/n):"
        ),
        "{screen}"
    );
    assert!(
        screen.contains("Docker pull of 'mcr.microsoft.com/mcr/hello-world:latest' : OK"),
        "{screen}"
    );
    assert!(tools.calls("docker").iter().any(|c| c.starts_with("pull")));
}
