//! The JSON report (schema version 1; see schema/report.v1.json), coloured
//! on a terminal with `-o jsonc`, and `--query` over it.

use super::{escaping, json_escape, Format, Options, Query, QueryFailed, Renderer};
use crate::report::Report;
use anstyle::{AnsiColor, Style};
use serde_json::Value;
use std::io::{self, Write};

pub(crate) struct Json;

impl Renderer for Json {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        escaping(out, json_escape, |out| self.write(report, out))
    }
}

impl Json {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)
    }
}

/// `-o jsonc`: the JSON report, keys and values coloured when colour is on.
pub(crate) struct JsonC {
    pub color: bool,
}

impl Renderer for JsonC {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        escaping(out, json_escape, |out| self.write(report, out))
    }
}

impl JsonC {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let value = serde_json::to_value(report)?;
        write_value(&value, self.color, out)
    }
}

/// Pretty JSON of `value`, coloured as az's jsonc colours it.
fn write_value(value: &Value, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    if !color {
        return writeln!(out, "{text}");
    }
    const KEY: Style = AnsiColor::Blue.on_default();
    const STRING: Style = AnsiColor::Green.on_default();
    const OTHER: Style = AnsiColor::Cyan.on_default();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let (lead, rest) = line.split_at(indent);
        let painted = match rest.split_once("\": ") {
            Some((key, val)) if rest.starts_with('"') => {
                format!("{KEY}{key}\"{KEY:#}: {}", paint_scalar(val, STRING, OTHER))
            }
            _ => paint_scalar(rest, STRING, OTHER),
        };
        writeln!(out, "{lead}{painted}")?;
    }
    Ok(())
}

fn paint_scalar(text: &str, string: Style, other: Style) -> String {
    let (body, comma) = match text.strip_suffix(',') {
        Some(b) => (b, ","),
        None => (text, ""),
    };
    match body.chars().next() {
        Some('"') => format!("{string}{body}{string:#}{comma}"),
        Some('{' | '[' | '}' | ']') | None => text.to_string(),
        Some(_) => format!("{other}{body}{other:#}{comma}"),
    }
}

/// `--query`: the JMESPath expression (checked when the configuration was
/// built) over the JSON report, printed as JSON (nothing with `-o none`).
pub(super) fn render_query(
    report: &Report,
    query: &Query,
    options: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    let data = jmespath::Variable::from_serializable(report).map_err(io::Error::other)?;
    // An expression that fails on the report (`length(healthy)`) is bad
    // input, said in one line.
    let found = query.0.search(data).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            QueryFailed(e.reason.to_string()),
        )
    })?;
    let value = serde_json::to_value(&*found)?;
    let color = options.color && options.format == Format::Jsonc;
    match options.format {
        Format::None => Ok(()),
        _ => escaping(out, json_escape, |out| write_value(&value, color, out)),
    }
}
