//! Against Debian's real docker daemon: started here with a socket, data
//! and state folders of its own (vfs storage, no iptables, no bridge), a
//! proxy in its environment and the test registry as an insecure registry;
//! acr-health reads what the daemon itself would do with the login server.
//!
//! Needs root and `dockerd` (Debian's docker.io, which .ci/run installs):
//! `cargo test --test real_daemon -- --ignored`, as .ci/run runs it.
#![cfg(target_os = "linux")]

mod common;

use common::acr::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A dockerd of the test's own, stopped when dropped.
struct Daemon {
    child: Child,
    dir: tempfile::TempDir,
}

impl Daemon {
    fn start(extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name).display().to_string();
        let child = Command::new("dockerd")
            .args([
                "--storage-driver=vfs",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
            ])
            .args(["-H", &format!("unix://{}", p("docker.sock"))])
            .args([
                "--data-root",
                &p("data"),
                "--exec-root",
                &p("exec"),
                "--pidfile",
                &p("pid"),
            ])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dockerd (Debian's docker.io, as root)");
        let daemon = Daemon { child, dir };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            let up = Command::new("docker")
                .env("DOCKER_HOST", daemon.host())
                .args(["info", "--format", "{{.ServerVersion}}"])
                .output()
                .is_ok_and(|o| o.status.success());
            if up {
                return daemon;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("dockerd did not come up within 30 s");
    }

    fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

#[test]
#[ignore = "needs root and dockerd; .ci/run runs it with --ignored"]
fn the_real_daemons_proxy_and_insecure_registry_are_reported() {
    let acr = FakeAcr::healthy();
    let ls = acr.login_server();
    let daemon = Daemon::start(
        &["--insecure-registry", &ls],
        &[
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
            ("NO_PROXY", "localhost"),
        ],
    );
    // The real client, talking to this daemon.
    let docker = ["/usr/local/bin/docker", "/usr/bin/docker"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("a docker client");
    acr.tools
        .write_executable("docker", &format!("#!/bin/sh\nexec {docker} \"$@\"\n"));
    let mut env = acr.sp_env();
    env.push(("DOCKER_HOST".into(), daemon.host()));
    let out = acr.check_env(&["--json"], &env);
    let check = out.check("registry.docker_daemon");
    assert_eq!(check["status"], "warn", "{check}");
    let all = check.to_string();
    assert!(
        all.contains("pulls through the proxy http://proxy.corp:3128"),
        "{all}"
    );
    assert!(all.contains("insecure registry"), "{all}");
    drop(daemon);
}
