//! Live progress on a terminal: one status line on stderr naming the checks
//! still running, redrawn as they finish and erased before the report.

use crate::checks::CheckId;
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;

pub(crate) struct Progress {
    state: Mutex<State>,
}

struct State {
    /// Not drawn while a prompt waits for an answer.
    paused: bool,
    running: BTreeSet<CheckId>,
    done: usize,
    total: usize,
    frame: usize,
}

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

impl Progress {
    pub(crate) fn new(total: usize) -> Progress {
        Progress {
            state: Mutex::new(State {
                paused: false,
                running: BTreeSet::new(),
                done: 0,
                total,
                frame: 0,
            }),
        }
    }

    pub(crate) fn started(&self, id: CheckId) {
        if let Ok(mut s) = self.state.lock() {
            s.running.insert(id);
            Self::draw(&mut s);
        }
    }

    pub(crate) fn finished(&self, id: CheckId) {
        if let Ok(mut s) = self.state.lock() {
            s.running.remove(&id);
            s.done += 1;
            Self::draw(&mut s);
        }
    }

    pub(crate) fn tick(&self) {
        if let Ok(mut s) = self.state.lock() {
            Self::draw(&mut s);
        }
    }

    /// Stops (and erases) or resumes the status line, around a prompt.
    pub(crate) fn pause(&self, paused: bool) {
        if let Ok(mut s) = self.state.lock() {
            s.paused = paused;
            if paused {
                self.clear();
            }
        }
    }

    fn draw(s: &mut State) {
        if s.paused {
            return;
        }
        s.frame = (s.frame + 1) % SPINNER.len();
        let names: Vec<&str> = s.running.iter().map(|id| id.title()).collect();
        let mut line = format!(
            "{} {}/{} checks done; running: {}",
            SPINNER[s.frame],
            s.done.min(s.total),
            s.total,
            if names.is_empty() {
                "-".to_string()
            } else {
                names.join(", ")
            }
        );
        // One terminal line: never wrap, so the erase below removes it all.
        let width = terminal_size::terminal_size_of(std::io::stderr())
            .map(|(w, _)| usize::from(w.0).saturating_sub(2))
            .unwrap_or(78)
            .max(20);
        if line.chars().count() > width {
            line = line.chars().take(width - 1).collect::<String>() + "…";
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }

    /// Erases the status line.
    pub(crate) fn clear(&self) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

/// Asks a y/n question on the terminal (stderr for the question, stdin for
/// the answer); anything but a yes, or no terminal, is a no.
///
/// The read runs on a thread of its own, not on the runtime's blocking
/// pool: a read of the terminal cannot be cancelled, and Ctrl-C or the run's
/// deadline must end the run at once, without anyone pressing a key.
pub(super) async fn ask_yes_no(question: &str) -> bool {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let question = question.to_string();
    let reader = std::thread::Builder::new()
        .name("prompt".into())
        .spawn(move || {
            let _ = tx.send(read_answer(&question));
        });
    if reader.is_err() {
        return false;
    }
    rx.await.unwrap_or(false)
}

fn read_answer(question: &str) -> bool {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return false;
    }
    loop {
        let _ = write!(std::io::stderr(), "{question}");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return true,
                "n" | "no" => return false,
                _ => continue,
            },
        }
    }
}
