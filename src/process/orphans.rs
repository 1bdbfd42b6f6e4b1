//! Helpers that escape a tool's process group (`setsid`, a daemonising
//! plugin). On Linux acr-health is made a child subreaper, so such a process
//! becomes acr-health's own child when its parent tool exits; after each
//! step every child that is not a running tool is killed.

use std::collections::HashSet;
use std::sync::Mutex;

/// The tools running now (direct children that must not be killed).
static RUNNING: Mutex<Option<HashSet<u32>>> = Mutex::new(None);

/// Every tool started: the runtime reaps these, so a sweep that kills one
/// (a tool stopped at its timeout, not yet dead) must not reap it too.
static STARTED: Mutex<Option<HashSet<u32>>> = Mutex::new(None);

/// Adopts the orphans of every tool started later. Call once, early.
pub(super) fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

pub(super) fn track_child(pid: u32) {
    for set in [&RUNNING, &STARTED] {
        if let Ok(mut set) = set.lock() {
            set.get_or_insert_with(HashSet::new).insert(pid);
        }
    }
}

pub(super) fn forget_child(pid: u32) {
    if let Ok(mut set) = RUNNING.lock() {
        if let Some(set) = set.as_mut() {
            set.remove(&pid);
        }
    }
}

/// Kills every adopted orphan (and its process group), leaving the tools
/// that are still running alone.
///
/// Only this process's own unreaped children are killed, so no pid can have
/// been reused. What an orphan started becomes a child in turn at the
/// moment the orphan dies, so each one killed is waited for (and reaped:
/// nobody else will) before the next sweep looks again; the sweeps end when
/// one finds nothing, or after a second for a process that cannot die.
pub(super) fn kill_all() {
    #[cfg(target_os = "linux")]
    {
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            let orphans = live_orphans();
            if orphans.is_empty() {
                return;
            }
            for &pid in &orphans {
                // SAFETY: kill and killpg have no memory-safety
                // preconditions. The pid is an unreaped child of this
                // process (only `reap` below reaps it), so it cannot have
                // been reused by another process.
                unsafe {
                    libc::killpg(pid, libc::SIGKILL);
                    libc::kill(pid, libc::SIGKILL);
                }
            }
            for pid in orphans {
                reap(pid, give_up);
            }
            if std::time::Instant::now() >= give_up {
                return;
            }
        }
    }
}

/// This process's children that are neither a running tool nor dead.
#[cfg(target_os = "linux")]
fn live_orphans() -> Vec<libc::pid_t> {
    let running = RUNNING
        .lock()
        .ok()
        .and_then(|s| s.clone())
        .unwrap_or_default();
    children_of(std::process::id())
        .into_iter()
        // A zombie is dead already; a tool's is reaped by whoever waits on
        // it (the runtime, for the tools it started).
        .filter(|pid| !running.contains(pid) && !is_zombie(*pid))
        .filter_map(|pid| libc::pid_t::try_from(pid).ok())
        .collect()
}

/// Waits for a killed orphan to be dead, which is when its own children
/// have become this process's, and reaps it unless the runtime will.
#[cfg(target_os = "linux")]
fn reap(pid: libc::pid_t, give_up: std::time::Instant) {
    let started = STARTED
        .lock()
        .ok()
        .is_some_and(|s| s.as_ref().is_some_and(|s| s.contains(&pid.unsigned_abs())));
    loop {
        let dead = if started {
            is_zombie(pid.unsigned_abs()) || parent_of(pid.unsigned_abs()).is_none()
        } else {
            // SAFETY: waitpid writes only into the status integer passed.
            // The pid is this process's child that the runtime did not
            // start, so no one else waits on it.
            unsafe {
                let mut status = 0;
                libc::waitpid(pid, &mut status, libc::WNOHANG) != 0
            }
        };
        if dead || std::time::Instant::now() >= give_up {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// The processes whose parent is `parent`, from `/proc`.
#[cfg(target_os = "linux")]
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

/// The fields of `/proc/<pid>/stat` after the command name in parentheses
/// (which may itself contain spaces and ')'): state, parent pid, …
#[cfg(target_os = "linux")]
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    Some(
        after
            .split_whitespace()
            .take(2)
            .map(str::to_string)
            .collect(),
    )
}

#[cfg(target_os = "linux")]
fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

#[cfg(target_os = "linux")]
fn is_zombie(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|f| f.first().is_some_and(|s| s == "Z"))
}
