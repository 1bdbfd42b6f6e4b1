//! Helpers that escape a tool's process group (`setsid`, a daemonising
//! plugin). On Linux acr-health is made a child subreaper, so such a process
//! becomes acr-health's own child when its parent tool exits; after each
//! step every child that is not a running tool is killed.

use std::collections::HashSet;
use std::sync::Mutex;

/// The tools running now (direct children that must not be killed).
static RUNNING: Mutex<Option<HashSet<u32>>> = Mutex::new(None);

/// Adopts the orphans of every tool started later. Call once, early.
pub(super) fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

pub(super) fn track_child(pid: u32) {
    if let Ok(mut set) = RUNNING.lock() {
        set.get_or_insert_with(HashSet::new).insert(pid);
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
/// been reused. What an orphan started becomes a child in turn once the
/// orphan dies (or once a `setsid` helper's short-lived parent exits a
/// moment after the tool): the sweep repeats, briefly, until one finds
/// nothing.
pub(super) fn kill_all() {
    #[cfg(target_os = "linux")]
    for sweep in 0..5 {
        if sweep > 0 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let running = RUNNING
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or_default();
        let orphans: Vec<u32> = children_of(std::process::id())
            .into_iter()
            // A zombie is dead already, and reaping it is for whoever
            // waits on it (the runtime, for the tools it started).
            .filter(|pid| !running.contains(pid) && !is_zombie(*pid))
            .collect();
        if orphans.is_empty() {
            return;
        }
        for pid in orphans {
            let Ok(pid) = libc::pid_t::try_from(pid) else {
                continue;
            };
            // SAFETY: kill and killpg have no memory-safety preconditions. The
            // pid is an unreaped child of this process (nothing here reaps
            // it), so it cannot have been reused by another process.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
                libc::kill(pid, libc::SIGKILL);
            }
        }
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
