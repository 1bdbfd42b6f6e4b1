//! The text report: az's lines, so people and scripts used to
//! `az acr check-health` keep working, plus the cause of each error.

use super::Renderer;
use crate::report::{CheckResult, Report, Status};
use anstyle::{AnsiColor, Style};
use std::io::{self, Write};

pub const HEALTH_CHECK_LINK: &str = "https://aka.ms/acr/health-check";

pub struct Text {
    pub color: bool,
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

    fn check(&self, c: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
        self.headline(c, out)?;
        for note in c.notes() {
            writeln!(out, "  {}", self.paint(DIM, &format!("- {note}")))?;
        }
        Ok(())
    }

    fn headline(&self, c: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
        match c.status {
            Status::Pass => writeln!(out, "{}", c.message),
            Status::Warn => {
                let code = c.code.map(|c| format!(" ({c})")).unwrap_or_default();
                writeln!(
                    out,
                    "{}",
                    self.paint(YELLOW, &format!("Warning{code}: {}", c.message))
                )
            }
            Status::Skip => writeln!(
                out,
                "{}",
                self.paint(DIM, &format!("Skipped {}: {}", c.title, c.message))
            ),
            Status::Fail => {
                let code = c.code.map(|c| c.to_string()).unwrap_or_default();
                writeln!(
                    out,
                    "{}",
                    self.paint(RED, &format!("An error occurred: {code}"))
                )?;
                writeln!(out, "{}", c.message)?;
                if let Some(fix) = c.remediation {
                    writeln!(out, "Potential solutions: {fix}")?;
                }
                if let Some(url) = &c.docs_url {
                    writeln!(out, "More information: {url}")?;
                }
                Ok(())
            }
        }
    }
}

impl Renderer for Text {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        for check in &report.checks {
            self.check(check, out)?;
        }
        let s = &report.summary;
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        writeln!(out)?;
        writeln!(
            out,
            "{}{}: {} OK, {}, {}, {} skipped in {} ms",
            if report.interrupted {
                "Interrupted. "
            } else {
                ""
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
