//! Running an external tool with a deadline and bounded output.

pub(crate) mod go_json;
pub(crate) mod lookup;
mod orphans;

use crate::untrusted::Untrusted;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// Output kept from each stream; the rest is read and dropped so the child
/// never blocks on a full pipe.
const OUTPUT_LIMIT: usize = 256 * 1024;

#[derive(Debug)]
pub(crate) struct ToolOutput {
    pub status: std::process::ExitStatus,
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug)]
pub(crate) enum RunError {
    Spawn(std::io::Error),
    TimedOut(Duration),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Spawn(e) => write!(f, "could not be started: {e}"),
            RunError::TimedOut(d) => write!(
                f,
                "did not finish within {} and was stopped",
                crate::duration::format_duration(*d)
            ),
        }
    }
}

/// Makes the helpers that escape a tool's process group this process's own
/// children, so that they can be killed after the step (Linux).
pub(crate) fn adopt_orphans() {
    orphans::become_subreaper();
}

/// Kills the child's whole process group when dropped, so that a tool that
/// started helpers of its own (a shell script running `sleep`, a CLI
/// plugin) leaves nothing behind: after a timeout, on Ctrl-C, and after it
/// exited too.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            orphans::forget_child(pid);
            kill_group(pid);
        }
        orphans::kill_all();
    }
}

fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: killpg has no memory-safety preconditions; the group was
        // created for this child alone by process_group(0).
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Runs `program args…` with stdin closed; the child and anything it
/// started are killed when it has exited, when it outlives `timeout`, or if
/// the caller is dropped (Ctrl-C), so nothing is left behind.
pub(crate) async fn run(
    program: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<ToolOutput, RunError> {
    run_with_input(program, args, None, timeout).await
}

/// [`run`], with `input` written to the tool's standard input (a
/// credential helper reads the server's name there).
pub(crate) async fn run_with_input(
    program: &Path,
    args: &[&str],
    input: Option<&[u8]>,
    timeout: Duration,
) -> Result<ToolOutput, RunError> {
    run_with_env(program, (args, &[]), input, timeout).await
}

/// [`run_with_input`], with `env` set on top of this process's environment
/// (a credential provider's configured variables).
pub(crate) async fn run_with_env(
    program: &Path,
    (args, env): (&[&str], &[(String, String)]),
    input: Option<&[u8]>,
    timeout: Duration,
) -> Result<ToolOutput, RunError> {
    let mut command = Command::new(program);
    if !env.is_empty() {
        // A tool of another machine's (a node's credential provider) gets
        // only what it is given, none of this process's secrets.
        command.env_clear().current_dir("/");
    }
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn().map_err(RunError::Spawn)?;
    if let Some(pid) = child.id() {
        orphans::track_child(pid);
    }
    let mut guard = GroupGuard(child.id());
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        use tokio::io::AsyncWriteExt;
        let input = input.to_vec();
        // Written alongside, so that a tool that does not read cannot block us.
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
        });
    }
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    // The pipes close only when every process holding them is gone: the
    // helpers are killed as soon as the tool exits, so that one left
    // running cannot hold the step until its timeout.
    let wait = async {
        let status = child.wait().await;
        drop(std::mem::replace(&mut guard, GroupGuard(None)));
        status
    };
    let work = async { tokio::join!(wait, read_bounded(stdout), read_bounded(stderr)) };
    match tokio::time::timeout(timeout, work).await {
        Ok((status, stdout, stderr)) => {
            let status = status.map_err(RunError::Spawn)?;
            Ok(ToolOutput {
                status,
                success: status.success(),
                stdout,
                stderr,
            })
        }
        Err(_) => Err(RunError::TimedOut(timeout)),
    }
}

async fn read_bounded<R: AsyncRead + Unpin>(reader: Option<R>) -> String {
    let Some(mut reader) = reader else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// First non-empty line of a tool's output, for messages: the tool controls
/// it, so it comes back with its control characters escaped.
pub(crate) fn first_line(s: &str) -> String {
    let line = s
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    Untrusted::new(line).shown()
}

/// The first line of a tool's error output, quoted with the tool's name
/// (`docker: Cannot connect …`): a line of the report never starts with
/// text a tool chose, so a tool cannot forge one.
pub(crate) fn tool_said(tool: &Path, output: &str) -> String {
    let line = first_line(output);
    if line.is_empty() {
        return String::new();
    }
    let name = tool
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "the tool".into());
    format!("{}: {line}", Untrusted::new(name))
}

/// A tool's whole output on one line (` / ` between lines), at most `max`
/// characters, with its control characters escaped.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    // Masked before it is cut, so that no secret is left half shown.
    let s = crate::secret::scrub(s);
    let joined = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    let mut cut: String = joined.chars().take(max).collect();
    if joined.chars().count() > max {
        cut.push('…');
    }
    Untrusted::new(cut).shown()
}

/// Runs the commands `azure_identity` needs (the Azure CLI) with the same
/// deadline and clean-up as every other tool.
#[derive(Debug)]
pub(crate) struct BoundedExecutor {
    pub timeout: Duration,
}

#[async_trait::async_trait]
impl azure_identity::Executor for BoundedExecutor {
    async fn run(
        &self,
        program: &std::ffi::OsStr,
        args: &[&std::ffi::OsStr],
    ) -> std::io::Result<std::process::Output> {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        match run(Path::new(program), &arg_refs, self.timeout).await {
            Ok(out) => Ok(std::process::Output {
                status: out.status,
                stdout: out.stdout.into_bytes(),
                stderr: out.stderr.into_bytes(),
            }),
            Err(RunError::Spawn(e)) => Err(e),
            Err(e @ RunError::TimedOut(_)) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("the Azure CLI {e}"),
            )),
        }
    }
}

#[cfg(all(test, unix))]
mod input_tests {
    #[test]
    fn input_reaches_the_tool() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt
            .block_on(super::run_with_input(
                std::path::Path::new("/bin/cat"),
                &[],
                Some(b"hello"),
                std::time::Duration::from_secs(5),
            ))
            .unwrap();
        assert_eq!(out.stdout, "hello");
    }
}
