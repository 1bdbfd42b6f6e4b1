//! JUnit XML: one test case per check, for CI systems that show test reports.

use super::{escaping, xml_escape, Renderer};
use crate::report::{Report, Status};
use std::io::{self, Write};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A terminal would act on these: keep them as references.
            '\r' => out.push_str("&#xD;"),
            '\t' => out.push_str("&#x9;"),
            // Characters XML 1.0 cannot carry at all, not even as references.
            c if (c as u32) < 0x20 && c != '\n' => out.push('\u{fffd}'),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

pub(crate) struct Junit;

impl Renderer for Junit {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        escaping(out, xml_escape, |out| self.write(report, out))
    }
}

impl Junit {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let s = &report.summary;
        let total = report.checks.len();
        let secs = report.duration_ms as f64 / 1000.0;
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            concat!(
                r#"<testsuites name="acr-health" tests="{}" failures="{}" "#,
                r#"skipped="{}" time="{:.3}">"#
            ),
            total, s.fail, s.skip, secs
        )?;
        let suite = match &report.registry {
            Some(r) => format!("acr-health {}", r.name),
            None => "acr-health".to_string(),
        };
        writeln!(
            out,
            concat!(
                r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" "#,
                r#"skipped="{}" time="{:.3}">"#
            ),
            escape(&suite),
            total,
            s.fail,
            s.skip,
            secs
        )?;
        for c in &report.checks {
            let id = c.id.key;
            let class = format!("acr-health.{}", c.id.group());
            let time = c.duration_ms as f64 / 1000.0;
            write!(
                out,
                r#"    <testcase classname="{}" name="{}" time="{time:.3}">"#,
                escape(&class),
                escape(id)
            )?;
            match c.status {
                Status::Pass => {}
                Status::Fail => {
                    let code = c.code.map(|c| c.to_string()).unwrap_or_default();
                    let mut body = c.message.clone();
                    if let Some(fix) = c.remediation {
                        body.push_str(&format!("\nPotential solutions: {fix}"));
                    }
                    if let Some(code) = c.code {
                        let more = code.more_information();
                        body.push_str(&format!("\nMore information: {more}"));
                    }
                    write!(
                        out,
                        r#"<failure message="{}" type="{}">{}</failure>"#,
                        escape(&code),
                        escape(&code),
                        escape(&body)
                    )?;
                }
                Status::Skip => write!(out, r#"<skipped message="{}"/>"#, escape(&c.message))?,
                Status::Warn => write!(
                    out,
                    "<system-out>Warning: {}</system-out>",
                    escape(&c.message)
                )?,
            }
            writeln!(out, "</testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
        writeln!(out, "</testsuites>")
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(escape("a\u{1}b\nc"), "a\u{fffd}b\nc");
        assert_eq!(escape("\u{fffe}x\u{ffff}"), "\u{fffd}x\u{fffd}");
    }
}
