//! Test harness: run the real binary in a controlled environment, with fake
//! tools that print what the real ones print.

pub mod acr;
pub mod dns;
pub mod pki;
pub mod plain;
pub mod reference;
pub mod server;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_acr-health");

/// `docker version --format '{{json .}}'` of Docker 28.2.2 with a running daemon.
pub const DOCKER_VERSION_UP: &str = r#"{"Client":{"Platform":{"Name":"Docker Engine - Community"},"Version":"28.2.2","ApiVersion":"1.50","DefaultAPIVersion":"1.50","GitCommit":"e6534b4","GoVersion":"go1.24.3","Os":"linux","Arch":"amd64","BuildTime":"Fri May 30 12:07:14 2025","Context":"default"},"Server":{"Platform":{"Name":"Docker Engine - Community"},"Components":[{"Name":"Engine","Version":"28.2.2","Details":{"ApiVersion":"1.50","Arch":"amd64","BuildTime":"2025-05-30T12:07:14.000000000+00:00","Experimental":"false","GitCommit":"45873be","GoVersion":"go1.24.3","KernelVersion":"6.8.0-60-generic","MinAPIVersion":"1.24","Os":"linux"}}],"Version":"28.2.2","ApiVersion":"1.50","MinAPIVersion":"1.24","GitCommit":"45873be","GoVersion":"go1.24.3","Os":"linux","Arch":"amd64","KernelVersion":"6.8.0-60-generic","BuildTime":"2025-05-30T12:07:14.000000000+00:00"}}"#;

/// The same command with no daemon: the client part, exit 1, and docker's error.
pub const DOCKER_VERSION_DOWN: &str = r#"{"Client":{"Version":"28.2.2","ApiVersion":"1.50","DefaultAPIVersion":"1.50","GitCommit":"e6534b4","GoVersion":"go1.24.3","Os":"linux","Arch":"amd64","BuildTime":"Fri May 30 12:07:14 2025","Context":"default"},"Server":null}"#;
pub const DOCKER_DAEMON_DOWN_ERR: &str =
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";

pub const DOCKER_PULL_OK: &str = "latest: Pulling from mcr/hello-world
Digest: sha256:aa0cc8055b82dc2509bed2e19b275c8f463506616377219d9642221ab53cf9fe
Status: Image is up to date for mcr.microsoft.com/mcr/hello-world:latest
mcr.microsoft.com/mcr/hello-world:latest";

pub const HELM3: &str = r#"version.BuildInfo{Version:"v3.14.4", GitCommit:"81c902a123462fd4052bc5e9aa9c513c4c8fc142", GitTreeState:"clean", GoVersion:"go1.21.9"}"#;
pub const HELM2_OLD: &str = r#"Client: &version.Version{SemVer:"v2.9.1", GitCommit:"20adb27c7c5868466912eebdf6664e7390ebe710", GitTreeState:"clean"}"#;
pub const HELM2_OK: &str = r#"Client: &version.Version{SemVer:"v2.16.12", GitCommit:"47f0b88409e71fd9ca272abc7cd762a56a1c613e", GitTreeState:"clean"}"#;

pub const NOTARY_OLD: &str = "notary\n Version:    0.5.1\n Git commit: 8e2a4a4\n";
pub const NOTARY_NEW: &str =
    "notary\n Version:    0.7.0\n Git commit: d6e1431f\n Go version: go1.17.13\n";
/// Debian's notary package prints an empty version.
pub const NOTARY_DEBIAN: &str = "notary\n Version:    \n Git commit: \n Go version: go1.19.8\n";

/// A folder of fake executables, put first on `PATH`.
pub struct Tools {
    pub dir: tempfile::TempDir,
    /// Working and home folder of the run, apart from the tools (a tool in
    /// the working folder would rightly be refused).
    pub home: tempfile::TempDir,
}

/// One scripted answer of a fake tool: for a first argument, what it prints
/// and how it exits.
pub struct Answer<'a> {
    pub arg: &'a str,
    pub stdout: &'a str,
    pub stderr: &'a str,
    pub code: i32,
    /// Seconds to sleep first (a hung tool).
    pub sleep: u32,
}

pub fn answer<'a>(arg: &'a str, stdout: &'a str) -> Answer<'a> {
    Answer {
        arg,
        stdout,
        stderr: "",
        code: 0,
        sleep: 0,
    }
}

pub fn failing<'a>(arg: &'a str, stdout: &'a str, stderr: &'a str, code: i32) -> Answer<'a> {
    Answer {
        arg,
        stdout,
        stderr,
        code,
        sleep: 0,
    }
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Tools {
    pub fn new() -> Self {
        Tools {
            dir: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a fake `name` that logs its arguments to `name.calls` and
    /// answers as scripted; any other first argument exits 1.
    pub fn add(&self, name: &str, answers: &[Answer]) -> PathBuf {
        let mut script =
            String::from("#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$0.calls\"\ncase \"$1\" in\n");
        for a in answers {
            script.push_str(&format!("  {})\n", sh_quote(a.arg)));
            if a.sleep > 0 {
                script.push_str(&format!("    /bin/sleep {}\n", a.sleep));
            }
            if !a.stdout.is_empty() {
                script.push_str(&format!("    printf '%s\\n' {}\n", sh_quote(a.stdout)));
            }
            if !a.stderr.is_empty() {
                script.push_str(&format!("    printf '%s\\n' {} >&2\n", sh_quote(a.stderr)));
            }
            script.push_str(&format!("    exit {};;\n", a.code));
        }
        script.push_str("  *) printf 'unknown command: %s\\n' \"$1\" >&2; exit 1;;\nesac\n");
        self.write_executable(name, &script)
    }

    pub fn write_executable(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        p
    }

    /// The argument lines a fake tool was called with.
    pub fn calls(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.calls")))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// A docker with a running daemon whose pull works.
    pub fn docker_up(&self) -> &Self {
        self.add(
            "docker",
            &[
                answer("version", DOCKER_VERSION_UP),
                answer("pull", DOCKER_PULL_OK),
                answer("ps", ""),
            ],
        );
        self
    }

    /// A docker client whose daemon is down, as the real client reports it.
    pub fn docker_down(&self) -> &Self {
        self.add(
            "docker",
            &[failing(
                "version",
                DOCKER_VERSION_DOWN,
                DOCKER_DAEMON_DOWN_ERR,
                1,
            )],
        );
        self
    }

    pub fn helm(&self, output: &str) -> &Self {
        self.add("helm", &[answer("version", output)]);
        self
    }

    pub fn notary(&self, output: &str) -> &Self {
        self.add("notary", &[answer("version", output)]);
        self
    }

    /// A machine where everything is present and healthy.
    pub fn healthy() -> Self {
        let t = Tools::new();
        t.docker_up().helm(HELM3).notary(NOTARY_OLD);
        t
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The JSON result of check `id`.
    pub fn check(&self, id: &str) -> Value {
        self.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no check {id} in {}", self.stdout))
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn assert_stdout_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}",
            self.stdout
        );
        self
    }

    /// Like `assert_stdout_has`, ignoring how the report wrapped lines.
    pub fn assert_text_has(&self, text: &str) -> &Self {
        let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat(&self.stdout).contains(&flat(text)),
            "stdout lacks {text:?}:\n{}",
            self.stdout
        );
        self
    }

    pub fn assert_stdout_lacks(&self, text: &str) -> &Self {
        assert!(
            !self.stdout.contains(text),
            "stdout has {text:?}:\n{}",
            self.stdout
        );
        self
    }

    /// No token, password or client secret in anything the run printed.
    pub fn assert_no_secrets(&self) -> &Self {
        let jwt = server::aad_jwt(server::TENANT);
        let jwt_payload = jwt.split('.').nth(1).unwrap().to_string();
        for secret in [
            server::REFRESH_TOKEN,
            server::ACCESS_TOKEN,
            acr::CLIENT_SECRET,
            acr::PASSWORD,
            &jwt_payload,
            "SECRET-",
        ] {
            assert!(
                !self.stdout.contains(secret),
                "stdout leaks {secret}:\n{}",
                self.stdout
            );
            assert!(
                !self.stderr.contains(secret),
                "stderr leaks {secret}:\n{}",
                self.stderr
            );
        }
        self
    }

    /// Asserts the az-style error block of `code`: header, cause, the
    /// reference's remediation and the deep link.
    pub fn assert_error_block(&self, code: &str, cause: &str) -> &Self {
        // The report wraps long lines; compare text with whitespace collapsed.
        let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        // The header line, with the check's timing after it on a terminal
        // or with --verbose.
        let header = format!("An error occurred: {code}");
        let at = self
            .stdout
            .match_indices(&header)
            .map(|(at, _)| at)
            .find(|at| {
                matches!(
                    self.stdout[at + header.len()..].chars().next(),
                    Some('\n' | ' ')
                )
            })
            .unwrap_or_else(|| panic!("no {code} block in:\n{}", self.stdout));
        let block: String = self.stdout[at..]
            .lines()
            .take_while(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let block = block.split("\nAn error occurred: ").next().unwrap();
        let (body, link) = block
            .rsplit_once("\nMore information: ")
            .unwrap_or_else(|| panic!("{code} block has no link:\n{block}"));
        let (cause_text, printed) = body
            .split_once("\nPotential solutions: ")
            .unwrap_or_else(|| panic!("{code} block has no remediation:\n{block}"));
        assert!(
            flat(cause_text).contains(&flat(cause)),
            "{code} block lacks cause {cause:?}:\n{block}"
        );
        // az's own sentence first, with its values filled in.
        let templates = reference::az_templates(code);
        if !templates.is_empty() {
            let message: Vec<&str> = cause_text.lines().skip(1).collect();
            let message = flat(&message.join(" "));
            assert!(
                templates
                    .iter()
                    .any(|t| reference::begins_with_filled(&flat(t), &message)),
                "{code} block does not start with az's sentence {templates:?}:\n{block}"
            );
        }
        let printed = flat(printed);
        let entry = reference::entry(code);
        if entry.remediation.is_empty() {
            // The reference gives this code's advice at the end of its explanation.
            assert!(
                !printed.is_empty() && reference::as_printed(&entry.meaning).ends_with(&printed),
                "{code} remediation {printed:?} is not the reference's advice"
            );
        } else {
            assert_eq!(
                printed,
                reference::remediation_as_printed(&entry.remediation),
                "{code} remediation drifted from the reference"
            );
        }
        // The reference's page for its codes; for acr-health's own, explain
        // first (the reference has no page for them).
        let documented = reference::entries().iter().any(|e| e.code == code);
        let expected = match documented {
            true => entry.docs_url.clone(),
            false => format!("acr-health explain {code}, {}", entry.docs_url),
        };
        assert_eq!(link.lines().next(), Some(expected.as_str()), "{block}");
        self.snapshot(code, &block_with_its_lines(&self.stdout, at));
        self
    }

    /// The whole text report as a reviewed snapshot, for the few tests that
    /// show the report's shape (which lines, in which order, the summary);
    /// counts and durations are replaced, so adding a check changes none.
    pub fn snapshot_report(&self) -> &Self {
        self.snapshot("report", &normalize_counts(&normalize(&self.stdout)));
        self
    }

    /// A reviewed snapshot (`tests/snapshots/`) named after the test and
    /// `what`, with what changes from run to run (ports, durations,
    /// temporary paths) replaced.
    fn snapshot(&self, what: &str, text: &str) {
        let test = std::thread::current()
            .name()
            .unwrap_or("test")
            .rsplit("::")
            .next()
            .unwrap_or("test")
            .to_string();
        let n = SNAPSHOTS.with(|taken| {
            let mut taken = taken.borrow_mut();
            let n = taken
                .iter()
                .filter(|t| **t == (test.clone(), what.to_string()))
                .count();
            taken.push((test.clone(), what.to_string()));
            n
        });
        let name = match n {
            0 => format!("{test}__{what}"),
            n => format!("{test}__{what}_{}", n + 1),
        };
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, normalize(text)));
    }
}

/// The error block that starts at byte `at` of `stdout`: from its header to
/// the link, with the line that follows it when that line is about the same
/// code (az's own pointer to the documentation).
fn block_with_its_lines(stdout: &str, at: usize) -> String {
    let mut lines = Vec::new();
    let mut link_seen = false;
    for line in stdout[at..].lines() {
        let az_last_words = line.starts_with("Please refer to https://aka.ms/acr/errors#")
            || (line.starts_with("Run 'acr-health explain ")
                && line.ends_with(" for more information."));
        if link_seen && !az_last_words {
            break;
        }
        lines.push(line);
        if link_seen {
            break;
        }
        link_seen = line.starts_with("More information: ");
    }
    lines.join("\n") + "\n"
}

/// A whole report with the counts that change whenever a check is added
/// replaced: how many checks passed, were skipped or not shown.
pub fn normalize_counts(report: &str) -> String {
    let mut out = Vec::new();
    let mut lines = report.lines().peekable();
    while let Some(line) = lines.next() {
        let mut line = line.to_string();
        if line.starts_with("Stopped after the first error: ") {
            // Wrapped after a number whose width varies: one line again.
            while lines.peek().is_some_and(|l| l.starts_with("  ")) {
                line = format!("{line} {}", lines.next().unwrap().trim());
            }
        }
        if line.starts_with("Stopped after the first error: ")
            || line.starts_with("Healthy: ")
            || line.starts_with("Unhealthy: ")
        {
            line = numbers_to_n(&line);
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

/// Every run of digits in `line` replaced with `N`.
fn numbers_to_n(line: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in line.chars() {
        match (c.is_ascii_digit(), in_number) {
            (true, false) => {
                out.push('N');
                in_number = true;
            }
            (true, true) => {}
            (false, _) => {
                out.push(c);
                in_number = false;
            }
        }
    }
    out
}

thread_local! {
    static SNAPSHOTS: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A report with what differs between runs replaced: ports, durations,
/// temporary paths.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 12)].iter().collect();
        if chars[i] == ':' {
            let digits = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if (4..=5).contains(&digits) {
                out.push_str(":PORT");
                i += 1 + digits;
                continue;
            }
        }
        if rest.starts_with("/tmp/.tmp") {
            let len = chars[i + 9..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            out.push_str("/tmp/TMP");
            i += 9 + len;
            continue;
        }
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let after: String = chars[i + digits..chars.len().min(i + digits + 13)]
                .iter()
                .collect();
            let before: String = chars[i.saturating_sub(5)..i].iter().collect();
            // Durations, and the size of this machine's trust store.
            if after.starts_with(" ms")
                || after.starts_with("ms")
                || before == "_ms: "
                || after.starts_with(" certificates")
            {
                out.push('N');
                i += digits;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Runs the binary with a clean environment: only the fake tools on PATH.
pub fn run_with(args: &[&str], tools: &Tools, env: &[(&str, &str)]) -> Run {
    run_in(
        args,
        tools.home.path(),
        &tools.path().display().to_string(),
        env,
    )
}

/// The binary with a clean environment (`PATH` = `path`, home and working
/// folder `cwd`), stdin closed and output captured.
pub fn command(args: &[&str], cwd: &Path, path: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", path)
        .env("HOME", cwd)
        // Nothing listens on the discard port: no test reaches a real
        // instance metadata service (169.254.169.254 answers on some hosts).
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
        // Nor a containerd that may run on the machine.
        .env("CONTAINERD_ADDRESS", "/nonexistent/containerd.sock")
        .env("ACR_HEALTH_SYSCONFDIR", "/nonexistent/etc")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

impl Tools {
    /// `command` with these tools on `PATH`.
    pub fn command(&self, args: &[&str]) -> Command {
        command(args, self.home.path(), &self.path().display().to_string())
    }
}

pub fn run_in(args: &[&str], cwd: &Path, path: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = command(args, cwd, path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let out: Output = cmd.output().expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

pub fn run(args: &[&str], tools: &Tools) -> Run {
    run_with(args, tools, &[])
}
