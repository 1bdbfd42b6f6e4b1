//! Black-box tests of the environment checks: docker, helm, notary.
#![cfg(unix)]

use crate::common::*;

const PULL: &str = "mcr.microsoft.com/mcr/hello-world:latest";

#[test]
fn healthy_machine_passes_with_az_lines() {
    let tools = Tools::healthy();
    let out = run(&["check", "--yes"], &tools);
    out.assert_code(0)
        .assert_stdout_has("Docker daemon status: available\n")
        .assert_stdout_has("Docker version: 28.2.2, build e6534b4, platform linux/amd64\n")
        .assert_stdout_has(&format!("Docker pull of '{PULL}' : OK\n"))
        .assert_stdout_has(&format!(
            "acr-health version: {}\n",
            env!("CARGO_PKG_VERSION")
        ))
        .assert_stdout_has("Helm version: 3.14.4\n")
        .assert_stdout_has("Notary version: 0.5.1\n")
        .assert_stdout_has("Please refer to https://aka.ms/acr/health-check for more information.")
        .assert_stdout_lacks("An error occurred");
    assert_eq!(
        tools.calls("docker"),
        ["version --format {{json .}}", &format!("pull {PULL}")]
    );
    assert_eq!(tools.calls("helm"), ["version --client"]);
}

#[test]
fn without_a_terminal_or_yes_the_pull_is_skipped_with_a_warning() {
    let tools = Tools::healthy();
    let out = run(&["check", "--json"], &tools);
    out.assert_code(0);
    let pull = out.check("docker.pull");
    assert_eq!(pull["status"], "warn");
    assert!(
        pull["message"].as_str().unwrap().contains("--yes"),
        "{pull}"
    );
    assert!(
        !tools.calls("docker").iter().any(|c| c.starts_with("pull")),
        "pulled without consent"
    );
}

#[test]
fn docker_missing_is_docker_command_error() {
    let tools = Tools::new();
    tools.helm(HELM3);
    let out = run(&["check"], &tools);
    out.assert_code(1).assert_error_block(
        "DOCKER_COMMAND_ERROR",
        "Neither 'docker' nor 'podman' was found on PATH.",
    );
}

#[test]
fn docker_in_the_current_directory_is_refused_and_not_run() {
    let tools = Tools::healthy();
    let out = run_in(&["check", "--yes"], tools.path(), ".", &[]);
    out.assert_code(1).assert_error_block(
        "DOCKER_COMMAND_ERROR",
        "was found only in the current directory or through a relative PATH entry, and was not run",
    );
    assert!(
        tools.calls("docker").is_empty(),
        "a docker from the current directory was run"
    );
}

#[test]
fn a_relative_path_entry_is_the_current_directory_too() {
    // As Go's exec.LookPath refuses them: `bin`, `./bin`, `..` name folders
    // relative to wherever the command is started.
    let tools = Tools::healthy();
    let folder = tools.path();
    let name = folder.file_name().unwrap().to_str().unwrap().to_string();
    let parent = folder.parent().unwrap();
    let sub = folder.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    for (cwd, path) in [
        (parent, name.clone()),
        (parent, format!("./{name}")),
        (sub.as_path(), "..".to_string()),
    ] {
        let args = ["check", "--yes", "--json"];
        let out = run_in(&args, cwd, &format!("{path}:/nonexistent"), &[]);
        // (The error block, with the folder's name, is the test above's.)
        out.assert_code(1);
        let docker = out.check("docker.command");
        assert_eq!(docker["code"], "DOCKER_COMMAND_ERROR", "{docker}");
        let message = docker["message"].as_str().unwrap();
        assert!(
            message.contains("through a relative PATH entry, and was not run"),
            "{docker}"
        );
        assert!(
            tools.calls("docker").is_empty(),
            "PATH={path} ran a relative docker"
        );
    }
}

/// `podman version --format json` of a local podman 4.3 (Debian 12): no
/// daemon, so no `Server`.
const PODMAN_VERSION_LOCAL: &str = r#"{"Client":{"APIVersion":"4.3.1","Version":"4.3.1","GoVersion":"go1.19.8","GitCommit":"","BuiltTime":"Thu Jan  1 00:00:00 1970","Built":0,"OsArch":"linux/amd64","Os":"linux"}}"#;

#[test]
fn a_local_podman_has_no_daemon_and_is_asked_with_ps_as_az_does() {
    let tools = Tools::new();
    tools.helm(HELM3).notary(NOTARY_OLD);
    tools.add(
        "podman",
        &[
            answer("version", PODMAN_VERSION_LOCAL),
            answer("ps", ""),
            answer("pull", DOCKER_PULL_OK),
        ],
    );
    let out = run(&["check", "--yes"], &tools);
    out.assert_code(0)
        .assert_stdout_has("Podman daemon status: available")
        .assert_stdout_has("Podman version: 4.3.1, platform linux/amd64")
        .assert_stdout_has("Podman pull of 'mcr.microsoft.com/mcr/hello-world:latest' : OK");
    assert!(tools.calls("podman").iter().any(|c| c.starts_with("ps")));
    // podman that cannot run containers is the daemon error, in its words.
    let broken = Tools::new();
    broken.add(
        "podman",
        &[
            answer("version", PODMAN_VERSION_LOCAL),
            failing(
                "ps",
                "",
                "Error: cannot set up namespace using newuidmap",
                125,
            ),
        ],
    );
    run(&["check"], &broken)
        .assert_code(1)
        .assert_error_block("DOCKER_DAEMON_ERROR", "cannot set up namespace");
}

#[test]
fn docker_command_variable_and_podman_fallback() {
    let tools = Tools::new();
    tools.helm(HELM3).notary(NOTARY_OLD);
    tools.add("podman", &[answer("version", DOCKER_VERSION_UP)]);
    let out = run(&["check", "--json"], &tools);
    out.assert_code(0);
    assert!(out.check("docker.command")["message"]
        .as_str()
        .unwrap()
        .ends_with("/podman"));

    let other = Tools::new();
    let custom = other.add("my-docker", &[answer("version", DOCKER_VERSION_UP)]);
    let custom = custom.to_str().unwrap();
    let out = run_with(
        &["check", "--json", "--skip", "helm"],
        &tools,
        &[("DOCKER_COMMAND", custom)],
    );
    out.assert_code(0);
    assert_eq!(other.calls("my-docker"), ["version --format {{json .}}"]);
    assert!(
        tools.calls("podman").len() == 1,
        "podman ran again although DOCKER_COMMAND was set"
    );

    let out = run_with(
        &["check"],
        &tools,
        &[("DOCKER_COMMAND", "/nonexistent/docker")],
    );
    out.assert_code(1).assert_error_block(
        "DOCKER_COMMAND_ERROR",
        "DOCKER_COMMAND is set to '/nonexistent/docker'",
    );
}

#[test]
fn daemon_down_is_docker_daemon_error_with_the_client_version() {
    let tools = Tools::new();
    tools.docker_down();
    tools.helm(HELM3);
    let out = run(&["check", "--ignore-errors", "--yes"], &tools);
    out.assert_code(1)
        .assert_error_block("DOCKER_DAEMON_ERROR", DOCKER_DAEMON_DOWN_ERR)
        .assert_stdout_has("Docker version: 28.2.2, build e6534b4, platform linux/amd64 (client; daemon unavailable)")
        .assert_stdout_lacks("DOCKER_VERSION_ERROR")
        .assert_stdout_has("Skipped Docker pull: Docker daemon not available")
        .snapshot_report();
    assert!(!tools.calls("docker").iter().any(|c| c.starts_with("pull")));
}

/// The real docker client with no daemon to reach (Linux, where .ci/run
/// installs it).
#[cfg(target_os = "linux")]
#[test]
fn real_docker_client_without_daemon() {
    // .ci/run installs a docker client; without one this test says so.
    let dir = ["/usr/local/bin", "/usr/bin"]
        .into_iter()
        .find(|d| std::path::Path::new(d).join("docker").exists())
        .expect("a docker client in /usr/local/bin or /usr/bin (apt-get install docker.io)");
    let tools = Tools::new();
    let path = format!("{}:{dir}", tools.path().display());
    // An unreachable daemon address makes the answer independent of the machine.
    let out = run_in(
        &[
            "check",
            "--ignore-errors",
            "--json",
            "--skip",
            "helm",
            "--skip",
            "notary",
        ],
        tools.path(),
        &path,
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    out.assert_code(1);
    assert_eq!(out.check("docker.daemon")["code"], "DOCKER_DAEMON_ERROR");
    let version = out.check("docker.version");
    assert_eq!(version["status"], "pass", "{version}");
    assert!(
        version["message"]
            .as_str()
            .unwrap()
            .starts_with("Docker version: "),
        "{version}"
    );
    assert!(version["details"]["client_version"]
        .as_str()
        .is_some_and(|v| !v.is_empty()));
}

#[test]
fn a_broken_docker_version_is_docker_version_error() {
    let tools = Tools::new();
    tools.add(
        "docker",
        &[
            failing(
                "version",
                "",
                "Error: unknown command \"version\" for \"docker\"",
                1,
            ),
            answer("ps", ""),
        ],
    );
    tools.helm(HELM3);
    let out = run(&["check", "--ignore-errors"], &tools);
    out.assert_code(1)
        .assert_stdout_has("Docker daemon status: available")
        .assert_error_block("DOCKER_VERSION_ERROR", "unknown command \"version\"")
        .assert_stdout_lacks("DOCKER_DAEMON_ERROR");
    assert_eq!(
        tools.calls("docker"),
        ["version --format {{json .}}", "ps --quiet"]
    );
}

#[test]
fn a_failing_pull_is_docker_pull_error() {
    let tools = Tools::new();
    let err = "Error response from daemon: Get \"https://mcr.microsoft.com/v2/\": dial tcp: lookup mcr.microsoft.com on 127.0.0.53:53: no such host";
    tools.add(
        "docker",
        &[
            answer("version", DOCKER_VERSION_UP),
            failing("pull", "", err, 1),
        ],
    );
    tools.helm(HELM3);
    let out = run(&["check", "--yes"], &tools);
    out.assert_code(1)
        .assert_error_block("DOCKER_PULL_ERROR", err);
}

#[test]
fn a_hung_docker_is_stopped_at_the_timeout() {
    let tools = Tools::new();
    // An unusual duration, so that the sleep can be looked for afterwards.
    tools.add(
        "docker",
        &[Answer {
            arg: "version",
            stdout: "",
            stderr: "",
            code: 0,
            sleep: 37,
        }],
    );
    tools.helm(HELM3);
    let out = run(&["check", "--timeout", "1", "--json"], &tools);
    out.assert_code(1);
    assert!(out.elapsed.as_secs() < 10, "took {:?}", out.elapsed);
    let daemon = out.check("docker.daemon");
    assert_eq!(daemon["code"], "DOCKER_DAEMON_ERROR");
    assert!(
        daemon["message"]
            .as_str()
            .unwrap()
            .contains("did not finish within 1s"),
        "{daemon}"
    );
    assert!(
        !sleep_37_running(),
        "the hung tool's child was left running"
    );
}

/// Whether a `/bin/sleep 37` started by a fake tool is still alive a
/// moment after the run (Linux; a killed process needs an instant to go).
fn sleep_37_running() -> bool {
    sleep_running(b"/bin/sleep\x0037\x00")
}

fn sleep_running(cmdline: &[u8]) -> bool {
    (0..20).all(|_| {
        let alive = std::fs::read_dir("/proc").is_ok_and(|procs| {
            procs
                .flatten()
                .any(|p| std::fs::read(p.path().join("cmdline")).is_ok_and(|c| c == cmdline))
        });
        if alive {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        alive
    })
}

#[test]
fn helm_missing_is_helm_command_error() {
    let tools = Tools::new();
    tools.docker_up();
    let out = run(&["check", "--yes"], &tools);
    out.assert_code(1)
        .assert_error_block("HELM_COMMAND_ERROR", "'helm' was not found on PATH.")
        .snapshot_report();
}

#[test]
fn helm_older_than_2_11_is_helm_version_error() {
    let tools = Tools::new();
    tools.docker_up().helm(HELM2_OLD);
    let out = run(&["check", "--yes"], &tools);
    out.assert_code(1).assert_error_block(
        "HELM_VERSION_ERROR",
        "Helm version: 2.9.1\nCurrent Helm client version is not recommended. Please upgrade your Helm client to at least version 2.11.0.",
    );
}

#[test]
fn helm_that_cannot_report_its_version_is_helm_version_error() {
    let tools = Tools::new();
    tools.docker_up();
    tools.add(
        "helm",
        &[failing("version", "", "Error: unknown flag: --client", 1)],
    );
    let out = run(&["check", "--yes"], &tools);
    out.assert_code(1)
        .assert_error_block("HELM_VERSION_ERROR", "Error: unknown flag: --client");
}

#[test]
fn helm_2_16_passes() {
    let tools = Tools::new();
    tools.docker_up().helm(HELM2_OK);
    let out = run(&["check", "--yes"], &tools);
    out.assert_code(0)
        .assert_stdout_has("Helm version: 2.16.12\n");
}

#[test]
fn notary_from_0_6_is_notary_version_error() {
    let tools = Tools::new();
    tools.docker_up().helm(HELM3).notary(NOTARY_NEW);
    let out = run(&["check", "--yes"], &tools);
    out.assert_code(1)
        .assert_error_block("NOTARY_VERSION_ERROR", "Notary version: 0.7.0");
}

#[test]
fn notary_absent_is_skipped_not_an_error() {
    let tools = Tools::new();
    tools.docker_up().helm(HELM3);
    let out = run(&["check", "--yes", "--json"], &tools);
    out.assert_code(0);
    let notary = out.check("notary.version");
    assert_eq!(notary["status"], "skip");
    assert!(notary["message"].as_str().unwrap().contains("not found"));
}

#[test]
fn notary_without_a_version_is_a_warning_naming_the_output() {
    let tools = Tools::new();
    tools.docker_up().helm(HELM3).notary(NOTARY_DEBIAN);
    let out = run(&["check", "--yes"], &tools);
    out.assert_code(0)
        .assert_text_has("Warning: Notary version: unknown; 'notary version' printed: notary / Version: / Git commit: / Go version: go1.19.8");
}

/// Debian's real notary client (Linux, where .ci/run installs it).
#[cfg(target_os = "linux")]
#[test]
fn real_notary_client() {
    // .ci/run installs Debian's notary; without it this test says so.
    assert!(
        std::path::Path::new("/usr/bin/notary").exists(),
        "Debian's notary client in /usr/bin (apt-get install notary)"
    );
    let tools = Tools::new();
    tools.docker_up().helm(HELM3);
    let notary = tools.write_executable("notary", "#!/bin/sh\nexec /usr/bin/notary \"$@\"\n");
    let _ = notary;
    let out = run(&["check", "--yes", "--json"], &tools);
    let check = out.check("notary.version");
    // Debian's build has no version stamped in; a proper release has one.
    match check["status"].as_str().unwrap() {
        "warn" => assert!(check["message"]
            .as_str()
            .unwrap()
            .contains("'notary version' printed: notary")),
        "fail" => assert_eq!(check["code"], "NOTARY_VERSION_ERROR"),
        "pass" => assert!(check["details"]["version"].is_string()),
        other => panic!("unexpected status {other}: {check}"),
    }
}

#[test]
fn skip_removes_checks_and_groups() {
    let tools = Tools::new();
    tools.notary(NOTARY_OLD);
    let out = run(
        &["check", "--skip", "docker", "--skip", "helm", "--json"],
        &tools,
    );
    out.assert_code(0);
    for id in [
        "docker.command",
        "docker.daemon",
        "docker.version",
        "docker.pull",
        "helm.command",
        "helm.version",
    ] {
        let c = out.check(id);
        assert_eq!(c["status"], "skip", "{c}");
    }
    assert!(out.check("docker.pull")["message"]
        .as_str()
        .unwrap()
        .contains("--skip docker"));
    assert_eq!(out.check("notary.version")["status"], "pass");

    let out = run(&["check", "--skip", "environment", "--json"], &tools);
    out.assert_code(0);
    assert!(out.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "skip"));
    assert!(
        tools.calls("notary").len() == 1,
        "notary ran although skipped"
    );

    let tools = Tools::healthy();
    let out = run(&["check", "--skip", "docker.pull", "--json"], &tools);
    out.assert_code(0);
    assert_eq!(out.check("docker.pull")["status"], "skip");
    assert_eq!(out.check("docker.version")["status"], "pass");
}

#[test]
fn first_error_stops_the_run_unless_ignore_errors() {
    let tools = Tools::new();
    tools.notary(NOTARY_OLD);
    let out = run(&["check", "--json"], &tools);
    out.assert_code(1);
    assert_eq!(out.check("docker.command")["code"], "DOCKER_COMMAND_ERROR");
    let helm = out.check("helm.command");
    assert_eq!(helm["status"], "skip");
    assert!(helm["message"]
        .as_str()
        .unwrap()
        .contains("stopped after the first error"));
    assert_eq!(out.json()["summary"]["fail"], 1);

    let out = run(&["check", "--json", "--ignore-errors"], &tools);
    out.assert_code(1);
    assert_eq!(out.check("helm.command")["code"], "HELM_COMMAND_ERROR");
    assert_eq!(out.check("notary.version")["status"], "pass");
    assert_eq!(out.json()["summary"]["fail"], 2);

    let text = run(&["check", "--ignore-errors"], &tools);
    text.assert_code(1)
        .assert_error_block("DOCKER_COMMAND_ERROR", "podman")
        .assert_error_block("HELM_COMMAND_ERROR", "helm")
        .snapshot_report();
}

#[test]
fn ctrl_c_prints_what_finished_and_exits_130_leaving_no_child() {
    let tools = Tools::new();
    tools.add(
        "docker",
        &[Answer {
            arg: "version",
            stdout: "",
            stderr: "",
            code: 0,
            sleep: 38,
        }],
    );
    tools.helm(HELM3).notary(NOTARY_OLD);
    let child = tools
        .command(&["check", "--json", "--ignore-errors"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));
    // SAFETY: sending a signal to our own child has no memory-safety concern.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("a valid partial report");
    let check = |id: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(check("docker.daemon")["status"], "skip");
    assert_eq!(check("docker.daemon")["message"], "interrupted");
    assert_eq!(
        check("helm.version")["status"],
        "pass",
        "finished checks are kept"
    );
    assert_eq!(report["healthy"], false);
    assert!(
        !sleep_running(b"/bin/sleep\x0038\x00"),
        "the interrupted tool's child was left running"
    );
}

#[test]
fn many_runs_at_once_agree() {
    let tools = Tools::healthy();
    let children: Vec<_> = (0..50)
        .map(|_| {
            tools
                .command(&["check", "--json", "--yes"])
                .spawn()
                .unwrap()
        })
        .collect();
    // (exit code, each check's id, status and message) of every run.
    type Outcome = (Option<i32>, Vec<(String, String, String)>);
    let outcomes: Vec<Outcome> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let checks = report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["id"].to_string(),
                        c["status"].to_string(),
                        c["message"].to_string(),
                    )
                })
                .collect();
            (out.status.code(), checks)
        })
        .collect();
    assert_eq!(outcomes[0].0, Some(0));
    for o in &outcomes[1..] {
        assert_eq!(o, &outcomes[0]);
    }
}

#[test]
fn an_unreadable_file_of_azs_is_left_out_and_said() {
    // Root's file after `sudo az` is unreadable to the user; here (as root)
    // a folder where the file should be cannot be read either.
    let tools = Tools::new();
    tools.docker_up().helm(HELM3);
    let az = tempfile::tempdir().unwrap();
    std::fs::create_dir(az.path().join("config")).unwrap();
    let dir = az.path().display().to_string();
    let out = run_with(
        &["check", "--yes", "--json"],
        &tools,
        &[("AZURE_CONFIG_DIR", &dir)],
    );
    out.assert_code(0);
    let notes = out.check("cli.version")["details"]["notes"].to_string();
    assert!(
        notes.contains("config is not a regular file: left out"),
        "{notes}"
    );
}
