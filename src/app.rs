use crate::checks::CheckId;
use crate::cli::{Cli, Command, Topic};
use crate::config::Config;
use crate::{pipeline, render};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

/// The command: parse → configure → run → render → exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let mut stdout = std::io::stdout().lock();
    let result = match cli.command {
        Command::Explain {
            topic: Topic::Code(code),
        } => {
            let checks: Vec<_> = CheckId::ALL.iter().map(|c| c.spec()).collect();
            render::render_code(code, &checks, &mut stdout).map(|_| 0)
        }
        Command::Explain {
            topic: Topic::Check(id),
        } => render::render_check(id.spec(), &mut stdout).map(|_| 0),
        Command::Checks { json } => {
            let checks: Vec<_> = CheckId::ALL.iter().map(|c| c.spec()).collect();
            render::render_checks(&checks, json, &mut stdout).map(|_| 0)
        }
        Command::Codes { json: true } => render::render_codes_json(&mut stdout).map(|_| 0),
        Command::Codes { json: false } => render::render_codes_text(&mut stdout).map(|_| 0),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "acr-health", &mut stdout);
            Ok(0)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut stdout).map(|_| 0)
        }
        Command::Check(args) => {
            if args.debug {
                crate::debug::enable();
            }
            let (config, output) = match Config::from_args(args.as_ref()) {
                Ok((config, output)) => (Arc::new(config), output),
                Err(why) => {
                    eprintln!("error: {}", render::error_line(&why));
                    return ExitCode::from(2);
                }
            };
            crate::process::adopt_orphans();
            let runtime = runtime();
            let report = runtime.block_on(pipeline::run(config, interrupted()));
            // Nothing left on the runtime may hold the exit: a read of the
            // terminal at the pull prompt cannot be cancelled.
            runtime.shutdown_background();
            render::write_report(&output, &report, &mut stdout).map(|_| report.exit_code())
        }
    };
    let code = match result.and_then(|code| stdout.flush().map(|_| code)) {
        Ok(code) => code,
        // A closed pipe (`| head`) is not worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 1,
        Err(e) => {
            eprintln!("error: cannot write the report: {e}");
            1
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

/// Resolves on Ctrl-C (never, if the signal cannot be watched).
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Help and version go to stdout with exit 0; every other parse error is
/// one line on stderr with exit 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    // Also remembers the password, which clap's own message may quote.
    let args = redact_password(std::env::args().skip(1).collect());
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                2
            } else {
                0
            },
        );
    }
    // `acr-health -n NAME`: the subcommand was forgotten; say the right form.
    if args.first().is_some_and(|a| a.starts_with('-')) {
        eprintln!(
            "error: a subcommand is missing: run 'acr-health check {}' (see 'acr-health --help')",
            render::error_line(&args.join(" "))
        );
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
    eprintln!("{} (see 'acr-health --help')", render::error_line(&line));
    ExitCode::from(2)
}

/// The arguments with the value of `-p`/`--password` masked, for messages;
/// the value is remembered as a secret for every other message too.
fn redact_password(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut mask_next = false;
    for a in args {
        if mask_next {
            crate::secret::remember(&a);
            out.push("****".to_string());
            mask_next = false;
        } else if a == "-p" || a == "--password" {
            mask_next = true;
            out.push(a);
        } else if let Some(value) = a.strip_prefix("--password=") {
            crate::secret::remember(value);
            out.push("--password=****".to_string());
        } else if let Some(value) = a.strip_prefix("-p").filter(|v| !v.is_empty()) {
            crate::secret::remember(value);
            out.push("-p****".to_string());
        } else {
            out.push(a);
        }
    }
    out
}
