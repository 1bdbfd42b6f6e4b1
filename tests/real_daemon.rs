//! Against Debian's real docker daemon: started here with a socket, data
//! and state folders of its own (vfs storage, no iptables, no bridge), a
//! proxy in its environment and the test registry as an insecure registry;
//! acr-health reads what the daemon itself would do with the login server.
//!
//! Needs root and `dockerd` (Debian's docker.io, which .ci/run installs):
//! `cargo test --test real_daemon -- --ignored`, as .ci/run runs it.
#![cfg(target_os = "linux")]

// Only some of the harness is needed here.
#[allow(dead_code, unreachable_pub)]
#[path = "it/common/mod.rs"]
mod common;

use common::acr::*;
use common::server::{Reply, Request};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The daemon pulls `samples/app:v1` from the login server, with consent.
const PULL: [&str; 6] = [
    "--repository",
    "samples/app",
    "--image",
    "v1",
    "--yes",
    "--json",
];

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
    let pull = PULL;
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

fn sha256(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// An image made here for the daemon to pull: one uncompressed layer
/// holding one file, its config and an OCI manifest naming both.
struct Image {
    manifest: String,
    config: String,
    layer: String,
}

impl Image {
    fn new() -> Image {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hello.txt"),
            "hello from the test registry\n",
        )
        .unwrap();
        let tar = Command::new("tar")
            .args(["--owner=0", "--group=0", "--mtime=@0", "-cf", "-", "-C"])
            .arg(dir.path())
            .arg("hello.txt")
            .output()
            .unwrap();
        assert!(tar.status.success());
        // ASCII names and content: the tar is valid UTF-8, as the server's bodies are.
        let layer = String::from_utf8(tar.stdout).unwrap();
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
            sha256(layer.as_bytes())
        );
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{}","size":{}}}]}}"#,
            sha256(config.as_bytes()),
            config.len(),
            sha256(layer.as_bytes()),
            layer.len()
        );
        Image {
            manifest,
            config,
            layer,
        }
    }

    /// What the registry answers for `path` (a bearer token presented).
    fn serve(&self, path: &str) -> Option<Reply> {
        let blob = |body: &str| {
            Reply::new(200, body)
                .header("content-type", "application/octet-stream")
                .header("docker-content-digest", &sha256(body.as_bytes()))
        };
        let by_digest = format!(
            "/v2/samples/app/manifests/{}",
            sha256(self.manifest.as_bytes())
        );
        match path {
            p if p == "/v2/samples/app/manifests/v1" || p == by_digest => Some(
                Reply::new(200, &self.manifest)
                    .header("content-type", "application/vnd.oci.image.manifest.v1+json")
                    .header("docker-content-digest", &sha256(self.manifest.as_bytes())),
            ),
            p if p == format!("/v2/samples/app/blobs/{}", sha256(self.config.as_bytes())) => {
                Some(blob(&self.config))
            }
            p if p == format!("/v2/samples/app/blobs/{}", sha256(self.layer.as_bytes())) => {
                Some(blob(&self.layer))
            }
            _ => None,
        }
    }
}

/// A registry holding `samples/app:v1` as ACR serves it: `/v2/` challenges,
/// `GET /oauth2/token` with docker's basic credential (the token user and
/// the refresh token, as `az acr login` stores them) gives a token, and the
/// image needs that token.
fn registry_with_image() -> FakeAcr {
    const UNAUTHORIZED: &str = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":null}]}"#;
    let image = Image::new();
    FakeAcr::with_arm(&[HOST, "127.0.0.1"], move |port| {
        move |r: &Request| {
            let header = |name: &str| {
                r.headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            let challenge = format!(
                r#"Bearer realm="https://{HOST}:{port}/oauth2/token",service="{HOST}:{port}""#
            );
            let path = r.path.split('?').next().unwrap_or("");
            match (r.method.as_str(), path) {
                ("GET", "/oauth2/token") => Some(match header("authorization") {
                    Some(a) if a.starts_with("Basic ") => Reply::json(
                        200,
                        &format!(r#"{{"access_token":"{}"}}"#, common::server::ACCESS_TOKEN),
                    ),
                    _ => Reply::json(401, UNAUTHORIZED),
                }),
                (_, p) if p.starts_with("/v2/samples/") => {
                    let bearer = format!("Bearer {}", common::server::ACCESS_TOKEN);
                    if header("authorization") != Some(bearer.as_str()) {
                        return Some(
                            Reply::json(401, UNAUTHORIZED).header("www-authenticate", &challenge),
                        );
                    }
                    image.serve(p)
                }
                _ => None,
            }
        }
    })
}

/// A CA in `/etc/docker/certs.d/<login server>/`, where the daemon looks,
/// removed again when dropped.
struct CertsD(std::path::PathBuf);

impl CertsD {
    fn trust(acr: &FakeAcr) -> CertsD {
        let dir = std::path::Path::new("/etc/docker/certs.d").join(acr.login_server());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(acr.ca.pem_file(), dir.join("ca.crt")).unwrap();
        CertsD(dir)
    }
}

impl Drop for CertsD {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// docker's configuration after `az acr login`: the token user and the
/// registry's refresh token for the login server.
fn logged_in_config(acr: &FakeAcr) -> tempfile::TempDir {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "00000000-0000-0000-0000-000000000000:{}",
        common::server::REFRESH_TOKEN
    ));
    let config = format!(
        r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
        acr.login_server()
    );
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    dir
}

fn images(daemon: &Daemon) -> String {
    let out = Command::new("docker")
        .env("DOCKER_HOST", daemon.host())
        .args(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs root and dockerd; .ci/run runs it with --ignored"]
fn the_real_daemon_pulls_over_verified_tls_or_names_the_trust_it_lacks() {
    let acr = registry_with_image();
    let ls = acr.login_server();
    let pull = PULL;
    // No --insecure-registry: the daemon verifies the registry's certificate.
    let (proxy, log) = common::plain::connect_proxy();
    let daemon = Daemon::start(&[], &[("HTTPS_PROXY", &format!("http://{proxy}"))]);
    let config = logged_in_config(&acr);
    let mut env = real_client(&acr, &daemon);
    env.push(("DOCKER_CONFIG".into(), config.path().display().to_string()));

    // The shell trusts the registry's CA (--ca-file); the daemon does not.
    let out = acr.check_env(&pull, &env);
    let check = out.check("registry.docker_pull");
    assert_eq!(check["status"], "fail", "{}", out.stdout);
    assert_eq!(check["code"], "CONNECTIVITY_SSL_ERROR", "{check}");
    let said = check.to_string();
    assert!(said.contains("x509"), "{said}");
    assert!(
        said.contains(&format!("/etc/docker/certs.d/{ls}/ca.crt")),
        "{said}"
    );
    assert_eq!(
        out.check("registry.image")["status"],
        "pass",
        "{}",
        out.stdout
    );

    // With the CA in certs.d the daemon's own pull succeeds, and the image
    // it brought in is removed again.
    let _trust = CertsD::trust(&acr);
    env.push(("ACR_HEALTH_SYSCONFDIR".into(), "/etc".into()));
    let out = acr.check_env(&pull, &env);
    out.assert_code(0);
    let check = out.check("registry.docker_pull");
    assert_eq!(check["status"], "pass", "{}", out.stdout);
    assert!(check.to_string().contains("removed again"), "{check}");
    let daemon_check = out.check("registry.docker_daemon").to_string();
    assert!(daemon_check.contains("certs.d"), "{daemon_check}");
    assert_eq!(out.check("registry.docker_credential")["status"], "pass");
    assert!(
        !images(&daemon).contains("samples/app"),
        "{}",
        images(&daemon)
    );
    assert!(
        log.lock().unwrap().iter().any(|l| l.contains(&ls)),
        "the daemon went through the proxy"
    );
    drop(daemon);
}
