//! Usage errors: clap's whole message (what was wrong, the valid values,
//! a "did you mean", the usage line) on one line of stderr, exit 2, with
//! any password given on the command line masked.

use crate::render::{self, say};
use std::process::ExitCode;

/// Help and version go to stdout with exit 0; every other parse error is
/// one line on stderr with exit 2.
pub(crate) fn usage_error(e: clap::Error) -> ExitCode {
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
    let subcommand = args
        .first()
        .map(String::as_str)
        .filter(|a| crate::help::man::page_names().contains(a));
    let mut line = one_line(&e.render().to_string(), subcommand);
    // clap may quote the password itself (`--password --pw12`): masked
    // where clap quotes it ('…'), whatever its length, so that a short one
    // takes no letters out of the words.
    for password in passwords.iter().filter(|p| !p.is_empty()) {
        line = line.replace(&format!("'{password}'"), "'****'");
    }
    say(&render::error_line(&line));
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

/// clap's message on one line: the error, the lines that complete it
/// (arguments not provided, valid values), its tips in parentheses, the
/// usage, and where to read more.
fn one_line(rendered: &str, subcommand: Option<&str>) -> String {
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut line = lines.next().unwrap_or("error: invalid usage").to_string();
    let (mut tips, mut usage) = (Vec::new(), None);
    for l in lines {
        if let Some(tip) = l.strip_prefix("tip: ") {
            tips.push(tip.to_string());
        } else if let Some(u) = l.strip_prefix("Usage: ") {
            usage = Some(u.to_string());
        } else if l.starts_with("For more information") {
            continue;
        } else if line.ends_with(':') {
            line.push(' ');
            line.push_str(l);
        } else {
            let joint = if line.ends_with(']') || l.starts_with('[') {
                " "
            } else {
                ", "
            };
            line.push_str(joint);
            line.push_str(l);
        }
    }
    for tip in tips {
        line.push_str(&format!(" ({tip})"));
    }
    let named = subcommand.map(|s| format!("acr-health {s}"));
    let command = match (&usage, &named) {
        (Some(usage), _) => command_of(usage),
        (None, Some(named)) => named.as_str(),
        (None, None) => "acr-health",
    };
    if let Some(usage) = &usage {
        line.push_str(&format!("; usage: {usage}"));
    }
    line.push_str(&format!(" (see '{command} --help')"));
    line
}

/// The command a usage line is for: its words before the first option or
/// argument (`acr-health explain` of `acr-health explain [OPTIONS] <X>`).
fn command_of(usage: &str) -> &str {
    let end = usage
        .char_indices()
        .find(|&(at, c)| matches!(c, '[' | '<' | '-') && usage[..at].ends_with(' '))
        .map_or(usage.len(), |(at, _)| at);
    usage[..end].trim_end()
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn clap_messages_fold_into_one_line_that_keeps_everything() {
        let invalid = "error: invalid value 'yaml' for '--output <FORMAT>'\n  [possible values: text, json]\n\n  tip: a similar value exists: 'json'\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(invalid, None),
            "error: invalid value 'yaml' for '--output <FORMAT>' [possible values: text, json] \
             (a similar value exists: 'json') (see 'acr-health --help')"
        );
        let missing = "error: the following required arguments were not provided:\n  <CODE>\n  <CHECK>\n\nUsage: acr-health explain <CODE>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(missing, None),
            "error: the following required arguments were not provided: <CODE>, <CHECK>; \
             usage: acr-health explain <CODE> (see 'acr-health explain --help')"
        );
        assert!(one_line(invalid, Some("check")).ends_with("(see 'acr-health check --help')"));
    }
}
