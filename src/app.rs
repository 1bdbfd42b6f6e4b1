use crate::checks::CheckId;
use crate::cli::{CheckArgs, Cli, Command, Topic};
use crate::config::Config;
use crate::render::say;
use crate::report::CutShort;
use crate::{help, pipeline, render};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// The command: parse → configure → run → render → exit code.
pub fn main() -> ExitCode {
    let started = Instant::now();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return crate::usage_error::usage_error(e),
    };
    let mut stdout = std::io::stdout().lock();
    let written = match cli.command {
        Command::Check(args) => return check(&args, &mut stdout, started),
        command => write_other(command, &mut stdout),
    };
    finish(written.and_then(|()| stdout.flush()), 0)
}

/// Every command but `check`: what it prints.
fn write_other(command: Command, stdout: &mut dyn Write) -> std::io::Result<()> {
    let checks: Vec<_> = CheckId::ALL.iter().map(|c| c.spec()).collect();
    let cli = || <Cli as clap::CommandFactory>::command();
    match command {
        Command::Explain {
            topic: Some(Topic::Code(code)),
            ..
        } => render::render_code(code, &checks, stdout),
        Command::Explain {
            topic: Some(Topic::Check(id)),
            ..
        } => render::render_check(id.spec(), stdout),
        Command::Explain { topic: None, .. } => {
            writeln!(stdout, "Checks (acr-health explain CHECK):")?;
            render::render_checks(&checks, false, stdout)?;
            writeln!(stdout, "\nCodes (acr-health explain CODE):")?;
            render::render_codes_text(stdout)
        }
        Command::Checks { json } => render::render_checks(&checks, json, stdout),
        Command::Codes { json: true } => render::render_codes_json(stdout),
        Command::Codes { json: false } => render::render_codes_text(stdout),
        Command::Completions { shell } => help::completions::write(shell, cli(), stdout),
        Command::Man { dir: Some(dir), .. } => {
            for page in help::man::write_all(cli(), &dir)? {
                writeln!(stdout, "{}", page.display())?;
            }
            Ok(())
        }
        Command::Man { command, dir: None } => {
            help::man::write_page(cli(), command.as_deref(), stdout)
        }
        Command::Check(_) => unreachable!("check is run by `check`"),
    }
}

/// `acr-health check`: configure, run, write the report; its exit code.
fn check(args: &CheckArgs, stdout: &mut std::io::StdoutLock, started: Instant) -> ExitCode {
    if args.debug {
        crate::debug::enable();
    }
    let (config, output) = match Config::from_args(args) {
        Ok((config, output)) => (Arc::new(config), output),
        Err(why) => {
            say(&format!("error: {}", render::error_line(&why)));
            return ExitCode::from(2);
        }
    };
    crate::process::adopt_orphans();
    let runtime = runtime();
    let report = runtime.block_on(pipeline::run(config, interrupted(), started));
    // Nothing left on the runtime may hold the exit: a read of the
    // terminal at the pull prompt cannot be cancelled.
    runtime.shutdown_background();
    default_signals_again();
    let written = render::write_report(&output, &report, stdout);
    finish(written.and_then(|()| stdout.flush()), report.exit_code())
}

/// The exit code once the output is written (or not): `code`, also when
/// the reader went away (`| head`: the writing stops, quietly); a failed
/// write is said on stderr and is at least 1.
fn finish(written: std::io::Result<()>, code: i32) -> ExitCode {
    let code = match written {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(e)
            if e.get_ref()
                .is_some_and(|inner| inner.is::<render::QueryFailed>()) =>
        {
            say(&format!("error: {}", render::error_line(&e.to_string())));
            2
        }
        Err(e) => {
            say(&format!("error: cannot write the output: {e}"));
            code.max(1)
        }
    };
    ExitCode::from(code as u8)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a single-threaded runtime can always be built")
}

/// Resolves when the run is asked to end, saying how: Ctrl-C (SIGINT),
/// SIGTERM (timeout(1), systemd, a cancelled CI job) or SIGHUP (the
/// terminal closed). A signal the process was started ignoring (`nohup`, a
/// background job's SIGINT) stays ignored; one that cannot be watched
/// never resolves.
async fn interrupted() -> CutShort {
    tokio::select! {
        cut = watch(Signal::Interrupt) => cut,
        cut = watch(Signal::Terminate) => cut,
        cut = watch(Signal::HangUp) => cut,
    }
}

#[derive(Clone, Copy)]
enum Signal {
    Interrupt,
    Terminate,
    HangUp,
}

impl Signal {
    #[cfg(unix)]
    const ALL: [Signal; 3] = [Signal::Interrupt, Signal::Terminate, Signal::HangUp];

    fn cut(self) -> CutShort {
        match self {
            Signal::Interrupt => CutShort::Interrupted,
            Signal::Terminate => CutShort::Terminated,
            Signal::HangUp => CutShort::HungUp,
        }
    }

    #[cfg(unix)]
    fn number(self) -> libc::c_int {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
            Signal::HangUp => libc::SIGHUP,
        }
    }

    /// Whether the process was started with this signal ignored.
    #[cfg(unix)]
    fn ignored(self) -> bool {
        // SAFETY: sigaction with a null new action only reads the current
        // one into a zeroed struct.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(self.number(), std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        }
    }
}

#[cfg(unix)]
async fn watch(which: Signal) -> CutShort {
    use tokio::signal::unix::{signal, SignalKind};
    if which.ignored() {
        return std::future::pending().await;
    }
    match signal(SignalKind::from_raw(which.number())) {
        Ok(mut s) => match s.recv().await {
            Some(()) => which.cut(),
            None => std::future::pending().await,
        },
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn watch(which: Signal) -> CutShort {
    match which {
        Signal::Interrupt if tokio::signal::ctrl_c().await.is_ok() => which.cut(),
        _ => std::future::pending().await,
    }
}

/// Once the run is over, the signals it watched end the process again as
/// they do by default: nothing is left to clean up, and a report stuck on
/// a blocked stdout must not outlive Ctrl-C. Ignored ones stay ignored.
fn default_signals_again() {
    #[cfg(unix)]
    for signal in Signal::ALL.into_iter().filter(|s| !s.ignored()) {
        // SAFETY: resetting a disposition to its default has no
        // preconditions; the runtime that watched it is shut down.
        unsafe { libc::signal(signal.number(), libc::SIG_DFL) };
    }
}
