//! Renderers: one trait, one file per output format.

mod catalogue;
mod json;
mod junit;
mod query;
mod rows;
mod text;

pub(crate) use catalogue::{
    render_check, render_checks, render_code, render_codes_json, render_codes_text,
};
pub(crate) use json::{Json, JsonC};
pub(crate) use junit::Junit;
pub(crate) use query::{Query, QueryFailed};
pub(crate) use rows::{Table, Tsv};
pub(crate) use text::Text;

use crate::report::Report;
use std::borrow::Cow;
use std::io::{self, Write};

/// The report formats (`-o`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Jsonc,
    Tsv,
    Table,
    Junit,
    None,
}

/// How the report is rendered: what the renderers read besides the report.
pub(crate) struct Options {
    pub format: Format,
    pub color: bool,
    /// Text report: error blocks only.
    pub only_errors: bool,
    /// Text report: each check's timing (a person at a terminal reads it).
    pub timings: bool,
    /// Text report: details and timings of every check.
    pub verbose: bool,
    /// `--query`, compiled once.
    pub query: Option<Query>,
}

pub(crate) trait Renderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// `-o none`: only the exit code speaks.
pub(crate) struct Nothing;

impl Renderer for Nothing {
    fn render(&self, _: &Report, _: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// Renders `report` as `options` say and writes it to `out` through the
/// output boundary: every secret the run knows is masked, and no control
/// character a server or tool sent reaches the reader raw (each renderer
/// escapes what its format's rules let through).
pub(crate) fn write_report(
    options: &Options,
    report: &Report,
    out: &mut dyn Write,
) -> io::Result<()> {
    // Masked in the report's own strings, where each is as the run made it
    // (a format's escaping, such as XML's &quot;, would hide a secret from
    // the mask), and only there: never a key, a status, a name of the
    // format or a word of the report, which a secret may happen to spell.
    let report = scrubbed(report);
    match &options.query {
        Some(query) => json::render_query(&report, query, options, out),
        None => renderer(options).render(&report, out),
    }
}

/// `report` with every remembered secret masked in its text.
fn scrubbed(report: &Report) -> Report {
    let mut report = report.clone();
    if let Some(registry) = &mut report.registry {
        registry.name = crate::secret::scrub(&registry.name).into_owned();
        if let Some(ls) = &mut registry.login_server {
            *ls = crate::secret::scrub(ls).into_owned();
        }
    }
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

/// What `render` writes, with the characters its format may carry raw but
/// a terminal would act on (DEL, C1 controls, bidi overrides) replaced by
/// `escape(c)`: `\u…` in JSON, `&#x…;` in XML.
fn escaping(
    out: &mut dyn Write,
    escape: fn(char) -> String,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = Vec::new();
    render(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    out.write_all(escape_hazards(&text, escape).as_bytes())
}

/// `\u00XX`, as JSON (and the one-line formats) escape a character.
fn json_escape(c: char) -> String {
    format!("\\u{:04x}", c as u32)
}

/// `&#xXX;`, as XML escapes a character.
fn xml_escape(c: char) -> String {
    format!("&#x{:x};", c as u32)
}

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
pub(crate) fn error_line(text: &str) -> String {
    crate::untrusted::inline(&crate::secret::scrub(text)).shown()
}

/// The renderer for the chosen format.
fn renderer(options: &Options) -> Box<dyn Renderer> {
    match options.format {
        Format::Text => Box::new(Text {
            color: options.color,
            only_errors: options.only_errors,
            timings: options.timings,
            verbose: options.verbose,
        }),
        Format::Json => Box::new(Json),
        Format::Jsonc => Box::new(JsonC {
            color: options.color,
        }),
        Format::Tsv => Box::new(Tsv),
        Format::Table => Box::new(Table),
        Format::Junit => Box::new(Junit),
        Format::None => Box::new(Nothing),
    }
}

/// One line on stderr; a stderr that cannot be written to (`2>/dev/full`,
/// a closed pipe) loses it rather than ending the run.
pub(crate) fn say(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}
