//! `-o tsv` and `-o table`: one line per check (status, id, code,
//! duration), as az users expect from those formats: tab-separated for
//! `cut` and `awk`, or aligned under a header for people.

use super::{escaping, json_escape, Renderer};
use crate::report::{Report, Status};
use std::io::{self, Write};

fn status(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Warn => "warn",
        Status::Skip => "skip",
    }
}

fn rows(report: &Report) -> Vec<[String; 4]> {
    report
        .checks
        .iter()
        .map(|c| {
            [
                status(c.status).to_string(),
                c.id.key.to_string(),
                c.code.map(|code| code.to_string()).unwrap_or_default(),
                c.duration_ms.to_string(),
            ]
        })
        .collect()
}

pub(crate) struct Tsv;

impl Renderer for Tsv {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        escaping(out, json_escape, |out| self.write(report, out))
    }
}

impl Tsv {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        for row in rows(report) {
            writeln!(out, "{}", row.join("\t"))?;
        }
        Ok(())
    }
}

pub(crate) struct Table;

impl Renderer for Table {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        escaping(out, json_escape, |out| self.write(report, out))
    }
}

impl Table {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let header = ["Status", "Check", "Code", "DurationMs"].map(str::to_string);
        let rows = rows(report);
        let mut widths = header.clone().map(|h| h.len());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |cells: &[String; 4]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        writeln!(out, "{}", line(&header))?;
        writeln!(out, "{}", line(&widths.map(|w| "-".repeat(w))))?;
        for row in &rows {
            writeln!(out, "{}", line(row))?;
        }
        Ok(())
    }
}
