//! The JSON report (schema version 1; see schema/report.v1.json).

use super::Renderer;
use crate::report::Report;
use std::io::{self, Write};

pub struct Json;

impl Renderer for Json {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)
    }
}
