//! Nothing holds the run: Ctrl-C and the deadline end it at the pull prompt,
//! helpers a tool leaves behind are killed, and inputs that could block or
//! exhaust memory (a FIFO, /dev/zero, a huge file, an absurd number) are
//! clear usage errors.
#![cfg(unix)]

use crate::common::{run_with, Tools};
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A pseudo-terminal: (master, slave).
fn pty() -> (std::fs::File, std::fs::File) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors into the given integers; the
    // name, termios and window size arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    }
}

/// Starts `check` with stdin and stderr on a terminal and waits until it
/// asks whether to pull; returns the child.
fn at_the_pull_prompt(tools: &Tools, extra: &[&str]) -> std::process::Child {
    let (master, slave) = pty();
    let mut args = vec!["check", "--skip", "helm", "--skip", "notary"];
    args.extend_from_slice(extra);
    let child = tools
        .command(&args)
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut master = master;
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("Proceed? (y/n)") {
                let _ = tx.send(());
            }
        }
        // Keep the master open until the child is gone, so its terminal stays.
        std::thread::sleep(Duration::from_secs(10));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the pull prompt appears");
    child
}

/// Waits up to `limit` for the child; its exit code, how long it took and
/// its report.
fn wait_for(child: &mut std::process::Child, limit: Duration) -> (Option<i32>, Duration, String) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            let took = start.elapsed();
            let mut stdout = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut stdout)
                .unwrap();
            return (status.code(), took, stdout);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    panic!("still running after {limit:?}");
}

#[test]
fn ctrl_c_at_the_pull_prompt_ends_the_run_at_once() {
    let tools = Tools::new();
    tools.docker_up();
    let mut child = at_the_pull_prompt(&tools, &[]);
    // What the terminal does on Ctrl-C: SIGINT, and no key reaches stdin.
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let (code, took, stdout) = wait_for(&mut child, Duration::from_secs(5));
    assert_eq!(code, Some(130));
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(
        stdout.contains("Docker daemon status: available"),
        "{stdout}"
    );
    assert!(stdout.contains("Interrupted."), "{stdout}");
}

#[test]
fn the_deadline_ends_a_run_waiting_at_the_pull_prompt() {
    let tools = Tools::new();
    tools.docker_up();
    // --timeout 0.2 gives the run a deadline of 2 s.
    let mut child = at_the_pull_prompt(&tools, &["--timeout", "0.2"]);
    let (code, took, stdout) = wait_for(&mut child, Duration::from_secs(5));
    assert_eq!(code, Some(1));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(stdout.contains("Deadline exceeded."), "{stdout}");
}

/// The processes running `sleep <marker>` that are not zombies.
fn live_sleeps(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let dir = entry.path();
        let Ok(cmdline) = std::fs::read(dir.join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let zombie = std::fs::read_to_string(dir.join("stat"))
            .ok()
            .and_then(|s| Some(s[s.rfind(')')? + 2..].starts_with('Z')))
            .unwrap_or(true);
        if cmdline.contains(&format!("sleep {marker}")) && !zombie {
            found.push(format!("{}: {cmdline}", dir.display()));
        }
    }
    found
}

// Linux: /proc shows what is left running, and setsid is util-linux's.
#[cfg(target_os = "linux")]
#[test]
fn helpers_a_tool_leaves_behind_are_killed() {
    let tools = Tools::new();
    tools.docker_up();
    let marker = format!("{}", 400_000 + std::process::id());
    let escaped = format!("{}", 500_000 + std::process::id());
    // A helm that leaves one helper in its group and one in a session of its
    // own, holding its output open, and exits at once.
    tools.write_executable(
        "helm",
        &format!(
            "#!/bin/sh\n/bin/sleep {marker} &\nsetsid /bin/sleep {escaped} &\nprintf '%s\\n' '{}'\n",
            crate::common::HELM3
        ),
    );
    let start = Instant::now();
    let out = run_with(
        &[
            "check",
            "--skip",
            "docker",
            "--skip",
            "notary",
            "--timeout",
            "5",
        ],
        &tools,
        &[],
    );
    out.assert_code(0).assert_stdout_has("Helm version: 3.14.4");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "the helpers held the step"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline
        && !(live_sleeps(&marker).is_empty() && live_sleeps(&escaped).is_empty())
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        live_sleeps(&marker),
        Vec::<String>::new(),
        "helper in the tool's group"
    );
    assert_eq!(
        live_sleeps(&escaped),
        Vec::<String>::new(),
        "helper that escaped with setsid"
    );
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// A usage error: exit 2 with one line on stderr naming `needle`, quickly.
fn assert_usage_error(out: &crate::common::Run, needle: &str) {
    out.assert_code(2);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(needle),
        "{needle:?} not in {}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(
        out.elapsed < Duration::from_secs(3),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn fifos_devices_and_huge_files_are_usage_errors() {
    let tools = Tools::new();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.pem");
    mkfifo(&fifo);
    let huge = dir.path().join("huge.pem");
    std::fs::write(&huge, vec![b'#'; 5 * 1024 * 1024]).unwrap();
    let registry = [
        "check",
        "-n",
        "myregistry",
        "--skip",
        "environment",
        "--ca-file",
    ];
    for (file, needle) in [
        (fifo.to_str().unwrap(), "is not a regular file"),
        ("/dev/zero", "is not a regular file"),
        (huge.to_str().unwrap(), "is larger than 4 MiB"),
    ] {
        let mut args = registry.to_vec();
        args.push(file);
        assert_usage_error(&run_with(&args, &tools, &[]), needle);
        let env = [("SSL_CERT_FILE", file)];
        assert_usage_error(&run_with(&registry[..5], &tools, &env), needle);
    }
    // az's configuration file as a FIFO: not waited on, and left out as az
    // leaves out a file it cannot read.
    let az = tempfile::tempdir().unwrap();
    mkfifo(&az.path().join("config"));
    let env = [("AZURE_CONFIG_DIR", az.path().to_str().unwrap())];
    let local = [
        "check", "--skip", "docker", "--skip", "helm", "--skip", "notary", "--json",
    ];
    let out = run_with(&local, &tools, &env);
    out.assert_code(0);
    assert!(
        out.elapsed < Duration::from_secs(3),
        "took {:?}",
        out.elapsed
    );
    let notes = out.check("cli.version")["details"]["notes"].to_string();
    assert!(notes.contains("is not a regular file"), "{notes}");
    // A federated token file that would never end.
    let env = [
        ("AZURE_FEDERATED_TOKEN_FILE", "/dev/zero"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_TENANT_ID", "t"),
    ];
    assert_usage_error(
        &run_with(&registry[..5], &tools, &env),
        "AZURE_FEDERATED_TOKEN_FILE",
    );
}

#[test]
fn damaged_pem_files_are_usage_errors() {
    let tools = Tools::new();
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::common::pki::Ca::new("test");
    let good = std::fs::read_to_string(ca.pem_file()).unwrap();
    let body_start = good.find('\n').unwrap() + 1;
    let mut bad_base64 = good.clone();
    bad_base64.replace_range(body_start..body_start + 4, "!!!!");
    let unterminated = good.replace("-----END CERTIFICATE-----", "");
    for (name, text, needle) in [
        ("b64.pem", bad_base64.as_str(), "damaged base64"),
        ("open.pem", unterminated.as_str(), "no END line"),
        ("empty.pem", "just text\n", "no PEM certificate"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let args = [
            "check",
            "-n",
            "myregistry",
            "--skip",
            "environment",
            "--ca-file",
            path.to_str().unwrap(),
        ];
        assert_usage_error(&run_with(&args, &tools, &[]), needle);
    }
}

#[test]
fn absurd_timeouts_are_usage_errors() {
    let tools = Tools::new();
    for value in ["1e20", "1e300", "9999999999999999999999ms"] {
        let out = run_with(&["check", "--timeout", value], &tools, &[]);
        assert_usage_error(&out, value);
    }
}

#[test]
fn a_password_beyond_the_stdin_cap_is_an_error() {
    let tools = Tools::new();
    let args = [
        "check",
        "-n",
        "myregistry",
        "--skip",
        "environment",
        "--username",
        "u",
        "--password-stdin",
    ];
    let mut child = tools.command(&args).stdin(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&vec![b'x'; 200 * 1024]);
    });
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("longer than 64 KiB"), "{stderr}");
}

/// A docker whose pull runs `sleep <marker>` until it is stopped.
#[cfg(target_os = "linux")]
fn docker_pulling_forever(tools: &Tools, marker: &str) {
    tools.write_executable(
        "docker",
        &format!(
            "#!/bin/sh\ncase \"$1\" in\n  version) printf '%s\\n' '{}' ;;\n  pull) /bin/sleep {marker} ;;\nesac\n",
            crate::common::DOCKER_VERSION_UP
        ),
    );
}

// Linux: /proc shows what is left running, /dev/full fails every write.
#[cfg(target_os = "linux")]
#[test]
fn sigterm_and_sighup_during_a_tool_run_stop_the_tool_and_report() {
    for (signal, code, said) in [
        (libc::SIGTERM, 143, "Terminated."),
        (libc::SIGHUP, 129, "Hung up."),
    ] {
        let tools = Tools::new();
        let marker = format!(
            "{}",
            600_000 + signal * 1000 + std::process::id() as i32 % 1000
        );
        docker_pulling_forever(&tools, &marker);
        let mut child = tools
            .command(&["check", "--yes", "--skip", "helm", "--skip", "notary"])
            .spawn()
            .unwrap();
        let waited = Instant::now();
        while live_sleeps(&marker).is_empty() && waited.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!live_sleeps(&marker).is_empty(), "the pull started");
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let (exit, took, stdout) = wait_for(&mut child, Duration::from_secs(5));
        assert_eq!(exit, Some(code), "{stdout}");
        assert!(took < Duration::from_secs(2), "took {took:?}");
        assert!(
            stdout.contains("Docker daemon status: available"),
            "{stdout}"
        );
        assert!(stdout.contains(said), "{stdout}");
        let gone = Instant::now();
        while !live_sleeps(&marker).is_empty() && gone.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            live_sleeps(&marker),
            Vec::<String>::new(),
            "the pull was left running"
        );
    }
}

/// `path` opened for writing, for a child's stdout or stderr.
#[cfg(target_os = "linux")]
fn open_for_writing(path: &str) -> std::fs::File {
    std::fs::OpenOptions::new().write(true).open(path).unwrap()
}

// Linux: /proc shows what is left running, /dev/full fails every write.
#[cfg(target_os = "linux")]
#[test]
fn output_that_cannot_be_written_never_panics() {
    let tools = Tools::new();
    tools.docker_up();
    let run = |args: &[&str], stdout: Stdio, stderr: Stdio| {
        let out = tools
            .command(args)
            .stdout(stdout)
            .stderr(stderr)
            .output()
            .unwrap();
        let code = out.status.code();
        assert_ne!(
            code,
            Some(101),
            "{args:?} panicked: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (code, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // stderr full: the report still goes to stdout, with the report's code.
    let (code, _) = run(
        &["check", "--yes", "--debug"],
        Stdio::piped(),
        open_for_writing("/dev/full").into(),
    );
    assert_eq!(code, Some(1), "helm is missing: the report's code");
    let (code, _) = run(
        &["--bogus"],
        Stdio::piped(),
        open_for_writing("/dev/full").into(),
    );
    assert_eq!(code, Some(2), "a usage error stays 2");
    // stdout full: said on stderr, exit 1.
    let (code, stderr) = run(
        &["completions", "fish"],
        open_for_writing("/dev/full").into(),
        Stdio::piped(),
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("cannot write the output"), "{stderr}");
    // Help that cannot be written is a failure, not exit 0.
    let (code, _) = run(
        &["--help"],
        open_for_writing("/dev/full").into(),
        Stdio::piped(),
    );
    assert_eq!(code, Some(1));
    // A query that fails on the report: one line, exit 2.
    let query = [
        "check",
        "--skip",
        "environment",
        "--query",
        "length(healthy)",
    ];
    let (code, stderr) = run(&query, Stdio::piped(), Stdio::piped());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: --query: "), "{stderr}");
    // stdout a pipe whose reader is gone: the report's code, quietly.
    let mut child = tools
        .command(&["check", "--yes", "--skip", "helm"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn a_query_too_deep_for_any_parser_is_a_usage_error() {
    let tools = Tools::new();
    for (query, needle) in [
        ("[".repeat(30_000), "nests more than 64 levels deep"),
        (
            format!("{}a", "!".repeat(30_000)),
            "chains more than 256 operators",
        ),
        (
            vec!["a"; 30_000].join("."),
            "chains more than 256 operators",
        ),
    ] {
        let out = run_with(
            &["check", "--skip", "environment", "--query", &query],
            &tools,
            &[],
        );
        assert_usage_error(&out, needle);
    }
}

#[test]
fn ssl_cert_dir_files_are_bounded_as_ssl_cert_file_is() {
    let tools = Tools::new();
    let registry = ["check", "-n", "myregistry", "--skip", "environment"];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("huge.pem"), vec![b'#'; 5 * 1024 * 1024]).unwrap();
    let huge = dir.path().to_str().unwrap().to_string();
    let many = tempfile::tempdir().unwrap();
    for n in 0..17 {
        let file = many.path().join(format!("{n}.pem"));
        std::fs::write(file, vec![b'#'; 4 * 1024 * 1024]).unwrap();
    }
    let many = many.path().to_str().unwrap().to_string();
    for (folder, needle) in [
        (&huge, "is larger than 4 MiB"),
        (&many, "add up to more than 64 MiB"),
    ] {
        let out = run_with(&registry, &tools, &[("SSL_CERT_DIR", folder.as_str())]);
        assert_usage_error(&out, needle);
        assert!(
            out.stderr.starts_with("error: SSL_CERT_DIR: "),
            "{}",
            out.stderr
        );
    }
    // A FIFO, which the loader skips, is neither waited on nor called a
    // bad file (the folder then holds no roots, which is said as such).
    let fifo_dir = tempfile::tempdir().unwrap();
    mkfifo(&fifo_dir.path().join("cert.pem"));
    let fifo = fifo_dir.path().to_str().unwrap();
    let out = run_with(&registry, &tools, &[("SSL_CERT_DIR", fifo)]);
    assert!(
        out.elapsed < Duration::from_secs(3),
        "took {:?}",
        out.elapsed
    );
    assert!(!out.stderr.contains("regular file"), "{}", out.stderr);
}

#[test]
fn password_stdin_that_never_ends_is_bound_by_the_deadline() {
    let tools = Tools::new();
    let args = [
        "check",
        "-n",
        "myregistry",
        "--skip",
        "environment",
        "-u",
        "admin",
        "--password-stdin",
        "--timeout",
        "0.2",
    ];
    let mut child = tools
        .command(&args)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The writer stays open and writes nothing.
    let _stdin = child.stdin.take();
    let started = Instant::now();
    let (code, took, _) = wait_for(&mut child, Duration::from_secs(6));
    assert_eq!(code, Some(2));
    assert!(
        took < Duration::from_secs(4),
        "took {took:?} from {:?}",
        started.elapsed()
    );
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("--password-stdin: standard input did not end within 2s"),
        "{stderr}"
    );
}

// Linux: /proc shows what is left running, /dev/full fails every write.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_the_run_was_started_ignoring_stays_ignored() {
    // `nohup acr-health check …`: closing the terminal must not end it.
    let tools = Tools::new();
    let marker = format!("{}", 700_000 + std::process::id() % 1000);
    docker_pulling_forever(&tools, &marker);
    let bin = env!("CARGO_BIN_EXE_acr-health");
    let script = format!("trap '' HUP; exec {bin} check --yes --skip helm --skip notary");
    let mut child = std::process::Command::new("/bin/sh")
        .args(["-c", &script])
        .current_dir(tools.home.path())
        .env_clear()
        .env("PATH", tools.path())
        .env("HOME", tools.home.path())
        .env("CONTAINERD_ADDRESS", "/nonexistent/containerd.sock")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let waited = Instant::now();
    while live_sleeps(&marker).is_empty() && waited.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGHUP) };
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP ended a run that ignores it"
    );
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let (code, _, _) = wait_for(&mut child, Duration::from_secs(5));
    assert_eq!(code, Some(143));
}

// Linux: /proc shows what is left running, /dev/full fails every write.
#[cfg(target_os = "linux")]
#[test]
fn a_helper_that_escapes_with_setsid_never_outlives_the_run() {
    // The tool exits right after starting it, so the helper becomes this
    // process's child only a moment after the tool is gone: 50 times over.
    let tools = Tools::new();
    let marker = format!("{}", 800_000 + std::process::id() % 1000);
    tools.write_executable(
        "helm",
        &format!(
            "#!/bin/sh\nsetsid -f /bin/sleep {marker} &\nprintf '%s\\n' '{}'\n",
            crate::common::HELM3
        ),
    );
    let args = [
        "check",
        "--skip",
        "docker",
        "--skip",
        "notary",
        "--timeout",
        "5",
    ];
    for run in 0..50 {
        run_with(&args, &tools, &[]).assert_code(0);
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline && !live_sleeps(&marker).is_empty() {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            live_sleeps(&marker),
            Vec::<String>::new(),
            "run {run} left its helper"
        );
    }
}
