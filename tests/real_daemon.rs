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
use common::server::{Reply, Request};
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
    let out = acr.check_env(&["--json"], &real_client(&acr, &daemon));
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

/// A registry holding `samples/app:v1` for bearer tokens only, which gives
/// anonymous clients no token, as a registry without anonymous pull does.
fn private_image_registry() -> FakeAcr {
    const UNAUTHORIZED: &str = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":null}]}"#;
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[{{"digest":"sha256:{}","size":5}}]}}"#,
        "5".repeat(64)
    );
    FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |port| {
        move |r: &Request| {
            let bearer = r
                .headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v.starts_with("Bearer "));
            let authorized = r
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
            let challenge = format!(
                r#"Bearer realm="https://{HOST}:{port}/oauth2/token",service="{HOST}:{port}""#
            );
            match (r.method.as_str(), r.path.split('?').next().unwrap_or("")) {
                ("GET", "/oauth2/token") if !authorized => Some(Reply::json(401, UNAUTHORIZED)),
                (_, p) if p.starts_with("/v2/samples/") && !bearer => {
                    Some(Reply::json(401, UNAUTHORIZED).header("www-authenticate", &challenge))
                }
                (_, "/v2/samples/app/manifests/v1") => Some(Reply::json(200, &manifest)),
                (_, p) if p.starts_with("/v2/samples/app/blobs/") => Some(Reply::new(200, "bytes")),
                _ => None,
            }
        }
    })
}

/// The real docker client, pointed at `daemon` through the fake tools.
fn real_client(acr: &FakeAcr, daemon: &Daemon) -> Vec<(String, String)> {
    let docker = ["/usr/local/bin/docker", "/usr/bin/docker"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("a docker client");
    acr.tools
        .write_executable("docker", &format!("#!/bin/sh\nexec {docker} \"$@\"\n"));
    let mut env = acr.sp_env();
    env.push(("DOCKER_HOST".into(), daemon.host()));
    env
}

#[test]
#[ignore = "needs root and dockerd; .ci/run runs it with --ignored"]
fn the_real_daemons_own_refusals_become_codes() {
    let acr = private_image_registry();
    let ls = acr.login_server();
    let pull = [
        "--repository",
        "samples/app",
        "--image",
        "v1",
        "--yes",
        "--json",
    ];
    // The daemon's proxy refuses the connection: the shell's path is fine.
    let daemon = Daemon::start(&[], &[("HTTPS_PROXY", "http://127.0.0.1:1")]);
    let out = acr.check_env(&pull, &real_client(&acr, &daemon));
    let check = out.check("registry.docker_pull");
    assert_eq!(check["status"], "fail", "{}", out.stdout);
    assert_eq!(check["code"], "CONNECTIVITY_CHALLENGE_ERROR", "{check}");
    assert!(check.to_string().contains("proxyconnect"), "{check}");
    assert!(
        check.to_string().contains("The daemon's own proxy"),
        "{check}"
    );
    drop(daemon);
    // Through a working proxy to the registry, the daemon has no credential
    // for it (no `docker login`), though the service principal has one.
    let (proxy, log) = common::plain::connect_proxy();
    let daemon = Daemon::start(
        &["--insecure-registry", &ls],
        &[("HTTPS_PROXY", &format!("http://{proxy}"))],
    );
    let mut env = real_client(&acr, &daemon);
    let config = tempfile::tempdir().unwrap();
    env.push(("DOCKER_CONFIG".into(), config.path().display().to_string()));
    let out = acr.check_env(&pull, &env);
    let check = out.check("registry.docker_pull");
    assert_eq!(check["status"], "fail", "{check}");
    assert_eq!(check["code"], "CONNECTIVITY_ACCESS_TOKEN_ERROR", "{check}");
    assert!(check.to_string().contains("unauthorized"), "{check}");
    assert!(
        check.to_string().contains("Error response from daemon"),
        "{check}"
    );
    assert!(
        check.to_string().contains(&format!("docker login {ls}")),
        "{check}"
    );
    assert!(
        log.lock().unwrap().iter().any(|l| l.contains(&ls)),
        "the daemon went through the proxy"
    );
    drop(daemon);
}
