use crate::checks::CheckId;
use crate::cli::{CheckArgs, Cli, Command, Topic};
use crate::config::Config;
use crate::report::CutShort;
use crate::{pipeline, render};
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
        Err(e) => return usage_error(e),
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
    match command {
        Command::Explain {
            topic: Topic::Code(code),
        } => render::render_code(code, &checks, stdout),
        Command::Explain {
            topic: Topic::Check(id),
        } => render::render_check(id.spec(), stdout),
        Command::Checks { json } => render::render_checks(&checks, json, stdout),
        Command::Codes { json: true } => render::render_codes_json(stdout),
        Command::Codes { json: false } => render::render_codes_text(stdout),
        Command::Completions { shell } => {
            // Made whole first: the generator panics on a failed write.
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "acr-health", &mut script);
            stdout.write_all(&script)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(stdout)
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

/// One line on stderr; a stderr that cannot be written to (`2>/dev/full`,
/// a closed pipe) loses it rather than ending the run.
pub(crate) fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Help and version go to stdout with exit 0; every other parse error is
/// one line on stderr with exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    // Also remembers the password, which clap's own message may quote.
    // args_os: an argument that is not Unicode (a password among them)
    // must not panic here, with itself in the panic's message.
    let raw: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (args, passwords) = redact_password(raw);
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let code = match e.kind() {
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 2,
            _ => 0,
        };
        // Help that cannot be written (`>/dev/full`) is a failure.
        return ExitCode::from(if e.print().is_err() {
            code.max(1)
        } else {
            code
        });
    }
    // `acr-health -n NAME`: the subcommand was forgotten; say the right form.
    if args.first().is_some_and(|a| a.starts_with('-')) {
        say(&format!(
            "error: a subcommand is missing: run 'acr-health check {}' (see 'acr-health --help')",
            render::error_line(&args.join(" "))
        ));
        return ExitCode::from(2);
    }
    let rendered = e.render().to_string();
    let mut line = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid usage")
        .to_string();
    if let Some(tip) = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("tip: "))
    {
        line.push_str(&format!(" ({tip})"));
    }
    // clap may quote the password itself (`--password --pw12`): masked
    // where clap quotes it ('…'), whatever its length, so that a short one
    // takes no letters out of the words.
    for password in passwords.iter().filter(|p| !p.is_empty()) {
        line = line.replace(&format!("'{password}'"), "'****'");
    }
    say(&format!(
        "{} (see 'acr-health --help')",
        render::error_line(&line)
    ));
    ExitCode::from(2)
}

/// The arguments with the value of `-p`/`--password` masked, for messages,
/// and the passwords they held; each is remembered as a secret for every
/// other message too.
fn redact_password(args: Vec<String>) -> (Vec<String>, Vec<String>) {
    let (mut out, mut passwords) = (Vec::with_capacity(args.len()), Vec::new());
    let mut mask_next = false;
    for a in args {
        if mask_next {
            crate::secret::remember(&a);
            out.push("****".to_string());
            passwords.push(a);
            mask_next = false;
            continue;
        }
        let (shown, value, next) = password_in(&a);
        if let Some(value) = value {
            crate::secret::remember(value);
            passwords.push(value.to_string());
        }
        mask_next = next;
        out.push(shown);
    }
    (out, passwords)
}

/// One argument as a message may show it: a password in it masked; the
/// password, when the argument holds it; and whether the next argument is
/// the password. `--password`, its abbreviations (`--pass`), `-p`, and `-p`
/// at the end of or inside a cluster of short flags (`-yp`, `-ypSECRET`).
fn password_in(arg: &str) -> (String, Option<&str>, bool) {
    if let Some(long) = arg.strip_prefix("--") {
        let (name, value) = match long.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (long, None),
        };
        if name.len() >= 3 && "password".starts_with(name) {
            return match value {
                Some(v) => (format!("--{name}=****"), Some(v), false),
                None => (arg.to_string(), None, true),
            };
        }
        return (arg.to_string(), None, false);
    }
    let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
        return (arg.to_string(), None, false);
    };
    // Short flags up to the first one that takes a value; the rest of the
    // cluster is that value.
    for (at, flag) in cluster.char_indices() {
        let rest = &cluster[at + flag.len_utf8()..];
        match flag {
            'p' if rest.is_empty() => return (arg.to_string(), None, true),
            'p' => {
                let value = rest.strip_prefix('=').unwrap_or(rest);
                return (format!("-{}p****", &cluster[..at]), Some(value), false);
            }
            'n' | 'o' | 'g' | 'u' => break,
            _ => {}
        }
    }
    (arg.to_string(), None, false)
}
