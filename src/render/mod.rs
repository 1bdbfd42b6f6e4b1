//! Renderers: one trait, one file per output format.

mod catalogue;
mod json;
mod junit;
mod rows;
mod text;

pub use catalogue::{
    render_check, render_checks, render_code, render_codes_json, render_codes_text,
};
pub use json::{Json, JsonC};
pub use junit::Junit;
pub use rows::{Table, Tsv};
pub use text::Text;

use crate::config::{Config, OutputFormat};
use crate::report::Report;
use std::borrow::Cow;
use std::io::{self, Write};

pub trait Renderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// `-o none`: only the exit code speaks.
pub struct Nothing;

impl Renderer for Nothing {
    fn render(&self, _: &Report, _: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// Renders `report` in the configured format and writes it to `out` through
/// the output boundary: every secret the run knows is masked, and no control
/// character a server or tool sent reaches the reader raw (the text renderer
/// escapes each field; JSON and JUnit escape what their own rules let through).
pub fn write_report(config: &Config, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // Masked in the report first, where each string is as the run made it
    // (a format's own escaping, such as XML's &quot;, would hide a secret
    // from the mask), then once more in what was rendered.
    let report = scrubbed(report);
    let mut buf = Vec::new();
    match &config.query {
        Some(query) => json::render_query(&report, query, config, &mut buf)?,
        None => for_config(config).render(&report, &mut buf)?,
    }
    let text = String::from_utf8_lossy(&buf);
    let text = crate::secret::scrub(&text);
    let text = match config.format {
        OutputFormat::Junit => escape_hazards(&text, |c| format!("&#x{:x};", c as u32)),
        // JSON, and whatever a query printed, and the one-line formats.
        _ if config.query.is_some() || config.format != OutputFormat::Text => {
            escape_hazards(&text, |c| format!("\\u{:04x}", c as u32))
        }
        _ => text,
    };
    out.write_all(text.as_bytes())
}

/// `report` with every remembered secret masked in its text.
fn scrubbed(report: &Report) -> Report {
    let mut report = report.clone();
    for check in &mut report.checks {
        check.message = crate::secret::scrub(&check.message).into_owned();
        for note in &mut check.notes {
            *note = crate::secret::scrub(note).into_owned();
        }
        for value in check.details.values_mut() {
            scrub_value(value);
        }
    }
    report
}

fn scrub_value(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = crate::secret::scrub(s).into_owned(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_value),
        serde_json::Value::Object(map) => map.values_mut().for_each(scrub_value),
        _ => {}
    }
}

/// Replaces the characters JSON and XML may carry raw but a terminal would
/// act on (DEL, C1 controls, bidi overrides) with `escape(c)`.
fn escape_hazards<'a>(text: &Cow<'a, str>, escape: impl Fn(char) -> String) -> Cow<'a, str> {
    let hazard = |c: char| (c as u32) >= 0x7f && crate::untrusted::is_hazard(c);
    if !text.chars().any(hazard) {
        return text.clone();
    }
    Cow::Owned(
        text.chars()
            .map(|c| if hazard(c) { escape(c) } else { c.to_string() })
            .collect(),
    )
}

/// A piece of report text as the terminal may show it: secrets masked,
/// control characters (but line breaks) escaped.
pub(crate) fn terminal_text(text: &str) -> String {
    crate::untrusted::for_terminal(&crate::secret::scrub(text)).into_owned()
}

/// A detail value on the terminal: one line, secrets masked, every control
/// character (line breaks too) escaped.
pub(crate) fn detail_text(text: &str) -> String {
    crate::untrusted::inline(&crate::secret::scrub(text)).shown()
}

/// A one-line message for stderr: secrets masked, every control character
/// (line breaks included) escaped.
pub fn error_line(text: &str) -> String {
    crate::untrusted::inline(&crate::secret::scrub(text)).shown()
}

/// The renderer for the configured output format.
pub fn for_config(config: &Config) -> Box<dyn Renderer> {
    match config.format {
        OutputFormat::Text => Box::new(Text {
            color: config.color,
            only_errors: config.only_errors,
            // On a terminal a person reads it: timings help; scripts get az's lines.
            timings: config.verbose || config.terminal,
            verbose: config.verbose,
        }),
        OutputFormat::Json => Box::new(Json),
        OutputFormat::Jsonc => Box::new(JsonC {
            color: config.color,
        }),
        OutputFormat::Tsv => Box::new(Tsv),
        OutputFormat::Table => Box::new(Table),
        OutputFormat::Junit => Box::new(Junit),
        OutputFormat::None => Box::new(Nothing),
    }
}
