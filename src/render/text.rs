//! The text report: az's lines, so people and scripts used to
//! `az acr check-health` keep working, plus the cause of each error.

use super::{detail_text, terminal_text, Renderer};
use crate::report::{Check, CutShort, Report, Status};
use anstyle::{AnsiColor, Style};
use std::io::{self, Write};

pub(super) const HEALTH_CHECK_LINK: &str = "https://aka.ms/acr/health-check";

/// Width the explanatory lines are wrapped to, so a report reads well in an
/// 80-column terminal or CI log.
const WIDTH: usize = 80;

/// Greedy word wrap of one paragraph; a word longer than the width (a URL)
/// stays whole on its own line. Continuation lines get `indent`.
fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    for (n, paragraph) in text.lines().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        // The paragraph's own indentation (a note's "  - ") stays.
        let body = paragraph.trim_start_matches(' ');
        let lead = &paragraph[..paragraph.len() - body.len()];
        out.push_str(lead);
        let mut line_len = lead.len();
        let mut first = true;
        for word in body.split(' ') {
            let w = word.chars().count();
            if !first && line_len + 1 + w > WIDTH {
                out.push('\n');
                out.push_str(indent);
                line_len = indent.len();
            } else if !first {
                out.push(' ');
                line_len += 1;
            }
            out.push_str(word);
            line_len += w;
            first = false;
        }
    }
    out
}

pub(crate) struct Text {
    pub color: bool,
    /// Only the error blocks.
    pub only_errors: bool,
    /// Each check's duration after its line.
    pub timings: bool,
    /// Each check's details under its line.
    pub verbose: bool,
}

const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().dimmed();

impl Text {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    fn check(&self, c: &Check, out: &mut dyn Write) -> io::Result<()> {
        if self.only_errors && c.status != Status::Fail {
            return Ok(());
        }
        self.headline(c, out)?;
        for note in &c.notes {
            let note = wrap(&format!("  - {}", terminal_text(note)), "    ");
            writeln!(out, "{}", self.paint(DIM, &note))?;
        }
        if self.verbose {
            for (k, v) in c.details.iter() {
                // One value, one line: nothing in it may start a line of its own.
                let v = match v {
                    serde_json::Value::String(s) => detail_text(s),
                    other => detail_text(&other.to_string()),
                };
                writeln!(out, "  {}", self.paint(DIM, &format!("{k}: {v}")))?;
            }
        }
        Ok(())
    }

    /// ` (12 ms)`, dimmed, for the end of a check's first line.
    fn timing(&self, c: &Check) -> String {
        if self.timings && c.status != Status::Skip {
            format!(" {}", self.paint(DIM, &format!("({} ms)", c.duration_ms)))
        } else {
            String::new()
        }
    }

    fn headline(&self, c: &Check, out: &mut dyn Write) -> io::Result<()> {
        let message = terminal_text(&c.message);
        match c.status {
            Status::Pass => writeln!(out, "{message}{}", self.timing(c)),
            Status::Warn => {
                let code = c.code.map(|c| format!(" ({c})")).unwrap_or_default();
                let text = wrap(&format!("Warning{code}: {message}"), "  ");
                writeln!(out, "{}{}", self.paint(YELLOW, &text), self.timing(c))
            }
            Status::Skip => {
                let text = wrap(&format!("Skipped {}: {message}", c.title), "  ");
                writeln!(out, "{}", self.paint(DIM, &text))
            }
            Status::Fail => {
                let code = c.code.map(|c| c.to_string()).unwrap_or_default();
                writeln!(
                    out,
                    "{}{}",
                    self.paint(RED, &format!("An error occurred: {code}")),
                    self.timing(c)
                )?;
                writeln!(out, "{}", wrap(&message, "  "))?;
                if let Some(fix) = c.remediation {
                    writeln!(
                        out,
                        "{}",
                        wrap(&format!("Potential solutions: {fix}"), "  ")
                    )?;
                }
                if let Some(code) = c.code {
                    writeln!(out, "More information: {}", code.more_information())?;
                }
                Ok(())
            }
        }
    }
}

/// az's line for a run without a registry, and for Cloud Shell.
const NO_REGISTRY: &str = "Registry name must be provided to check connectivity.";
const CLOUD_SHELL: &str = "Environment checks are not supported in Azure Cloud Shell.";

impl Text {
    /// Every check that ran, with az's lines where az says something
    /// instead: one line for the environment checks Cloud Shell skips, and
    /// the line saying no registry was named, where the registry checks go.
    fn checks(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let quiet = self.only_errors;
        let (mut cloud_shell_said, mut no_registry_said) = (false, false);
        for check in report.checks.iter().filter(|c| !c.stopped) {
            let environment = check.id.is_environment();
            if !quiet
                && report.registry.is_none()
                && !no_registry_said
                && !matches!(check.id.group(), "docker" | "cli")
            {
                writeln!(out, "{NO_REGISTRY}")?;
                no_registry_said = true;
            }
            if environment
                && check.status == Status::Skip
                && check.message.contains("Azure Cloud Shell")
            {
                if !quiet && !cloud_shell_said {
                    writeln!(out, "{CLOUD_SHELL}")?;
                }
                cloud_shell_said = true;
                continue;
            }
            self.check(check, out)?;
        }
        if !quiet && report.registry.is_none() && !no_registry_said {
            writeln!(out, "{NO_REGISTRY}")?;
        }
        Ok(())
    }
}

impl Renderer for Text {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        // As az with --only-show-errors: a healthy run says nothing.
        if self.only_errors && report.healthy {
            return Ok(());
        }
        self.checks(report, out)?;
        let stopped = report.checks.iter().filter(|c| c.stopped).count();
        if stopped > 0 {
            // az's last words when it stops at an error (the reference's
            // page exists only for the codes it documents).
            if let Some(code) = first_failure(report).and_then(|c| c.code) {
                match code.info().documented {
                    true => writeln!(
                        out,
                        "Please refer to https://aka.ms/acr/errors#{} for more information.",
                        code.to_string().to_ascii_lowercase()
                    )?,
                    false => {
                        writeln!(out, "Run 'acr-health explain {code}' for more information.")?
                    }
                }
            }
        }
        if stopped > 0 && !self.only_errors {
            let text = how_to_go_on(report, stopped);
            writeln!(out, "{}", self.paint(DIM, &wrap(&text, "  ")))?;
        }
        let s = &report.summary;
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        writeln!(out)?;
        writeln!(
            out,
            "{}{}: {} OK, {}, {}, {} skipped in {} ms",
            match report.cut_short {
                Some(CutShort::Interrupted) => "Interrupted. ",
                Some(CutShort::Terminated) => "Terminated. ",
                Some(CutShort::HungUp) => "Hung up. ",
                Some(CutShort::Deadline) => "Deadline exceeded. ",
                None => "",
            },
            if report.healthy {
                "Healthy"
            } else {
                "Unhealthy"
            },
            s.pass,
            plural(s.fail, "error"),
            plural(s.warn, "warning"),
            s.skip,
            report.duration_ms
        )?;
        writeln!(
            out,
            "Please refer to {HEALTH_CHECK_LINK} for more information."
        )
    }
}

fn first_failure(report: &Report) -> Option<&Check> {
    report.checks.iter().find(|c| c.status == Status::Fail)
}

/// What a stopped run says about the checks it left out, and how to see
/// them: every one, or all but the local tool that failed (a stopped
/// docker daemon, no helm), so that the registry is still looked at.
fn how_to_go_on(report: &Report, stopped: usize) -> String {
    let mut text = format!(
        "Stopped after the first error: {stopped} more check{} not shown. Run with \
            --ignore-errors to run and see every check",
        if stopped == 1 { "" } else { "s" }
    );
    let group = first_failure(report)
        .filter(|c| c.id.is_environment())
        .map(|c| c.id.group());
    match group {
        Some(group) => text.push_str(&format!(", or with --skip {group} to leave {group} out.")),
        None => text.push('.'),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_words_and_keeps_long_words_whole() {
        let text = "word ".repeat(30);
        for line in wrap(text.trim(), "  ").lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        let url = format!("see https://example.com/{}", "x".repeat(100));
        let wrapped = wrap(&url, "");
        assert_eq!(wrapped.lines().nth(1).unwrap(), &url[4..]);
        assert_eq!(wrap("a\nb", ""), "a\nb");
        assert_eq!(wrap("  - a note", "    "), "  - a note");
    }
}
