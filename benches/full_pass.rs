//! Wall time of a full `acr-health check -n … --yes` against the fake
//! registry + Azure AD behind a latency proxy, beside the ideal critical
//! path; plus the environment checks alone, peak memory and binary size.
//!
//! `cargo bench --bench full_pass` (RUNS=N to change the number of runs).

#[allow(dead_code, unreachable_pub)]
#[path = "../tests/it/common/mod.rs"]
mod common;
#[allow(dead_code, unreachable_pub)]
#[path = "support/latency.rs"]
mod latency;

use common::acr::{CLIENT_SECRET, HOST, REGISTRY};
use common::dns::DnsServer;
use common::pki::Ca;
use common::server::{HttpsServer, TENANT};
use common::Tools;
use latency::LatencyProxy;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Round trips on the critical path of a full pass with a service
/// principal, as the protocol needs them: DNS (A and AAAA in parallel),
/// TLS 1.3 handshake, GET /v2/, POST /oauth2/exchange, POST /oauth2/token.
/// The Azure AD token (TLS + one request) runs alongside DNS/TLS/challenge
/// and is off the path; the TCP handshake is answered locally by the proxy,
/// so no delay is injected into it and it is not counted.
const CRITICAL_ROUND_TRIPS: u32 = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Setup {
    ca: Ca,
    dns: DnsServer,
    _server: HttpsServer,
    _proxies: Vec<LatencyProxy>,
    registry_port: u16,
    aad_port: u16,
    tools: Tools,
}

fn setup(one_way: Duration) -> Setup {
    let ca = Ca::new("acr-health bench root");
    let cert = ca.issue(&[HOST, "127.0.0.1"]);
    let (reg_listener, reg_addr) = LatencyProxy::bind();
    let (aad_listener, aad_addr) = LatencyProxy::bind();
    let server = HttpsServer::start(
        cert,
        &format!("{HOST}:{}", reg_addr.port()),
        Arc::new(|_| None),
    );
    let proxies = vec![
        LatencyProxy::start(reg_listener, server.addr, one_way),
        LatencyProxy::start(aad_listener, server.addr, one_way),
    ];
    let dns = DnsServer::start();
    dns.a(HOST, "127.0.0.1");
    dns.set_delay(one_way * 2);
    Setup {
        ca,
        dns,
        _server: server,
        _proxies: proxies,
        registry_port: reg_addr.port(),
        aad_port: aad_addr.port(),
        tools: Tools::healthy(),
    }
}

fn command(s: &Setup, extra: &[&str]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.args(["check", "--yes", "-n", REGISTRY])
        .args(["--login-server", &format!("{HOST}:{}", s.registry_port)])
        .args(["--dns-server", &s.dns.flag()])
        .args(["--ca-file", &s.ca.pem_file().display().to_string()])
        .args(extra)
        .env_clear()
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
        .env("CONTAINERD_ADDRESS", "/nonexistent/containerd.sock")
        .env("PATH", s.tools.path())
        .env("HOME", s.tools.home.path())
        .env(
            "AZURE_AUTHORITY_HOST",
            format!("https://127.0.0.1:{}", s.aad_port),
        )
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555")
        .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
        .current_dir(s.tools.home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn time_runs(runs: usize, mut make: impl FnMut() -> Command) -> Duration {
    // One warm-up run (page cache, certificate parsing paths).
    let _ = make().status();
    let times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let status = make().status().expect("binary runs");
            let took = start.elapsed();
            assert!(status.success(), "a benchmark run failed: {status}");
            took
        })
        .collect();
    median(times)
}

/// Largest resident set of any child so far, in MB (Linux: ru_maxrss is KiB).
fn peak_child_rss_mb() -> f64 {
    // SAFETY: getrusage writes into the struct we pass and nothing else.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u
    };
    let kb = usage.ru_maxrss as f64;
    if cfg!(target_os = "macos") {
        kb / 1024.0 / 1024.0
    } else {
        kb / 1024.0
    }
}

/// `az acr check-health` beside acr-health on the same environment checks
/// and fake tools, when the Azure CLI is installed (`AZ=/path/to/az`, or
/// `az` on PATH).
fn compare_with_az(s: &Setup, runs: usize) {
    let az = std::env::var_os("AZ")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|d| d.join("az"))
                .find(|p| p.is_file())
        });
    let Some(az) = az else {
        println!("az not installed: no comparison with az acr check-health (set AZ=/path/to/az)");
        return;
    };
    let az_dir = az.parent().map(|d| d.to_path_buf()).unwrap_or_default();
    let path = std::env::join_paths([s.tools.path().to_path_buf(), az_dir]).unwrap();
    let home = tempfile::tempdir().unwrap();
    let environment = |cmd: &mut Command| {
        cmd.env_clear()
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
            .env("CONTAINERD_ADDRESS", "/nonexistent/containerd.sock")
            .env("PATH", &path)
            .env("HOME", home.path())
            .env("AZURE_CORE_COLLECT_TELEMETRY", "no")
            .current_dir(home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    };
    let time = |make: &dyn Fn() -> Command| -> Duration {
        let _ = make().status();
        median(
            (0..runs)
                .map(|_| {
                    let start = Instant::now();
                    let _ = make().status();
                    start.elapsed()
                })
                .collect(),
        )
    };
    let az_time = time(&|| {
        let mut c = Command::new(&az);
        c.args(["acr", "check-health", "--ignore-errors", "--yes"]);
        environment(&mut c);
        c
    });
    let ours = time(&|| {
        let mut c = Command::new(binary());
        c.args(["check", "--ignore-errors", "--yes"]);
        environment(&mut c);
        c
    });
    println!(
        "environment checks, same fake tools: az acr check-health {:.1} ms, acr-health {:.1} ms, {:.0}x faster",
        ms(az_time),
        ms(ours),
        az_time.as_secs_f64() / ours.as_secs_f64()
    );
}

/// The environment checks alone, beside the slowest fake tool's own run.
fn environment_checks(runs: usize) {
    let s = setup(Duration::ZERO);
    let tool_times: Vec<(String, Duration)> = ["docker", "helm", "notary"]
        .iter()
        .map(|t| {
            let path = s.tools.path().join(t);
            let d = time_runs(runs, || {
                let mut c = Command::new(&path);
                c.arg("version").stdout(Stdio::null()).stderr(Stdio::null());
                c
            });
            (t.to_string(), d)
        })
        .collect();
    let slowest = tool_times.iter().map(|(_, d)| *d).max().unwrap();
    // `check` without a registry: only the environment checks run.
    let env_only = time_runs(runs, || {
        let mut c = Command::new(binary());
        c.args(["check", "--yes"])
            .env_clear()
            .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
            .env("CONTAINERD_ADDRESS", "/nonexistent/containerd.sock")
            .env("PATH", s.tools.path())
            .env("HOME", s.tools.home.path())
            .current_dir(s.tools.home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    });
    for (t, d) in &tool_times {
        println!("fake {t} run alone: {:.1} ms", ms(*d));
    }
    println!(
        "environment checks (docker version + pull, helm, notary): {:.1} ms = slowest tool {:.1} ms + {:.1} ms",
        ms(env_only),
        ms(slowest),
        ms(env_only.saturating_sub(slowest))
    );
}

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15)
        .max(10);
    let bin = binary();
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    println!("acr-health benchmark: {runs} runs per figure, median wall time");
    println!("binary: {:.1} MB ({bin})", size as f64 / 1e6);

    environment_checks(runs);

    for one_way_ms in [0u64, 20] {
        let d = Duration::from_millis(one_way_ms);
        let s = setup(d);
        let wall = time_runs(runs, || command(&s, &[]));
        if std::env::var_os("SHOW_STEPS").is_some() {
            let out = command(&s, &["--json"])
                .stdout(Stdio::piped())
                .output()
                .unwrap();
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            for c in report["checks"].as_array().unwrap() {
                println!(
                    "  {:<24} {:>4} ms {}",
                    c["id"].as_str().unwrap(),
                    c["duration_ms"],
                    c["status"]
                );
            }
            println!("  total {} ms", report["duration_ms"]);
        }
        let ideal = d * 2 * CRITICAL_ROUND_TRIPS;
        if one_way_ms == 0 {
            println!("D = 0 ms: full pass {:.1} ms", ms(wall));
        } else {
            println!(
                "D = {one_way_ms} ms: full pass {:.1} ms, ideal critical path {:.1} ms ({CRITICAL_ROUND_TRIPS} round trips x 2D), ratio {:.2}",
                ms(wall),
                ms(ideal),
                wall.as_secs_f64() / ideal.as_secs_f64()
            );
        }
    }
    println!(
        "peak resident memory of any run: {:.1} MB",
        peak_child_rss_mb()
    );
    // Last: the peak above is of acr-health's runs (and the tiny fake tools) only.
    compare_with_az(&setup(Duration::ZERO), runs);
}

/// The binary timed: this build's, or `ACR_HEALTH_BIN` (another build, to
/// compare two in one sitting).
fn binary() -> String {
    std::env::var("ACR_HEALTH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_acr-health").into())
}
